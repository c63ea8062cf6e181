"""Span lists: Phoenix / OpenInference exports and OTel SDK span dumps (OTel-Python dicts with
decimal ids, OTel-JS ReadableSpan), as a JSON list, JSON Lines, or a document with `data`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.readers.base import Head, ReadContext, Reader, is_json_lines
from agentcost.ingest.spans.model import Span, flatten
from agentcost.ingest.spans.values import BadSpan, ContainerError, guarded, id_text, nanoseconds

if TYPE_CHECKING:
    import polars as pl

SPAN_LIST_KEYS = frozenset({"context", "spanContext", "span_kind"})


def recognises(head: Head) -> bool:
    if head.is_list:
        return head.list_item is None or bool(set(head.list_item) & SPAN_LIST_KEYS)
    return bool(head.record_keys() & SPAN_LIST_KEYS)


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import read_document, steps_of_spans

    data = stream.read()
    if not is_json_lines(data):
        return [read_document(data, context, READER.label, document_spans)]
    return [steps_of_spans(_json_lines_spans(data, context), context)]


def document_spans(document: Any) -> Iterator[Span | BadSpan]:
    items = document if isinstance(document, list) else document.get("data") or [document]
    for number, item in enumerate(items, start=1):
        yield guarded(number, listed_span, item, number)


def _json_lines_spans(data: bytes, context: ReadContext) -> list[Span]:
    """One span a line; a line that is not one is named and skipped, the lines around it kept."""
    accounting, display = context.accounting, context.display
    lines = data.split(b"\n")
    unterminated = not data.endswith(b"\n")
    if not unterminated:
        lines.pop()  # the empty text after the final newline
    spans: list[Span] = []
    for number, raw in enumerate(lines, start=1):
        accounting.lines_read += 1
        if not raw.strip():
            accounting.lines_blank += 1
            continue
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            cut_off = unterminated and number == len(lines)
            accounting.skip(TRUNCATED if cut_off else "not valid JSON", display, [number])
            continue
        span = guarded(number, listed_span, record, number)
        if isinstance(span, BadSpan):
            accounting.skip(f"not a valid {READER.label} record: {span.reason}", display,
                            [number])
            continue
        accounting.lines_used += 1
        spans.append(span)
    return spans


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
    scope = raw.get("instrumentationLibrary") or raw.get("instrumentationScope")
    return Span(
        trace_id=id_text(context.get("trace_id") or context.get("traceId"), 32),
        span_id=id_text(context.get("span_id") or context.get("spanId"), 16),
        parent_span_id=id_text(parent_id, 16),
        name=raw.get("name"),
        start_ns=nanoseconds(raw.get("start_time") or raw.get("startTime")),
        end_ns=nanoseconds(raw.get("end_time") or raw.get("endTime")),
        attributes=attributes,
        resource=flatten(resource) if isinstance(resource, dict) else {},
        scope=scope.get("name") if isinstance(scope, dict) else None,
        source_line=number,
    )


READER = Reader("spans", "span list (Phoenix / OpenInference / OTel SDK)", recognises, read,
                markers=("context", "spanContext", "span_kind"))
