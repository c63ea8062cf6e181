"""Trace containers read into spans in Python: Jaeger JSON, OTel SDK span dumps (Python dicts,
JS ReadableSpan), Phoenix / OpenInference span lists, Langfuse exports, and a bare attribute map.
(OTLP/JSON, which can be gigabytes, has its own reader: otlp_lines.py.)

Facts behind each shape: ../shared/reference/trace-formats.md section 1.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentcost.ingest.spans.model import Span, flatten

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class ContainerError(ValueError):
    """A record that is not the shape its container promises."""


# What a span of the wrong shape raises while it is read: a value of another type than the
# format promises (a number where an object goes, text where a number goes, inf as a time).
SPAN_ERRORS = (ContainerError, TypeError, AttributeError, KeyError, ValueError, OverflowError)


@dataclass(frozen=True)
class BadSpan:
    """A span of a document that could not be read: skipped and named, the rest kept."""

    number: int
    reason: str


def guarded(number: int, read: Callable[..., Span], *args: Any) -> Span | BadSpan:
    try:
        return read(*args)
    except SPAN_ERRORS as error:
        return BadSpan(number, f"{type(error).__name__}: {error}")


# ---- ids and times -----------------------------------------------------------------------


def span_id_text(value: Any, hex_length: int) -> str | None:
    """Ids as lowercase hex: hex as is, base64 (some OTLP exporters) decoded, decimal integers
    (OTel-Python dicts) and 0x-prefixed text converted."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ContainerError(f"id {value!r} is not an id")
    if isinstance(value, int):
        return f"{value:0{hex_length}x}"
    text = str(value)
    if text.startswith(("0x", "0X")):
        return text[2:].lower().rjust(hex_length, "0")
    if len(text) == hex_length and set(text) <= HEX_DIGITS:
        return text.lower()
    if len(text) in (12, 16, 24) and not set(text) <= HEX_DIGITS:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return text
        if len(raw) * 2 == hex_length:
            return raw.hex()
    return text


def nanoseconds(value: Any) -> int | None:
    """Times as integer nanoseconds since the epoch: from integer or numeric-text nanoseconds,
    an OTel-JS [seconds, nanoseconds] pair, or ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, list) and len(value) == 2:
        return int(value[0]) * 1_000_000_000 + int(value[1])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ContainerError(f"time {text!r} is not a time") from error
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


# ---- Jaeger ------------------------------------------------------------------------------


def jaeger_spans(document: dict[str, Any]) -> Iterator[Span | BadSpan]:
    number = 0
    for trace in document.get("data") or []:
        processes = trace.get("processes") or {}
        for raw in trace.get("spans") or []:
            number += 1
            yield guarded(number, _jaeger_span, raw, trace, processes, number)


def _jaeger_span(raw: dict[str, Any], trace: dict[str, Any], processes: dict[Any, Any],
                 number: int) -> Span:
    parent = next((ref.get("spanID") for ref in raw.get("references") or []
                   if ref.get("refType") == "CHILD_OF"), None)
    tags = {tag["key"]: tag.get("value") for tag in raw.get("tags") or []}
    process = processes.get(raw.get("processID"), {})
    resource = {tag["key"]: tag.get("value") for tag in process.get("tags") or []}
    if process.get("serviceName"):
        resource["service.name"] = process["serviceName"]
    start_us = raw.get("startTime")
    duration_us = raw.get("duration")
    return Span(
        trace_id=span_id_text(raw.get("traceID") or trace.get("traceID"), 32),
        span_id=span_id_text(raw.get("spanID"), 16),
        parent_span_id=span_id_text(parent, 16),
        name=raw.get("operationName"),
        start_ns=None if start_us is None else int(start_us) * 1000,
        end_ns=None if start_us is None or duration_us is None
        else (int(start_us) + int(duration_us)) * 1000,
        attributes=tags,
        resource=resource,
        scope=tags.get("otel.scope.name") or tags.get("otel.library.name"),
        source_line=number,
    )


# ---- span lists: Phoenix / OpenInference, OTel-Python dicts, OTel-JS ReadableSpan ---------


def listed_span(raw: dict[str, Any], number: int) -> Span:
    """One span of a JSON list or JSONL file, in any of the SDK / Phoenix dump shapes."""
    if not isinstance(raw, dict):
        raise ContainerError("span is not a JSON object")
    context = raw.get("context") or raw.get("spanContext") or {}
    parent = raw.get("parent")
    parent_id = (raw.get("parent_id") or raw.get("parentSpanId")
                 or (parent.get("span_id") if isinstance(parent, dict) else parent))
    attributes = flatten(raw.get("attributes") or {})
    kind_hint = raw.get("span_kind")
    if kind_hint and "openinference.span.kind" not in attributes:
        attributes["openinference.span.kind"] = kind_hint
    resource = raw.get("resource") or {}
    if isinstance(resource, dict) and "attributes" in resource:
        resource = resource["attributes"]
    return Span(
        trace_id=span_id_text(context.get("trace_id") or context.get("traceId"), 32),
        span_id=span_id_text(context.get("span_id") or context.get("spanId"), 16),
        parent_span_id=span_id_text(parent_id, 16),
        name=raw.get("name"),
        start_ns=nanoseconds(raw.get("start_time") or raw.get("startTime")),
        end_ns=nanoseconds(raw.get("end_time") or raw.get("endTime")),
        attributes=attributes,
        resource=flatten(resource) if isinstance(resource, dict) else {},
        scope=(raw.get("instrumentationLibrary") or raw.get("instrumentationScope") or {}).get(
            "name") if isinstance(raw.get("instrumentationLibrary")
                                  or raw.get("instrumentationScope"), dict) else None,
        source_line=number,
    )


# ---- Langfuse ----------------------------------------------------------------------------


def langfuse_spans(document: dict[str, Any]) -> Iterator[Span | BadSpan]:
    """Observations of a Langfuse trace export. Usage comes from `usageDetails`, whose `input`
    Langfuse has already stripped of cached tokens; the producer's cost from `costDetails`."""
    trace = document.get("trace") or {}
    for number, raw in enumerate(document.get("observations") or [], start=1):
        yield guarded(number, _langfuse_span, raw, trace, number)


