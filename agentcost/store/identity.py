"""Which newly read steps the store already holds, and where it read them first.

A step's identity is the one duplicates.py gives native steps read twice in one run: with a
step id, its task and that id; else with a step number, its task, number and all the rest read
from its line; else (neither) its content and the place it was read (file and line), so that
two identical unnumbered lines of one log both count, as they do when the log is read."""

from __future__ import annotations

import polars as pl

from agentcost.ingest.duplicates import CONTENT, DUPLICATE, DUPLICATE_ID, DUPLICATE_ID_OTHER

ROW = "__row"
PLACE = ("source_file", "source_line")
# The columns read back from the store to tell a step already held.
KNOWN_COLUMNS = tuple(dict.fromkeys((*CONTENT, *PLACE)))


def known_columns(frame: pl.LazyFrame | pl.DataFrame) -> list[pl.Expr]:
    """The identity columns, text as plain strings (categories of two frames never clash)."""
    schema = frame.collect_schema()
    return [pl.col(name).cast(pl.String) if schema[name] == pl.Categorical else pl.col(name)
            for name in KNOWN_COLUMNS]


def already_known(new: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """The rows of `new` (by their index, ROW) that `known` holds, each with the reason, where
    it was first stored (first_file, first_line) and whether its content is the same."""
    rows = new.select(known_columns(new)).with_row_index(ROW)
    has_id = pl.col("span_id").is_not_null()
    numbered = pl.col("step").is_not_null()
    found = []
    keyed = (
        (has_id, ["task_id", "span_id"]),
        (~has_id & numbered, list(CONTENT)),
        (~has_id & ~numbered, list(dict.fromkeys((*CONTENT, *PLACE)))),
    )
    for which, key in keyed:
        candidates = rows.filter(which)
        if candidates.is_empty() or known.is_empty():
            continue
        first = known.filter(which).unique(subset=key, keep="first", maintain_order=True)
        matched = candidates.join(
            first.select(*key, *(pl.col(c).alias(f"__known_{c}") for c in KNOWN_COLUMNS
                                 if c not in key)),
            on=key, how="inner", nulls_equal=True)
        if matched.is_empty():
            continue
        same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"__known_{c}"))
                                 for c in CONTENT if c not in key) if len(key) < len(
            CONTENT) else pl.lit(True)
        reason = (pl.when(same).then(pl.lit(DUPLICATE_ID)).otherwise(pl.lit(DUPLICATE_ID_OTHER))
                  if key == ["task_id", "span_id"] else pl.lit(DUPLICATE))
        found.append(matched.select(
            ROW, reason.alias("reason"), same.alias("same"),
            (pl.col("__known_source_file") if "source_file" not in key
             else pl.col("source_file")).alias("first_file"),
            (pl.col("__known_source_line") if "source_line" not in key
             else pl.col("source_line")).alias("first_line"),
            pl.col("source_file"), pl.col("source_line")))
    if not found:
        return pl.DataFrame(schema={ROW: pl.UInt32, "reason": pl.String, "same": pl.Boolean,
                                    "first_file": pl.String, "first_line": pl.Int64,
                                    "source_file": pl.String, "source_line": pl.Int64})
    return pl.concat(found).sort(ROW)
