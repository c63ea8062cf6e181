"""Steps read back from the store for a report or a simulation: only the days a window needs,
only the columns asked for, in the order the sources were first read, with step numbers
filled among all of each task's steps, and the account of every line the store was built
from. Inputs named beside the store add what an ingest of them would add, without storing
it."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import polars as pl

from agentcost.analysis.report import AppliedWindow
from agentcost.ingest.steps import Ingested, number_steps
from agentcost.schema import canonical_expressions
from agentcost.store.location import Where
from agentcost.store.manifest import Part
from agentcost.store.parts import ORDER, SOURCE_ORDER, STEP_ORDER, scan_parts
from agentcost.store.scan import StoreScan, plan_store

if TYPE_CHECKING:
    from agentcost.store.ingest import Options

# Beyond this many ordered runs, the steps are sorted instead.
MAX_RUNS = 4096


@dataclass
class StoredSteps(Ingested):
    """Steps from a store. The days outside the window were not read: their steps are
    counted here, for the window to say what it left out."""

    timed_unread: int = 0
    untimed_unread: int = 0


def read_store(directory: Where, *, since: dt.datetime | None = None,
               until: dt.datetime | None = None, columns: Sequence[str] = (),
               inputs: Sequence[str] = (), options: Options | None = None) -> StoredSteps:
    """The store's steps that a window [since, until) may keep (all without one), with
    `columns` filled and the rest null; and, with `inputs`, the steps they hold that the store
    does not."""
    return stored_steps(plan_store(directory, since=since, until=until, columns=columns,
                                   inputs=inputs, options=options))


def stored_steps(scan: StoreScan) -> StoredSteps:
    """The steps `scan` plans to read, in one frame."""
    new = scan.new
    stored = scan_parts(scan.where, scan.needed, scan.columns)
    if new.height:
        stored = pl.concat([stored, new.lazy().select(stored.collect_schema().names())],
                           how="vertical_relaxed")
    read = set(stored.collect_schema().names())
    # In reading order, then every canonical column: those not read are null, made after
    # the steps are put in order so that they are never copied.
    steps = in_reading_order(stored.collect()).select(
        canonical_expressions({name: pl.col(name) for name in scan.columns if name in read}))
    steps = _numbered(steps, scan.where, scan.earlier)
    return StoredSteps(steps, copy.deepcopy(scan.accounting), scan.timed_unread,
                       scan.untimed_unread)


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


def with_unread(window: AppliedWindow | None, ingested: Ingested | StoreScan
                ) -> AppliedWindow | None:
    """The window's account of what it left out, with the store's steps it did not read."""
    if window is None or not isinstance(ingested, StoredSteps | StoreScan):
        return window
    return replace(window, steps_outside=window.steps_outside + ingested.timed_unread,
                   steps_untimed=window.steps_untimed + ingested.untimed_unread)


def _numbered(steps: pl.DataFrame, directory: Where, earlier: list[Part]) -> pl.DataFrame:
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
