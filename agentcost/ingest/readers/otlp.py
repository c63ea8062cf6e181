"""OTLP/JSON: the file exporter's one TracesData per line, one pretty-printed document, or a
Grafana Tempo export (`batches`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

OTLP_KEYS = frozenset({"resourceSpans", "resourceLogs", "resourceMetrics", "batches"})


def recognises(head: Head) -> bool:
    """A list of resource batches under one of OTLP's keys (a native line with a field of the
    same name is not OTLP)."""
    record = head.record or {}
    return any(isinstance(record.get(key), list) for key in OTLP_KEYS) \
        or bool(head.cut_keys & OTLP_KEYS)


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import read_otlp

    read_otlp(stream, head, context)
    return []


READER = Reader("otlp", "OTLP/JSON", recognises, read,
                markers=("resourceSpans", "resourceLogs", "batches"))
