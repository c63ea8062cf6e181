"""Steps read back from the store for a report or a simulation: only the days a window needs,
only the columns asked for, in the order the sources were first read, with step numbers
filled among all of each task's steps, and the account of every line the store was built
from. Inputs named beside the store add what an ingest of them would add, without storing
it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from agentcost.analysis.report import AppliedWindow
from agentcost.ingest.steps import Ingested, number_steps
from agentcost.schema import TOKEN_COLUMNS, canonical_expressions
from agentcost.store.manifest import UNTIMED, Part, load_manifest
from agentcost.store.parts import ORDER, SOURCE_ORDER, STEP_ORDER, parts_for, scan_parts

if TYPE_CHECKING:
    from agentcost.store.ingest import Options

# Read whatever a command asks for: pricing and step identity need these.
ALWAYS = ("task_id", "step", "span_id", "start_time", "duration_s", "kind", "model",
          "service_tier", *TOKEN_COLUMNS, "tokens_estimated", "tool_name",
          "reported_cost_usd", "reported_tool_cost_usd", "source_file", "source_line")
# Beyond this many ordered runs, the steps are sorted instead.
MAX_RUNS = 4096


@dataclass
class StoredSteps(Ingested):
    """Steps from a store. The days outside the window were not read: their steps are
    counted here, for the window to say what it left out."""

    timed_unread: int = 0
    untimed_unread: int = 0


def read_store(directory: Path, *, since: dt.datetime | None = None,
               until: dt.datetime | None = None, columns: Sequence[str] = (),
               inputs: Sequence[str] = (), options: Options | None = None) -> StoredSteps:
    """The store's steps that a window [since, until) may keep (all without one), with
    `columns` filled and the rest null; and, with `inputs`, the steps they hold that the store
    does not."""
    manifest = load_manifest(directory)
    wanted = tuple(dict.fromkeys((*ALWAYS, *columns)))
    needed, others = parts_for(manifest, since, until)
    new = pl.DataFrame()
    if inputs:  # only then are the readers needed
        from agentcost.store.ingest import IngestResult, Options, fresh_steps, pending_steps

        new = fresh_steps(directory, manifest, pending_steps(
            inputs, directory, manifest, options or Options(), IngestResult()), IngestResult())
    # A column no part needed has a value in is not read, unless new steps may fill it.
    stored = scan_parts(directory, needed, wanted, skip_nulls=not new.height)
    if new.height:
        stored = pl.concat([stored, new.lazy().select(stored.collect_schema().names())],
                           how="vertical_relaxed")
    read = set(stored.collect_schema().names())
    # In reading order, then every canonical column: those not read are null, made after
    # the steps are put in order so that they are never copied.
    steps = in_reading_order(stored.collect()).select(
        canonical_expressions({name: pl.col(name) for name in wanted if name in read}))
    first_day = min((part.day for part in needed), default=None)
    earlier = [part for part in others if part.day != UNTIMED and first_day is not None
               and part.day < first_day]
    steps = _numbered(steps, directory, earlier)
    return StoredSteps(steps, manifest.accounting(),
                       sum(part.rows for part in others if part.day != UNTIMED),
                       sum(part.rows for part in others if part.day == UNTIMED))


def in_reading_order(steps: pl.DataFrame) -> pl.DataFrame:
    """`steps` sorted by their order columns (then dropped), in one chunk: every later pass
    over them is faster so. Each part is stored in order, and a log read in time order
    leaves the day parts in long ordered runs: those runs (steps that follow each other in
    their source) are found where they lie and put together as they are; only steps
    scattered in many short runs are sorted."""
    rows = steps.drop(ORDER)
    if steps.height < 2:
        return rows.rechunk()
    source, stored = steps[SOURCE_ORDER], steps[STEP_ORDER]
    starts = ((source != source.shift(1)) | (stored != stored.shift(1) + 1)
              ).fill_null(True).arg_true()
    if starts.len() == 1:
        return rows.rechunk()
    if starts.len() > MAX_RUNS:
        return steps.sort(ORDER).drop(ORDER)
    ends = starts.shift(-1, fill_value=steps.height)
    runs = pl.DataFrame({"start": starts, "end": ends, "source": source.gather(starts),
                         "first": stored.gather(starts), "last": stored.gather(ends - 1)}
                        ).sort("source", "first")
    # Each run holds the steps numbered first to last of its source: in that order, the runs
    # follow each other when no two hold the same step (a store never does).
    if (runs.select(((pl.col("source") == pl.col("source").shift(-1))
                     & (pl.col("last") >= pl.col("first").shift(-1))).any()).item()):
        return steps.sort(ORDER).drop(ORDER)
    return pl.concat([rows.slice(start, end - start)
                      for start, end in runs.select("start", "end").iter_rows()], rechunk=True)


def with_unread(window: AppliedWindow | None, ingested: Ingested) -> AppliedWindow | None:
    """The window's account of what it left out, with the store's steps it did not read."""
    if window is None or not isinstance(ingested, StoredSteps):
        return window
    return replace(window, steps_outside=window.steps_outside + ingested.timed_unread,
                   steps_untimed=window.steps_untimed + ingested.untimed_unread)


def _numbered(steps: pl.DataFrame, directory: Path, earlier: list[Part]) -> pl.DataFrame:
    """Missing step numbers filled as a run reading every source would fill them: by start
    time within the task, ties in reading order. A task's steps on the days before those
    read (`earlier`) all started before: they only move its numbers on by their count."""
    if steps["step"].null_count() == 0:
        return steps
    missing = pl.col("step").is_null()
    numbered = number_steps(steps)
    if not earlier:
        return numbered
    tasks = steps.filter(missing)["task_id"].unique()
    before = (scan_parts(directory, earlier, ["task_id"])
              .filter(pl.col("task_id").is_in(tasks.implode()))
              .group_by("task_id").agg(pl.len().cast(pl.Int64).alias("__before")).collect())
    return (numbered.with_columns(steps["step"].is_null().alias("__filled"))
            .join(before, on="task_id", how="left", maintain_order="left")
            .with_columns(pl.when(pl.col("__filled"))
                          .then(pl.col("step") + pl.col("__before").fill_null(0))
                          .otherwise(pl.col("step")).alias("step"))
            .drop("__filled", "__before"))
