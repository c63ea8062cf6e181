"""Canonical steps a caller brings as a DataFrame, checked as any input is: columns by name and
type, then row by row. A row that cannot be used is skipped and named by its row number (from
1), the others kept; the frame's rows are its lines in the accounting."""

from __future__ import annotations

import polars as pl

from agentcost.errors import UsageError
from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.canonical_json import canonical_tool_args
from agentcost.schema import (
    COLUMN_NAMES,
    MAX_AMOUNT,
    MAX_TOKEN_COUNT,
    STEP_KINDS,
    TOKEN_COLUMNS,
    conform,
)
from agentcost.schema import polars_schema as canonical_schema

FRAME_SOURCE = "(DataFrame)"
ROW = "__row"
# Amounts that are unknown when null and must otherwise be finite and not negative.
AMOUNTS = ("duration_s", "reported_cost_usd", "reported_tool_cost_usd")


def steps_from_frame(frame: pl.DataFrame) -> tuple[pl.DataFrame, LineAccounting]:
    """The usable rows as canonical steps (step numbers not yet filled), and their account."""
    unknown = [name for name in frame.columns if name not in COLUMN_NAMES]
    if unknown:
        raise UsageError(f"DataFrame columns {', '.join(map(repr, unknown))} are not canonical "
                         f"step columns; they are: {', '.join(COLUMN_NAMES)}")
    schema = canonical_schema()
    for name in frame.columns:
        try:
            frame.select(_as_canonical(name, schema[name]))
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as error:
            raise UsageError(f"DataFrame column {name!r} ({frame.schema[name]}) cannot be read "
                             f"as {schema[name]}: {error}".splitlines()[0]) from None
    numbered = frame.select(*(_as_canonical(name, schema[name]) for name in frame.columns),
                            pl.int_range(1, pl.len() + 1).alias(ROW))
    checked = numbered.with_columns(_problem(numbered.columns).alias("__problem"))
    accounting = LineAccounting(files=[FRAME_SOURCE], lines_read=frame.height)
    bad = checked.filter(pl.col("__problem").is_not_null())
    for (reason,), rows in bad.group_by("__problem", maintain_order=True):
        accounting.skip(str(reason), FRAME_SOURCE, rows[ROW].to_list(), count=rows.height)
    good = checked.filter(pl.col("__problem").is_null())
    accounting.lines_used = good.height
    where = [pl.col(ROW).alias("source_line"), pl.lit(FRAME_SOURCE).alias("source_file")]
    if "source_line" in good.columns:  # where the caller's rows came from, when it says
        where = [pl.coalesce("source_line", ROW).alias("source_line"),
                 pl.coalesce(pl.col("source_file").cast(pl.String), pl.lit(FRAME_SOURCE))
                 .alias("source_file") if "source_file" in good.columns
                 else pl.lit(FRAME_SOURCE).alias("source_file")]
    steps = conform(good.with_columns(where).drop("__problem", ROW))
    return canonical_tool_args(steps.with_columns(_kind())), accounting


def _kind() -> pl.Expr:
    """A step without a kind is an LLM call when it names a model or has tokens, a tool call
    when it names a tool, else other: as the native reader decides."""
    has_tokens = pl.sum_horizontal(pl.col(name).fill_null(0) for name in TOKEN_COLUMNS) > 0
    derived = (pl.when(pl.col("model").is_not_null() | has_tokens).then(pl.lit("llm"))
               .when(pl.col("tool_name").is_not_null()).then(pl.lit("tool"))
               .otherwise(pl.lit("other")))
    return pl.coalesce(pl.col("kind").cast(pl.String), derived).cast(pl.Categorical).alias("kind")


def _as_canonical(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if name == "kind":  # kinds are compared in lower case, as the readers write them
        column = column.cast(pl.String).str.to_lowercase()
    return column.cast(dtype, strict=True).alias(name)


def _problem(columns: list[str]) -> pl.Expr:
    """The first reason a row cannot be used, or null."""
    checks: list[tuple[pl.Expr, str]] = []
    if "task_id" in columns:
        task = pl.col("task_id")
        checks.append((task.is_null() | (task.str.strip_chars() == ""), "missing task_id"))
    else:
        checks.append((pl.lit(True), "missing task_id"))
    for name in TOKEN_COLUMNS:
        if name in columns:
            checks.append((pl.col(name) < 0, f"{name} is negative"))
            checks.append((pl.col(name) >= MAX_TOKEN_COUNT, f"{name} is too large"))
    for name in AMOUNTS:
        if name in columns:
            checks.append((~pl.col(name).is_finite(), f"{name} is not a finite number"))
            checks.append((pl.col(name) < 0, f"{name} is negative"))
            checks.append((pl.col(name) >= MAX_AMOUNT, f"{name} is too large"))
    if "kind" in columns:
        kind = pl.col("kind").cast(pl.String)
        checks.append((~kind.is_in(STEP_KINDS), "kind must be one of " + ", ".join(STEP_KINDS)))
    reason: pl.Expr = pl.lit(None, pl.String())
    for condition, text in reversed(checks):
        reason = pl.when(condition.fill_null(False)).then(pl.lit(text)).otherwise(reason)
    return reason
