"""The plan: plain polars functions every executor runs, whatever holds the steps between
them. An executor's own work is only moving frames: reading sources, grouping steps by task
(`task_bucket`), and gathering what each partition returns.

1. `SourceReading` (ingest/read.py) reads each source into canonical steps, with its account
   of every line; `positioned` numbers them by input position (`ORDER`).
2. Steps are grouped by task: `task_bucket` says which of n partitions a step goes to.
3. Per partition (whole tasks): `settle` (input order, repeats dropped, step numbers filled),
   then `priced_partial` (the window, prices, `partials.partial`).
4. Once: `merge_repeats` (the partitions' repeats into the run's accounting), then
   `partials.finish` over `partials.combine` of the partials, with the percentiles found by
   `quantiles.nearest_ranks` over the partitions' task costs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

import polars as pl

from agentcost.engine.partials import ORDER, Partial, partial
from agentcost.engine.protocol import ReportRequest, ReportRun
from agentcost.ingest.accounting import LineAccounting, Tally
from agentcost.ingest.duplicates import CONTENT

# A step's input position: its source's place times this, plus its place in the source.
SOURCE_STRIDE = 1 << 40
# Kept between the reading and a partition whatever a command asks for: what telling repeats
# apart, numbering steps and pricing read.
SETTLING_COLUMNS = frozenset({*CONTENT, "span_id", "duration_s", "tokens_estimated",
                              "reported_cost_usd", "reported_tool_cost_usd", "source_file",
                              "source_line"})
TASK_HASH_SEED = 20261207


def carried_columns(asked: Collection[str]) -> list[str]:
    """The canonical columns to carry from the reading to the partitions, in schema order."""
    from agentcost.schema import COLUMN_NAMES

    return [name for name in COLUMN_NAMES if name in SETTLING_COLUMNS or name in asked]


def positioned(steps: pl.DataFrame, source: int, start: int, columns: list[str]
               ) -> pl.DataFrame:
    """`columns` of a source's steps, numbered by input position from `start` (the rows of
    that source before them)."""
    first = source * SOURCE_STRIDE + start
    return steps.select(*columns,
                        (pl.int_range(pl.len(), dtype=pl.Int64) + first).alias(ORDER))


def positioned_by_file(steps: pl.DataFrame, order: dict[str, int], columns: list[str]
                       ) -> pl.DataFrame:
    """`positioned` for the steps of several sources, each source's together and all of its
    steps there (a reader that finishes once every file is read): each row's source is its
    `source_file`."""
    source = pl.col("source_file").cast(pl.String).replace_strict(order, return_dtype=pl.Int64)
    within = pl.int_range(pl.len(), dtype=pl.Int64).over("source_file")
    return steps.select(*columns, (source * SOURCE_STRIDE + within).alias(ORDER))


def positioned_frames(frames: Iterable[tuple[int | None, pl.DataFrame]],
                      order: dict[str, int], columns: list[str], first: int = 0
                      ) -> Iterator[pl.DataFrame]:
    """`columns` of each frame a `SourceReading` gives, numbered by input position: a
    source's frames one after another, a frame of several sources' steps by its rows'
    `source_file` (`order`: each source's place among the reading's). `first`: the place
    of the reading's first source among the run's."""
    order = {display: place + first for display, place in order.items()}
    placed: dict[int, int] = {}
    for index, frame in frames:
        if index is None:  # several sources' steps, each source's all there
            yield positioned_by_file(frame, order, columns)
            continue
        start = placed.get(index, 0)
        placed[index] = start + frame.height
        yield positioned(frame, index + first, start, columns)


def task_bucket(buckets: int) -> pl.Expr:
    """Which of `buckets` partitions a step goes to: every step of a task to the same one."""
    return (pl.col("task_id").hash(TASK_HASH_SEED) % buckets).cast(pl.Int32)


def settle(steps: pl.DataFrame, native_only: list[str] | None, *, native: bool
           ) -> tuple[pl.DataFrame, LineAccounting | None]:
    """A partition's steps (whole tasks, with ORDER) as one read of every input leaves them:
    every canonical column (null where not carried), in input order, native steps read twice
    dropped (`native`: some source was native JSONL; `native_only`: which, None for all),
    missing step numbers filled, tool arguments canonical. The repeats' account is returned,
    for `merge_repeats`."""
    from agentcost.ingest.canonical_json import canonical_tool_args
    from agentcost.ingest.duplicates import drop_duplicates
    from agentcost.ingest.read import number_steps
    from agentcost.schema import conform

    settled = conform(steps).with_columns(steps[ORDER]).sort(ORDER)
    account = None
    if native:
        account = LineAccounting()
        settled = drop_duplicates(settled, account, native_only)
    return canonical_tool_args(number_steps(settled)), account


@dataclass(frozen=True)
class PricedPartial:
    """A partition's share of a report: its partials (None: no step in the window), and what
    the window left out."""

    partial: Partial | None
    outside: int
    untimed: int


def priced_partial(settled: pl.DataFrame, request: ReportRequest) -> PricedPartial:
    """The window, the columns the report reads, prices, and the partial sums."""
    from agentcost.analysis.window import window_filter
    from agentcost.api import OPTIONAL_COLUMNS, PRICED_COLUMNS
    from agentcost.pricing.cost import price_steps

    steps, window = window_filter(settled, request.window_start, request.window_end)
    outside = window.steps_outside if window else 0
    untimed = window.steps_untimed if window else 0
    if steps.is_empty():
        return PricedPartial(None, outside, untimed)
    steps = steps.select(*PRICED_COLUMNS,
                         *(c for c in OPTIONAL_COLUMNS if c in request.read.columns), ORDER)
    priced = price_steps(steps.lazy(), request.table, cost_mode=request.cost_mode).collect()
    del steps
    return PricedPartial(partial(priced, by=request.by, charts=request.charts),
                         outside, untimed)


@dataclass
class Gathered:
    """The partitions' shares of a report, as they come back."""

    parts: list[Partial] = field(default_factory=list)
    costs: list[pl.Series] = field(default_factory=list)
    outside: int = 0
    untimed: int = 0

    def add(self, share: PricedPartial) -> None:
        from agentcost.analysis.report import WHOLE, known_costs

        self.outside += share.outside
        self.untimed += share.untimed
        if share.partial is not None:
            self.parts.append(share.partial)
            self.costs.append(known_costs(share.partial.tasks)
                              .filter(pl.col("priced") == WHOLE)["total_cost_usd"])


