"""Parquet parts of the store: steps written one file per day and ingest, and read back for
the days a window needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from agentcost.schema import COLUMN_NAMES
from agentcost.store.location import Where, scan_files, write_parquet
from agentcost.store.manifest import STEPS, UNTIMED, Manifest, Part

# Beside the canonical columns, each stored step keeps its place in the order the sources were
# first read: the source's number in the manifest, then the order it was stored in.
SOURCE_ORDER = "store_source"
STEP_ORDER = "store_seq"
ORDER = (SOURCE_ORDER, STEP_ORDER)
DAY = "__day"


def write_parts(directory: Where, manifest: Manifest, steps: pl.DataFrame) -> list[Part]:
    """`steps` (canonical, with their order columns) written as one part per day under
    `directory`; the parts are returned for the manifest, which does not list them yet. A
    writer that names itself (object storage) puts its name in the parts': no other writer
    at the same time writes over them."""
    number = manifest.next_part
    writer = f"-{manifest.writer}" if manifest.writer else ""
    day = (pl.col("start_time").dt.date().cast(pl.String).fill_null(pl.lit(UNTIMED))
           .alias(DAY))
    written = []
    for (name,), rows in steps.with_columns(day).group_by(DAY, maintain_order=True):
        relative = f"{STEPS}/day={name}/part-{number:06d}{writer}.parquet"
        rows = rows.drop(DAY)
        write_parquet(directory, relative, rows.sort(ORDER))
        nulls = rows.null_count().row(0, named=True)
        written.append(Part(relative, str(name), rows.height,
                            [column for column, count in nulls.items() if count == rows.height]))
    return written


def parts_for(manifest: Manifest, since: dt.datetime | None, until: dt.datetime | None
              ) -> tuple[list[Part], list[Part]]:
    """The parts a window [since, until) needs (all of them without a window; no untimed
    part with one: a step without a time is never inside a window), and the others."""
    if since is None and until is None:
        return list(manifest.parts), []
    first = since.astimezone(dt.UTC).date().isoformat() if since is not None else None
    last = ((until.astimezone(dt.UTC) - dt.timedelta(microseconds=1)).date().isoformat()
            if until is not None else None)
    needed: list[Part] = []
    others: list[Part] = []
    for part in manifest.parts:
        inside = (part.day != UNTIMED and (first is None or part.day >= first)
                  and (last is None or part.day <= last))
        (needed if inside else others).append(part)
    return needed, others


def scan_parts(directory: Where, parts: Sequence[Part], columns: Sequence[str], *,
               skip_nulls: bool = False) -> pl.LazyFrame:
    """The parts' steps with `columns` (canonical ones) and the order columns; with
    `skip_nulls`, without the columns no part has a value in (the reader makes them)."""
    null_in_all = set.intersection(*(set(part.null_columns) for part in parts)) if (
        skip_nulls and parts) else set()
    wanted = [name for name in COLUMN_NAMES if name in columns and name not in null_in_all]
    if not parts:
        from agentcost.schema import polars_schema

        schema = polars_schema()
        return pl.LazyFrame(schema={**{name: schema[name] for name in wanted},
                                    SOURCE_ORDER: pl.Int64, STEP_ORDER: pl.Int64})
    return scan_files(directory, [part.file for part in parts], [*wanted, *ORDER],
                      stored_schema())


def stored_schema() -> dict[str, pl.DataType]:
    """The dtypes of a part's columns: the canonical ones and the order columns."""
    from agentcost.schema import polars_schema

    return {**polars_schema(), SOURCE_ORDER: pl.Int64(), STEP_ORDER: pl.Int64()}
