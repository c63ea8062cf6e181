"""Span lists: Phoenix / OpenInference exports and OTel SDK span dumps (OTel-Python dicts with
decimal ids, OTel-JS ReadableSpan), as a JSON list, JSON Lines, or a document with `data`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.readers.base import Head, ReadContext, Reader
from agentcost.ingest.spans.model import Span, flatten
from agentcost.ingest.spans.values import BadSpan, ContainerError, guarded, id_text, nanoseconds

if TYPE_CHECKING:
    import polars as pl

SPAN_LIST_KEYS = frozenset({"context", "spanContext", "span_kind"})
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)
# Where a document holds its spans, beside other keys (a run's output, metadata...).
CONTAINER_KEYS = ("spans", "data", "traces")


def recognises(head: Head) -> bool:
    """Span records by their structure (see looks_like_span): a native step with a `context`
    field of its own is not one."""
    if head.is_list:
        return head.list_item is None or looks_like_span(head.list_item)
    if head.record is not None:
        return looks_like_span(head.record) or _contained(head.record) is not None
    return bool(head.cut_keys & SPAN_LIST_KEYS)


def looks_like_span(record: Any) -> bool:
    """A span context (an object, its ids possibly missing) or a span kind, and no task id: a
    native step always has one."""
    if not isinstance(record, dict) or set(record) & TASK_ID_NAMES:
        return False
    return any(isinstance(record.get(key), dict) for key in ("context", "spanContext")) \
        or "span_kind" in record


def _contained(document: dict[str, Any]) -> str | None:
    """The key under which a document holds a list of spans, if it does."""
    for key in CONTAINER_KEYS:
        items = document.get(key)
        if isinstance(items, list) and items and looks_like_span(items[0]):
            return key
    return None


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import add_spans, read_document

    one_container = head.record is not None and _contained(head.record) is not None
    # A first line over the limit: lines, the first of them skipped as too long.
    if head.long_first_line or (head.json_lines and (head.lines or not one_container)):
        add_spans(_json_lines_spans(stream, context), context)
        return []
    data = context.whole_document(stream)
    document = head.record if head.document and head.record is not None else None
    if document is not None and (key := _contained(document)) is not None:
        others = sorted(name for name in document if name != key)
        if others:
            context.accounting.note(f"top-level keys beside the spans, left out: "
                                    f"{', '.join(others)}", context.display, [1])
    read_document(data, context, READER.label, document_spans)
    return []


def document_spans(document: Any) -> Iterator[Span | BadSpan]:
    if isinstance(document, list):
        items = document
    else:
        key = _contained(document)
        items = document[key] if key is not None else document.get("data") or [document]
    for number, item in enumerate(items, start=1):
        yield guarded(number, listed_span, item, number)


def _json_lines_spans(stream: BinaryIO, context: ReadContext) -> list[Span]:
    """One span a line, or a line holding spans under a key; a line that is neither, or is
    over the line limit, is named and skipped, the lines around it kept."""
    from agentcost.ingest.json_lines import json_records

    accounting, display = context.accounting, context.display
    spans: list[Span] = []
    for number, record in json_records(stream, context):
        key = _contained(record) if isinstance(record, dict) else None
        found = ([guarded(number, listed_span, item, number) for item in record[key]]
                 if key is not None else [guarded(number, listed_span, record, number)])
        bad = next((span for span in found if isinstance(span, BadSpan)), None)
        if bad is not None:
            accounting.skip(f"not a valid {READER.label} record: {bad.reason}", display,
                            [number])
            continue
        accounting.lines_used += 1
        spans.extend(span for span in found if isinstance(span, Span))
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


def evidence(head: Head) -> str:
    key = _contained(head.record) if head.record is not None else None
    if key is not None:
        return f"spans under {key}"
    if head.json_lines:
        return "a span a line"
    return "a list of spans"


READER = Reader("spans", "span list (Phoenix / OpenInference / OTel SDK)", recognises, read,
                evidence=evidence,
                markers=("context", "spanContext", "span_kind"))
