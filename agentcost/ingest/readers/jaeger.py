"""Jaeger JSON: the query API's `data` list of traces, each with its spans and processes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.ingest.readers.base import Head, ReadContext, Reader
from agentcost.ingest.spans.model import Span
from agentcost.ingest.spans.values import BadSpan, guarded, id_text

if TYPE_CHECKING:
    import polars as pl


def recognises(head: Head) -> bool:
    if "data" in head.cut_keys:  # a document too big to parse from its head
        return b'"traceID"' in head.data and b'"spans"' in head.data
    data = (head.record or {}).get("data")
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) \
        and "spans" in data[0]


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import read_document

    read_document(context.whole_document(stream), context, READER.label, spans)
    return []


def spans(document: Any) -> Iterator[Span | BadSpan]:
    number = 0
    for trace in document.get("data") or []:
        processes = trace.get("processes") or {}
        for raw in trace.get("spans") or []:
            number += 1
            yield guarded(number, _span, raw, trace, processes, number)


def _span(raw: dict[str, Any], trace: dict[str, Any], processes: dict[Any, Any],
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
        trace_id=id_text(raw.get("traceID") or trace.get("traceID"), 32),
        span_id=id_text(raw.get("spanID"), 16),
        parent_span_id=id_text(parent, 16),
        name=raw.get("operationName"),
        start_ns=None if start_us is None else int(start_us) * 1000,
        end_ns=None if start_us is None or duration_us is None
        else (int(start_us) + int(duration_us)) * 1000,
        attributes=tags,
        resource=resource,
        scope=tags.get("otel.scope.name") or tags.get("otel.library.name"),
        source_line=number,
    )


READER = Reader("jaeger", "Jaeger JSON", recognises, read,
                evidence=lambda head: "traces with spans under data",
                markers=("data",))
