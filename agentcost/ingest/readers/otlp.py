"""OTLP/JSON: the file exporter's one TracesData per line, one pretty-printed document, or a
Grafana Tempo export (`batches`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO, cast

from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

OTLP_KEYS = frozenset({"resourceSpans", "resourceLogs", "resourceMetrics", "batches"})
# Where APIs put one TracesData: Tempo's v2 trace API under "trace", Jaeger's v3 under "result".
WRAPPER_KEYS = ("trace", "result")


def recognises(head: Head) -> bool:
    """A list of resource batches under one of OTLP's keys (a native line with a field of the
    same name is not OTLP), also wrapped by an API or as a list of TracesData."""
    if head.is_list:
        return is_traces_data(head.list_item)
    return is_traces_data(head.record) or unwrapped(head.record) is not None \
        or bool(head.cut_keys & OTLP_KEYS)


def is_traces_data(record: Any) -> bool:
    return isinstance(record, dict) and any(isinstance(record.get(key), list)
                                            for key in OTLP_KEYS)


def unwrapped(record: Any) -> dict[str, Any] | None:
    """The TracesData an API response holds under a wrapper key, if it does."""
    for key in WRAPPER_KEYS:
        inner = (record or {}).get(key)
        if is_traces_data(inner):
            return cast(dict[str, Any], inner)
    return None


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.span_read import read_otlp

    read_otlp(stream, head, context)
    return []


def evidence(head: Head) -> str:
    if head.is_list:
        return "a list of TracesData"
    record = head.record or {}
    wrapper = next((key for key in WRAPPER_KEYS if is_traces_data(record.get(key))), None)
    found = [key for key in sorted(OTLP_KEYS) if isinstance(record.get(key), list)]
    if wrapper is not None:
        return f"TracesData under {wrapper}"
    what = " and ".join(found or sorted(head.cut_keys & OTLP_KEYS))
    return f"resource batches under {what}" + (", a request a line" if head.lines else "")


READER = Reader("otlp", "OTLP/JSON", recognises, read, evidence=evidence,
                markers=("resourceSpans", "resourceLogs", "batches"))
