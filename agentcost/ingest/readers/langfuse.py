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


def recognises(head: Head) -> bool:
    record = head.record or {}
    return (isinstance(record.get("trace"), dict) and isinstance(record.get("observations"), list)
            ) or {"observations", "trace"} <= head.cut_keys


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import read_document

    read_document(stream.read(), context, READER.label, spans)
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
                markers=("observations", "trace"))