def gathered_report(gathered: Gathered, accounting: LineAccounting, request: ReportRequest,
                    engine: str) -> ReportRun:
    """The report the partitions' shares make together, as `engine` ran it."""
    from dataclasses import replace

    from agentcost.analysis.report import AppliedWindow
    from agentcost.engine.partials import combine, finish

    windowed = request.window_start is not None or request.window_end is not None
    applied = (AppliedWindow(request.window_start, request.window_end, gathered.outside,
                             gathered.untimed) if windowed else None)
    if not gathered.parts:  # no step: the memory executor's report of nothing, this window
        from agentcost.engine.memory import MemoryExecutor
        from agentcost.ingest.read import Ingested

        empty = replace(request.read, paths=None, steps=Ingested(no_steps(), accounting))
        run = MemoryExecutor().report(replace(request, read=empty))
        return ReportRun(replace(run.report, window=applied, engine=engine), None)
    costs = gathered.costs
    report = finish(combine(gathered.parts), accounting, price_table=request.table.file,
                    cost_mode=request.cost_mode, near_names=request.near_names,
                    by=request.by, charts=request.charts, window=applied,
                    task_costs=lambda: costs)
    return ReportRun(replace(report, engine=engine), None)


def require_usable(accounting: LineAccounting) -> None:
    """Lines were read and every one was skipped: no report of nothing."""
    from agentcost.api import NoUsableInput

    if accounting.lines_read and not accounting.lines_used and accounting.lines_skipped:
        raise NoUsableInput(accounting)


def no_steps() -> pl.DataFrame:
    """No step, with every canonical column and the input position."""
    from agentcost.schema import conform

    return conform(pl.DataFrame()).with_columns(pl.lit(None, pl.Int64).alias(ORDER)).clear()


def merge_repeats(accounting: LineAccounting, accounts: list[LineAccounting]) -> None:
    """The repeats each partition found, into the run's accounting as one pass over every
    step would have put them: counts added, the first places in input order, and each reason
    in the order its first repeat was read."""
    position = {name: index for index, name in enumerate(accounting.files)}

    def place(item: tuple[tuple[str, int], tuple[str, int] | None]) -> tuple[int, int]:
        (file, line), _ = item
        return position.get(file, len(position)), line

    for account in accounts:
        accounting.lines_used += account.lines_used
        accounting.lines_repeated += account.lines_repeated
    for kind in ("skipped", "notes"):
        found: dict[str, tuple[int, list[tuple[tuple[str, int], tuple[str, int] | None]]]] = {}
        for account in accounts:
            for reason, tally in getattr(account, kind).items():
                count, items = found.get(reason, (0, []))
                earlier: list[tuple[str, int] | None] = (
                    list(tally.earlier) if tally.earlier else [None] * len(tally.examples))
                found[reason] = (count + tally.count,
                                 items + list(zip(tally.examples, earlier, strict=True)))
        ordered = sorted(found.items(), key=lambda entry: min(map(place, entry[1][1]),
                                                              default=(0, 0)))
        for reason, (count, items) in ordered:
            first = sorted(items, key=place)
            tallies: dict[str, Tally] = getattr(accounting, kind)
            tally = tallies.setdefault(reason, Tally())
            tally.add_repeats([p for p, _ in first],
                              [e for _, e in first if e is not None], count)
