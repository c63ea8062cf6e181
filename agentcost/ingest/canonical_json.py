"""Tool arguments as canonical JSON (keys sorted, no spaces), so that equal arguments compare
equal whatever order or spacing the producer wrote them in."""

from __future__ import annotations

import json

import polars as pl


def canonical(text: str) -> str:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = text  # plain text arguments: kept as a JSON string
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_tool_args(steps: pl.DataFrame) -> pl.DataFrame:
    """Converted once per distinct value: logs repeat the same arguments a lot."""
    if steps.is_empty() or steps["tool_args"].null_count() == steps.height:
        return steps
    distinct = steps["tool_args"].drop_nulls().unique()
    mapping = {text: canonical(text) for text in distinct.to_list()}
    return steps.with_columns(
        pl.col("tool_args").replace_strict(mapping, default=None, return_dtype=pl.String))
