"""Native steps read twice (a log and a copy of it, rotated logs that overlap, a line written
twice) count once. Each repeat is a skipped line whose reason says so, named beside the earlier
line it repeats; the first reading, in file and line order, is the one kept.

A native step's identity:

- with a step id (`step_id` / `span_id`): its task and that id;
- else, with a step number: its task, its step number and all the rest read from its line
  (the columns every command reads: time, kind, model, tier, tokens, tool);
- else, the same content from another file, occurrence by occurrence: the second file's first
  such line repeats the first file's first, its second the first's second, and so on. Two
  identical lines without step number or id in one file both count: nothing says they are one
  step and not two steps alike.

Two lines with the same task and step number (and no step id) but other content are two steps:
both count, and the clash is noted. Span formats drop repeated spans themselves (same trace and
span id): only the rows of native sources are looked at here.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from agentcost.ingest.accounting import EXAMPLES_KEPT, LineAccounting
from agentcost.schema import TOKEN_COLUMNS

DUPLICATE = "duplicate step (same task, step and content as an earlier line)"
DUPLICATE_ID = "duplicate step (same task and step id as an earlier line)"
DUPLICATE_ID_OTHER = ("duplicate step id (same task and step id as an earlier line, other "
                      "content: the earlier kept)")
CLASH = "same task and step number as an earlier line, other content: both counted"
# What a line says, apart from where it was read: the columns every command reads, so that
# which lines are repeats never depends on what a command shows (a --by flag, say).
CONTENT = ("task_id", "step", "span_id", "start_time", "kind", "model", "service_tier",
           *TOKEN_COLUMNS, "tool_name")
HASH_SEED = 20261207
ROW = "__row"


def drop_duplicates(steps: pl.DataFrame, accounting: LineAccounting,
                    native_files: Collection[str] | None = None) -> pl.DataFrame:
    """`steps` without the native steps read before: every step of the run, canonical, in
    file and line order. `native_files`: the sources read as native JSONL (None: all)."""
    if steps.is_empty():
        return steps
    rows = steps.with_row_index(ROW)
    if native_files is not None:
        rows = rows.filter(pl.col("source_file").cast(pl.String).is_in(list(native_files)))
    candidates = _candidates(rows)
    if candidates is None:
        return steps
    has_id = pl.col("span_id").is_not_null()
    numbered = pl.col("step").is_not_null()
    by_id = _repeats(candidates.filter(has_id), pl.struct("task_id", "span_id"))
    by_content = _repeats(candidates.filter(~has_id & numbered), pl.struct(CONTENT))
    by_occurrence = _repeats(candidates.filter(~has_id & ~numbered), pl.struct(
        *CONTENT,
        pl.int_range(pl.len()).over("source_file", pl.struct(CONTENT)).alias("occurrence")))
    same = pl.struct(CONTENT).hash(HASH_SEED)
    id_reason = (pl.when(same == same.first().over("task_id", "span_id"))
                 .then(pl.lit(DUPLICATE_ID)).otherwise(pl.lit(DUPLICATE_ID_OTHER)))
    dropped = pl.concat([
        by_id.with_columns(id_reason.alias("reason")).filter(~pl.col("first")),
        by_content.with_columns(pl.lit(DUPLICATE).alias("reason")).filter(~pl.col("first")),
        by_occurrence.with_columns(pl.lit(DUPLICATE).alias("reason")).filter(~pl.col("first")),
    ]).sort(ROW)
    # Among the steps kept, the same task and step number with other content: both count.
    kept = by_content.filter(pl.col("first"))
    clashes = _repeats(kept, pl.struct("task_id", "step")).filter(~pl.col("first"))
    for reason, repeats in _by_reason(dropped):
        accounting.skip_repeats(reason, *repeats, same=reason != DUPLICATE_ID_OTHER)
    for _, repeats in _by_reason(clashes.with_columns(pl.lit(CLASH).alias("reason"))):
        accounting.note_repeats(CLASH, *repeats)
    if dropped.is_empty():
        return steps
    accounting.lines_used -= dropped.height
    keep = pl.repeat(True, steps.height, dtype=pl.Boolean, eager=True).scatter(
        dropped[ROW], False)
    return steps.filter(keep)


def _candidates(rows: pl.DataFrame) -> pl.DataFrame | None:
    """The rows that might repeat one another, or None when none can: those sharing a task
    and a step id, or a task and a step number, or (from more than one file, without either)
    a task and a start time. Nearly always there is none, and one pass over a hash of a few
    columns says so; the rows found are compared in full."""
    if rows["span_id"].null_count() == rows.height and rows["step"].null_count() == 0:
        key = pl.struct("task_id", "step").hash(HASH_SEED)  # the usual log: numbers, no ids
    else:
        has_id = pl.col("span_id").is_not_null()
        numbered = pl.col("step").is_not_null()
        several_files = rows["source_file"].n_unique() > 1
        key = pl.when(has_id | numbered | several_files).then(pl.struct(
            "task_id",
            pl.when(has_id).then(pl.col("span_id")).alias("id"),
            pl.when(~has_id).then(pl.col("step")).alias("step"),
            pl.when(~has_id & ~numbered).then(pl.col("start_time")).alias("start"),
        ).hash(HASH_SEED))
    keys = rows.select(key.alias("key"))["key"]
    present = keys.drop_nulls()
    if present.n_unique() == present.len():
        return None
    candidates = rows.filter(keys.is_duplicated() & keys.is_not_null())
    return candidates if candidates.height else None


def _repeats(rows: pl.DataFrame, identity: pl.Expr) -> pl.DataFrame:
    """`rows` (in reading order), each told whether it is the first of its identity, and
    where that first one was read."""
    return rows.with_columns(
        identity.is_first_distinct().alias("first"),
        pl.col("source_file").first().over(identity).alias("first_file"),
        pl.col("source_line").first().over(identity).alias("first_line"),
    )


Repeats = tuple[list[tuple[str, int]], list[tuple[str, int]], int]


def _by_reason(repeats: pl.DataFrame) -> list[tuple[str, Repeats]]:
    """For each reason, in reading order: the first places, the earlier lines they repeat,
    and how many."""
    found: list[tuple[str, Repeats]] = []
    for (reason,), group in repeats.sort(ROW).group_by("reason", maintain_order=True):
        head = group.head(EXAMPLES_KEPT).with_columns(
            pl.col("source_file", "first_file").cast(pl.String))
        places = list(zip(head["source_file"], head["source_line"], strict=True))
        earlier = list(zip(head["first_file"], head["first_line"], strict=True))
        found.append((str(reason), (places, earlier, group.height)))
    return found
