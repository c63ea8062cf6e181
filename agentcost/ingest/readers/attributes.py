"""A file holding one span's attributes as a flat object (no ids, no times): what some tools
print for one model call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.readers.base import Head, ReadContext, Reader
from agentcost.ingest.spans.model import Span, flatten
from agentcost.ingest.spans.values import BadSpan

if TYPE_CHECKING:
    import polars as pl

ATTRIBUTE_PREFIXES = ("gen_ai.", "llm.", "ai.", "openinference.")
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)


def recognises(head: Head) -> bool:
    """One object of span attributes, with no task id (a native step has one)."""
    keys = set(head.record or ())
    return (not head.lines and not keys & TASK_ID_NAMES
            and any(key.startswith(ATTRIBUTE_PREFIXES) for key in keys))


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import read_document

    def spans(document: Any) -> Iterator[Span | BadSpan]:
        yield Span(trace_id=None, span_id=None, parent_span_id=None, name=context.display,
                   start_ns=None, end_ns=None, attributes=flatten(document), source_line=1)

    read_document(context.whole_document(stream), context, READER.label, spans, ids_required=False)
    return []


READER = Reader("attributes", "span attribute map", recognises, read,
                evidence=lambda head: "span attributes, no task id")