def _langfuse_span(raw: dict[str, Any], trace: dict[str, Any], number: int) -> Span:
    metadata = raw.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except (ValueError, RecursionError):
            metadata = {}
    attributes = flatten((metadata or {}).get("attributes") or {})
    attributes.update(langfuse_usage(raw.get("usageDetails") or {}))
    if not raw.get("usageDetails") and raw.get("type") == "GENERATION":
        # No usage recorded: keep the content, so that tokens can be estimated from it.
        for side in ("input", "output"):
            if raw.get(side) is not None:
                attributes[f"langfuse.{side}"] = raw[side]
    cost = (raw.get("costDetails") or {}).get("total")
    if cost is not None:
        attributes["langfuse.cost.total"] = cost
    if raw.get("model"):
        attributes["langfuse.model"] = raw["model"]
    if trace.get("userId"):
        attributes.setdefault("user.id", trace["userId"])
    if trace.get("sessionId"):
        attributes.setdefault("session.id", trace["sessionId"])
    return Span(
        trace_id=raw.get("traceId") or trace.get("id"),
        span_id=raw.get("id"),
        parent_span_id=raw.get("parentObservationId"),
        name=raw.get("name"),
        start_ns=nanoseconds(raw.get("startTime")),
        end_ns=nanoseconds(raw.get("endTime")),
        attributes=attributes,
        resource=flatten((metadata or {}).get("resourceAttributes") or {}),
        container_kind=raw.get("type"),
        source_line=number,
    )


def langfuse_usage(details: dict[str, Any]) -> dict[str, Any]:
    """Langfuse usage details to fixed keys. Its keys vary by SDK (`prompt_details.cache_read`,
    `input_cached_tokens`, `cache_creation_input_tokens`...): cache reads and writes are summed
    by name; reasoning details are part of `output` and are not added again."""
    usage: dict[str, Any] = {}
    if details.get("input") is not None:
        usage["langfuse.usage.input"] = details["input"]
    if details.get("output") is not None:
        usage["langfuse.usage.output"] = details["output"]
    reads = [v for k, v in details.items() if "cache_read" in k or "cached" in k]
    writes = [v for k, v in details.items() if "cache_creation" in k or "cache_write" in k]
    if reads:
        usage["langfuse.usage.cache_read"] = sum(int(v or 0) for v in reads)
    if writes:
        usage["langfuse.usage.cache_write"] = sum(int(v or 0) for v in writes)
    return usage


def attribute_map_span(document: dict[str, Any], name: str) -> Span:
    """A file holding one span's attributes as a flat object (no ids, no times)."""
    return Span(trace_id=None, span_id=None, parent_span_id=None, name=name, start_ns=None,
                end_ns=None, attributes=flatten(document), source_line=1)
