"""Turn decoded native JSONL columns into canonical step columns, and find the lines to reject.

Everything here is a polars expression over the whole chunk: no Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from agentcost.ingest.native_decode import LINE_COLUMN
from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT, NATIVE_FIELDS
from agentcost.ingest.timeparse import parse_time
from agentcost.schema import MAX_AMOUNT, MAX_TOKEN_COUNT, STEP_KINDS

PROBLEM_COLUMN = "problem"
MISSING_TASK = "missing task_id"
MAYBE_NOT_TEXT = "(text field to look at again)"  # never shown: settled by a second look
JSON_TEXT_START = r'^(\{["}]|\[[\]"\[{0-9tfn-])'
NOTE_COLUMN = "note"
START_TIME_COLUMN = "__start_time"
TOKEN_CONCEPTS = ("prompt_tokens", "uncached_input_tokens", "cache_read_tokens",
                  "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens",
                  "reasoning_tokens")
NOTE_INPUT_EXCLUDES_CACHE = (
    "input tokens smaller than the cache fields: read as excluding cached tokens"
)


def present_aliases(concept: str, keys: Collection[str]) -> list[str]:
    return [alias for alias in FIELDS_BY_CONCEPT[concept].aliases if alias in keys]


def _first(concept: str, keys: Collection[str], dtype: pl.DataType) -> pl.Expr:
    aliases = present_aliases(concept, keys)
    if not aliases:
        return pl.lit(None, dtype)
    return pl.coalesce(aliases) if len(aliases) > 1 else pl.col(aliases[0])


def _count(concept: str, keys: Collection[str]) -> pl.Expr:
    return _first(concept, keys, pl.Float64()).cast(pl.Int64)


def problems(keys: Collection[str], missing_task: str = MISSING_TASK) -> pl.Expr:
    """The first reason a row cannot be used, or null. One expression, checked in field order.
    `missing_task`: the reason for a row without a task id (it can say what the file is)."""
    task = _first("task_id", keys, pl.String())
    checks: list[tuple[pl.Expr, str]] = [
        (task.is_null() | (task.str.strip_chars() == ""), missing_task),
    ]
    for field in NATIVE_FIELDS:
        for alias in field.aliases:
            if alias not in keys:
                continue
            column = pl.col(alias)
            if field.kind in ("count", "number"):
                checks.append((~column.is_finite(), f"{alias} is not a finite number"))
                checks.append((column < 0, f"{alias} is negative"))
            if field.kind == "number":
                checks.append((column >= MAX_AMOUNT, f"{alias} is too large"))
            if field.kind == "count":
                checks.append((column != column.floor(), f"{alias} is not a whole number"))
                checks.append((column >= MAX_TOKEN_COUNT, f"{alias} is too large"))
    time_aliases = present_aliases("start_time", keys)
    if time_aliases:
        checks.append((
            pl.coalesce(time_aliases).is_not_null() & pl.col(START_TIME_COLUMN).is_null(),
            f"{time_aliases[0]} is not a time (ISO 8601 or epoch seconds, in 1970 to 2199)",
        ))
    kind = _first("kind", keys, pl.String())
    checks.append((kind.is_not_null() & ~kind.str.to_lowercase().is_in(STEP_KINDS),
                   "kind must be one of " + ", ".join(STEP_KINDS)))
    text_aliases = _text_aliases(keys)
    if text_aliases:  # last: only a line with no other problem needs a second look
        checks.append((pl.any_horizontal(_maybe_not_text(alias) for alias in text_aliases),
                       MAYBE_NOT_TEXT))
    reason: pl.Expr = pl.lit(None, pl.String())
    for condition, text in reversed(checks):
        reason = pl.when(condition.fill_null(False)).then(pl.lit(text)).otherwise(reason)
    return reason.alias(PROBLEM_COLUMN)


def _text_aliases(keys: Collection[str]) -> list[str]:
    return [alias for field in NATIVE_FIELDS if field.kind == "text"
            for alias in field.aliases if alias in keys]


def _maybe_not_text(alias: str) -> pl.Expr:
    """polars reads an object, an array or true/false where text is expected as its JSON text:
    such a value starts with { or [, or is true or false. So can real text (a task id
    "[red]x"): these rows are held back for a second look (see looks_like_json)."""
    column = pl.col(alias)
    return (column.str.starts_with("{") | column.str.starts_with("[")
            | column.is_in(["true", "false"]))


def looks_like_json(keys: Collection[str]) -> pl.Expr:
    """For held-back rows only: whether a text field could be JSON polars wrote, an object
    ({" or {}), an array ([ then a value or ]) or true/false. Rows where none could are
    real text ("[prod] job 7") and need no look at the raw line, which costs far more."""
    return pl.any_horizontal(
        pl.col(alias).str.contains(JSON_TEXT_START) | pl.col(alias).is_in(["true", "false"])
        for alias in _text_aliases(keys))


def start_time(frame: pl.DataFrame, keys: Collection[str]) -> pl.Series:
    """Parsed once per chunk into START_TIME_COLUMN; both the checks and the output use it."""
    aliases = present_aliases("start_time", keys)
    if not aliases:
        return pl.Series(START_TIME_COLUMN, [None] * frame.height, pl.Datetime("us", "UTC"))
    text = frame.select(pl.coalesce(aliases)).to_series()
    return parse_time(text).alias(START_TIME_COLUMN)


def canonical_columns(keys: Collection[str], source_file: str) -> list[pl.Expr]:
    """Expressions giving the canonical step columns (all but the final step numbering)."""
    cache_read = _count("cache_read_tokens", keys).fill_null(0)
    write_5m = _count("cache_write_5m_tokens", keys).fill_null(0)
    write_1h = _count("cache_write_1h_tokens", keys).fill_null(0)
    prompt = _count("prompt_tokens", keys)
    uncached = _count("uncached_input_tokens", keys)
    cached_total = cache_read + write_5m + write_1h
    input_tokens = (
        pl.when(uncached.is_not_null()).then(uncached)
        .when(prompt.is_null()).then(0)
        .when(prompt >= cached_total).then(prompt - cached_total)
        .otherwise(prompt)
    )
    output = _count("output_tokens", keys).fill_null(0)
    reasoning = _count("reasoning_tokens", keys).fill_null(0)
    token_aliases = [
        alias for concept in TOKEN_CONCEPTS for alias in present_aliases(concept, keys)
    ]
    # A line with no token field at all has unknown usage (null), not zero usage.
    recorded = (
        pl.any_horizontal(pl.col(alias).is_not_null() for alias in token_aliases)
        if token_aliases else pl.lit(False)
    )

    def bucket(expr: pl.Expr) -> pl.Expr:
        return pl.when(recorded).then(expr)

    model = _first("model", keys, pl.String())
    tool = _first("tool_name", keys, pl.String())
    has_tokens = (
        prompt.fill_null(0) + uncached.fill_null(0) + cached_total + output + reasoning
    ) > 0
    derived_kind = (
        pl.when(model.is_not_null() | has_tokens).then(pl.lit("llm"))
        .when(tool.is_not_null()).then(pl.lit("tool"))
        .otherwise(pl.lit("other"))
    )
    given_kind = _first("kind", keys, pl.String()).str.to_lowercase()
    seconds = _first("duration_s", keys, pl.Float64())
    milliseconds = _first("duration_ms", keys, pl.Float64())
    note = (
        pl.when(uncached.is_null() & prompt.is_not_null() & (prompt < cached_total))
        .then(pl.lit(NOTE_INPUT_EXCLUDES_CACHE))
        .otherwise(pl.lit(None, pl.String()))
    )
    return [
        _first("task_id", keys, pl.String()).alias("task_id"),
        _count("step", keys).alias("step"),
        _first("span_id", keys, pl.String()).alias("span_id"),
        _first("parent_span_id", keys, pl.String()).alias("parent_span_id"),
        pl.col(START_TIME_COLUMN).alias("start_time"),
        pl.coalesce(seconds, milliseconds / 1000).alias("duration_s"),
        pl.coalesce(given_kind, derived_kind).alias("kind"),
        _first("name", keys, pl.String()).alias("name"),
        model.alias("model"),
        _first("provider", keys, pl.String()).alias("provider"),
        _first("service_tier", keys, pl.String()).alias("service_tier"),
        bucket(input_tokens).alias("input_tokens"),
        bucket(cache_read).alias("cache_read_tokens"),
        bucket(write_5m).alias("cache_write_5m_tokens"),
        bucket(write_1h).alias("cache_write_1h_tokens"),
        bucket(output).alias("output_tokens"),
        bucket(reasoning).alias("reasoning_tokens"),
        pl.lit(False).alias("tokens_estimated"),
        tool.alias("tool_name"),
        _first("tool_args", keys, pl.String()).alias("tool_args"),
        _first("reported_cost_usd", keys, pl.Float64()).alias("reported_cost_usd"),
        _first("reported_tool_cost_usd", keys, pl.Float64()).alias("reported_tool_cost_usd"),
        _first("user", keys, pl.String()).alias("user"),
        pl.coalesce(_first("workflow", keys, pl.String()),
                    _first("agent", keys, pl.String())).alias("workflow"),
        _first("agent", keys, pl.String()).alias("agent"),
        _first("session_id", keys, pl.String()).alias("session_id"),
        pl.lit(source_file).alias("source_file"),
        pl.col(LINE_COLUMN).alias("source_line"),
        note.alias(NOTE_COLUMN),
    ]
