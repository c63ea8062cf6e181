"""The `local` executor: bounded memory on one machine.

The inputs are read one source at a time; each source's steps go to Parquet spill files,
bucketed by a hash of their task, and leave memory. Then bucket by bucket (whole tasks, put
back in input order): repeated steps dropped, missing step numbers filled, the window kept,
priced, and reduced to partial sums (engine/partials.py); the partials together make the
report. What is held at once: one source's steps, then one bucket's, and the partials.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import polars as pl

from agentcost.engine.partials import ORDER, Partial, combine, finish, partial
from agentcost.engine.protocol import ReadRequest, ReportRequest, ReportRun
from agentcost.engine.spill import BucketSpill
from agentcost.ingest.accounting import LineAccounting, Tally
from agentcost.ingest.duplicates import CONTENT
from agentcost.ingest.read import Ingested, SourceReading
from agentcost.schema import COLUMN_NAMES

# Input bytes per bucket: a bucket of JSON lines this size holds about 200,000 steps.
BUCKET_INPUT_BYTES = 40 * 1024 * 1024
# A big clean JSON lines file is read this many bytes at a time.
PIECE_BYTES = 16 * 1024 * 1024
MAX_BUCKETS = 4096
# A step's input position: its source's place times this, plus its place in the source.
SOURCE_STRIDE = 1 << 40
# Spilled whatever a command asks for: what telling repeats apart, numbering steps and
# pricing read.
SPILLED = frozenset({*CONTENT, "span_id", "duration_s", "tokens_estimated",
                     "reported_cost_usd", "reported_tool_cost_usd", "source_file",
                     "source_line"})


@dataclass
class _Spilled:
    spill: BucketSpill
    reading: SourceReading


class LocalExecutor:
    name = "local"

    def __init__(self, buckets: int | None = None, spill_dir: str | None = None,
                 piece_bytes: int = PIECE_BYTES) -> None:
        """`buckets`: how many spill buckets (default: one per BUCKET_INPUT_BYTES of input);
        `spill_dir`: where the spill directory goes (default: the system's temp dir);
        `piece_bytes`: how much of a big clean JSON lines file is read at a time."""
        self.buckets, self.spill_dir, self.piece_bytes = buckets, spill_dir, piece_bytes

    def steps(self, request: ReadRequest) -> Ingested:
        with self._spilled(request) as spilled:
            frames = [steps for steps in self._settled(spilled)]
        accounting = spilled.reading.accounting
        _require_usable(accounting)
        if not frames:
            return Ingested(_empty(), accounting)
        steps = pl.concat(frames, how="vertical").sort(ORDER).drop(ORDER)
        return Ingested(steps, accounting)

    def report(self, request: ReportRequest) -> ReportRun:
        from agentcost.analysis.report import WHOLE, AppliedWindow, known_costs
        from agentcost.analysis.window import window_filter
        from agentcost.api import OPTIONAL_COLUMNS, PRICED_COLUMNS
        from agentcost.pricing.cost import price_steps

        columns = (*PRICED_COLUMNS,
                   *(c for c in OPTIONAL_COLUMNS if c in request.read.columns), ORDER)
        parts: list[Partial] = []
        kept: list[pl.DataFrame] = []
        costs: list[pl.Series] = []
        outside = untimed = 0
        windowed = request.window_start is not None or request.window_end is not None
        with self._spilled(request.read) as spilled:
            for settled in self._settled(spilled):
                steps, window = window_filter(settled, request.window_start,
                                              request.window_end)
                del settled
                if window is not None:
                    outside += window.steps_outside
                    untimed += window.steps_untimed
                if steps.is_empty():
                    continue
                steps = steps.select(columns)
                if request.keep_steps:
                    kept.append(steps)
                priced = price_steps(steps.lazy(), request.table,
                                     cost_mode=request.cost_mode).collect()
                del steps
                part = partial(priced, by=request.by,
                               spread=request.charts or request.by == "block")
                del priced
                parts.append(part)
                costs.append(known_costs(part.tasks)
                             .filter(pl.col("priced") == WHOLE)["total_cost_usd"])
        accounting = spilled.reading.accounting
        _require_usable(accounting)
        applied = (AppliedWindow(request.window_start, request.window_end, outside, untimed)
                   if windowed else None)
        opportunity_steps = (pl.concat(kept).sort(ORDER).drop(ORDER) if kept
                             else None) if request.keep_steps else None
        if not parts:  # no step: the memory executor's report of nothing, with this window
            from agentcost.engine.memory import MemoryExecutor

            empty = replace(request.read, paths=None, steps=Ingested(_empty(), accounting))
            run = MemoryExecutor().report(replace(request, read=empty))
            return ReportRun(replace(run.report, window=applied, engine=self.name), run.steps)
        report = finish(combine(parts), accounting, price_table=request.table.file,
                        cost_mode=request.cost_mode, near_names=request.near_names,
                        by=request.by, charts=request.charts, window=applied,
                        task_costs=lambda: costs)
        return ReportRun(replace(report, engine=self.name), opportunity_steps)

    def _spilled(self, request: ReadRequest) -> _SpillContext:
        return _SpillContext(self, request)

    def _settled(self, spilled: _Spilled) -> Iterator[pl.DataFrame]:
        """Each bucket's steps as reading all at once would leave them: in input order,
        repeats dropped (accounted as they would be), step numbers filled."""
        from agentcost.ingest.canonical_json import canonical_tool_args
        from agentcost.ingest.duplicates import drop_duplicates
        from agentcost.ingest.read import number_steps
        from agentcost.schema import conform

        reading = spilled.reading
        accounts: list[LineAccounting] = []
        for bucket in spilled.spill.each_bucket():
            # Every canonical column again, those not spilled null, as they were not asked for.
            steps = conform(bucket).with_columns(bucket[ORDER]).sort(ORDER)
            del bucket
            if reading.native_files:
                account = LineAccounting()
                steps = drop_duplicates(steps, account, reading.native_only())
                accounts.append(account)
            yield canonical_tool_args(number_steps(steps))
        merge_repeats(reading.accounting, accounts)


class _SpillContext:
    """Reads the request's inputs into a bucket spill on entry; removes it on exit."""

    def __init__(self, executor: LocalExecutor, request: ReadRequest) -> None:
        self.executor, self.request = executor, request

    def __enter__(self) -> _Spilled:
        from agentcost.engine.choose import estimated_bytes
        from agentcost.ingest.native_read import NotCleanInPieces

        request = self.request
        if request.paths is None:
            raise ValueError("the local executor reads inputs by path")
        buckets = self.executor.buckets or min(MAX_BUCKETS, max(1, math.ceil(
            estimated_bytes(request.paths) / BUCKET_INPUT_BYTES)))
        try:
            return self._spill(request.paths, buckets, self.executor.piece_bytes)
        except NotCleanInPieces:
            # A file that is not clean is read in chunks, as one read of all would read it:
            # read everything again that way, so that its accounting is that read's.
            return self._spill(request.paths, buckets, None)

    def _spill(self, paths: Sequence[str], buckets: int, piece_bytes: int | None
               ) -> _Spilled:
        request = self.request
        reading = SourceReading(paths, columns=request.columns,
                                input_format=request.input_format, task_key=request.task_key,
                                progress=request.progress, jobs=request.jobs,
                                max_line_bytes=request.max_line_bytes)
        if not any(source.read_once for source in reading.sources):  # no second reading
            reading.piece_bytes = piece_bytes
        self.spill = BucketSpill(buckets, self.executor.spill_dir)
        # The columns asked for, and those every bucket's settling and pricing read.
        kept = [name for name in COLUMN_NAMES if name in SPILLED or name in request.columns]
        try:
            placed: dict[int, int] = {}
            for index, frame in reading.frames():
                start = index * SOURCE_STRIDE + placed.get(index, 0)
                placed[index] = placed.get(index, 0) + frame.height
                self.spill.write(frame.select(
                    *kept, (pl.int_range(pl.len(), dtype=pl.Int64) + start).alias(ORDER)))
                del frame
        except BaseException:
            self.spill.close()
            raise
        return _Spilled(self.spill, reading)

    def __exit__(self, *exc: object) -> None:
        self.spill.close()


def merge_repeats(accounting: LineAccounting, accounts: list[LineAccounting]) -> None:
    """The repeats each bucket found, into the run's accounting as one pass over every step
    would have put them: counts added, the first places in input order, and each reason in
    the order its first repeat was read."""
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


def _require_usable(accounting: LineAccounting) -> None:
    from agentcost.api import NoUsableInput

    if accounting.lines_read and not accounting.lines_used and accounting.lines_skipped:
        raise NoUsableInput(accounting)


def _empty() -> pl.DataFrame:
    from agentcost.schema import conform

    return conform(pl.DataFrame()).with_columns(pl.lit(None, pl.Int64).alias(ORDER)).clear()
