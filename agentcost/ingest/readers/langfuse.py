"""Langfuse trace export: a trace and its observations. Usage comes from `usageDetails`, whose
`input` Langfuse has already stripped of cached tokens; the producer's cost from `costDetails`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.ingest.readers.base import Head, ReadContext, Reader
from agentcost.ingest.spans.model import Span, flatten
from agentcost.ingest.spans.values import BadSpan, guarded, nanoseconds

if TYPE_CHECKING:
    import polars as pl

# conventions.TOOL_NAME, which readers do not import: it would load polars before it is needed.
TOOL_NAMES = ("gen_ai.tool.name", "tool.name", "ai.toolCall.name")


def recognises(head: Head) -> bool:
    record = head.record or {}
    trace = record.get("trace", False)  # null: a trace exported without its own fields
    return ((trace is None or isinstance(trace, dict))
            and isinstance(record.get("observations"), list)) \
        or {"observations", "trace"} <= head.cut_keys


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import read_document

    read_document(context.whole_document(stream), context, READER.label, spans)
    return []


def spans(document: Any) -> Iterator[Span | BadSpan]:
    trace = document.get("trace") or {}
    for number, raw in enumerate(document.get("observations") or [], start=1):
        yield guarded(number, _span, raw, trace, number)


def _span(raw: dict[str, Any], trace: dict[str, Any], number: int) -> Span:
    metadata = raw.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except (ValueError, RecursionError):
            metadata = {}
    attributes = flatten((metadata or {}).get("attributes") or {})
    attributes.update(usage(raw.get("usageDetails") or {}))
    if not raw.get("usageDetails") and raw.get("type") == "GENERATION":
        # No usage recorded: keep the content, so that tokens can be estimated from it.
        for side in ("input", "output"):
            if raw.get(side) is not None:
                attributes[f"langfuse.{side}"] = raw[side]
    if raw.get("input") is not None and _may_be_tool_call(raw.get("type"), attributes):
        attributes["langfuse.tool.input"] = raw["input"]  # a tool call's input: its arguments
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


def _may_be_tool_call(kind: Any, attributes: dict[str, Any]) -> bool:
    """A TOOL observation, or a SPAN that has a tool call's attributes (exports from before
    Langfuse had a TOOL type). Only a first sieve, so that the input of other SPANs (often a
    whole conversation) is not kept: the conventions decide which spans are tool calls."""
    if kind != "SPAN":
        return bool(kind == "TOOL")
    return bool(attributes.get("gen_ai.operation.name") == "execute_tool"
                or str(attributes.get("openinference.span.kind")).upper() == "TOOL"
                or attributes.get("traceloop.span.kind") == "tool"
                or any(key in attributes for key in TOOL_NAMES))


def usage(details: dict[str, Any]) -> dict[str, Any]:
    """Langfuse usage details to fixed keys. Its keys vary by SDK (`prompt_details.cache_read`,
    `input_cached_tokens`, `cache_creation_input_tokens`...): cache reads and writes are summed
    by name; reasoning details are part of `output` and are not added again."""
    found: dict[str, Any] = {}
    if details.get("input") is not None:
        found["langfuse.usage.input"] = details["input"]
    if details.get("output") is not None:
        found["langfuse.usage.output"] = details["output"]
    reads = [v for k, v in details.items() if "cache_read" in k or "cached" in k]
    writes = [v for k, v in details.items() if "cache_creation" in k or "cache_write" in k]
    if reads:
        found["langfuse.usage.cache_read"] = sum(int(v or 0) for v in reads)
    if writes:
        found["langfuse.usage.cache_write"] = sum(int(v or 0) for v in writes)
    return found


READER = Reader("langfuse", "Langfuse trace export", recognises, read,
                evidence=lambda head: "a trace and its observations",
                markers=("observations", "trace"))
