"""The span frame: one row per span, the attributes conventions look at as text columns.

Every container ends here, whether it was decoded by polars (OTLP lines) or walked in Python
(Langfuse, Phoenix, SDK dumps): the rules that turn spans into steps then run once, vectorised.
Only attribute keys some convention reads are kept, so a span's prompt text never costs memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import polars as pl

from agentcost.ingest.spans import conventions as c
from agentcost.ingest.spans.ids import canonical_ids
from agentcost.ingest.spans.model import Span

BASE_SCHEMA: dict[str, pl.DataType] = {
    "trace_id": pl.String(),
    "span_id": pl.String(),
    "parent_span_id": pl.String(),
    "name": pl.String(),
    "start_ns": pl.Int64(),
    "end_ns": pl.Int64(),
    "container_kind": pl.String(),
    "source_line": pl.Int64(),
}


# Attributes that only fill a canonical column (no rule reads them): not kept when a command
# leaves that column out. Tool arguments are the bulk of some spans.
OUTPUT_ONLY_KEYS = {"tool_args": c.TOOL_ARGS, "user": c.USER, "workflow": c.AGENT,
                    "session_id": c.SESSION}


def attribute_keys(task_key: str, columns: frozenset[str] | None = None) -> frozenset[str]:
    """Attribute keys to keep: every key a convention reads, and the task key if it is one.
    `columns`: the canonical columns wanted, when not all are (see OUTPUT_ONLY_KEYS)."""
    keys = set(c.ALL_ATTRIBUTE_KEYS)
    for column, names in OUTPUT_ONLY_KEYS.items():
        if columns is not None and column not in columns:
            keys.difference_update(names)
    if task_key == "session":
        keys.update(c.SESSION)
    if task_key.startswith("attribute."):
        keys.add(task_key.removeprefix("attribute."))
    if task_key.startswith("resource."):
        keys.add(task_key)  # resource attributes are kept as "resource.NAME"
    return frozenset(keys)


def attribute_text(value: Any) -> str | None:
    """Attribute values as the text a column holds; objects and lists as JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _nanoseconds(value: Any) -> int | None:
    """A time in integer nanoseconds, or None where the producer wrote something else."""
    if isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63:
        return value
    return None


def spans_frame(spans: Iterable[Span], keys: frozenset[str]) -> pl.DataFrame:
    """A span frame from spans read in Python."""
    base: dict[str, list[Any]] = {name: [] for name in BASE_SCHEMA}
    attributes: dict[str, list[str | None]] = {}
    count = 0
    for count, span in enumerate(spans, start=1):
        # Producers' files are untrusted: an id or a name may come as a number or a boolean.
        base["trace_id"].append(attribute_text(span.trace_id))
        base["span_id"].append(attribute_text(span.span_id))
        base["parent_span_id"].append(attribute_text(span.parent_span_id))
        base["name"].append(attribute_text(span.name))
        base["start_ns"].append(_nanoseconds(span.start_ns))
        base["end_ns"].append(_nanoseconds(span.end_ns))
        base["container_kind"].append(attribute_text(span.container_kind))
        base["source_line"].append(span.source_line)
        found = [(key, value) for key, value in span.attributes.items() if key in keys]
        found += [(f"resource.{key}", value) for key, value in span.resource.items()
                  if f"resource.{key}" in keys]
        for key, value in found:
            column = attributes.setdefault(key, [None] * (count - 1))
            column.append(attribute_text(value))
        for column in attributes.values():
            if len(column) < count:
                column.append(None)
    frame = pl.DataFrame(base, schema=BASE_SCHEMA)
    frame = frame.with_columns(canonical_ids(frame["trace_id"], 32),
                               canonical_ids(frame["span_id"], 16),
                               canonical_ids(frame["parent_span_id"], 16))
    return frame.with_columns(
        pl.Series(key, values, dtype=pl.String()) for key, values in sorted(attributes.items())
    )
