"""The `local` executor: bounded memory on one machine.

The inputs are read one source at a time; each source's steps go to Parquet spill files,
bucketed by a hash of their task, and leave memory. Then bucket by bucket (whole tasks, put
back in input order): repeated steps dropped, missing step numbers filled, the window kept,
priced, and reduced to partial sums (engine/partials.py); the partials together make the
report. What is held at once: one source's steps, then one bucket's, and the partials.
A simulation goes bucket by bucket the same way (engine/simulated.py); when it caches tool
calls, the calls are spilled again by tool and arguments first, to find the hits.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import polars as pl

from agentcost.engine.partials import ORDER
from agentcost.engine.plan import (
    Gathered,
    carried_columns,
    gathered_report,
    merge_repeats,
    no_steps,
    positioned_frames,
    priced_partial,
    require_usable,
    settle,
)
from agentcost.engine.protocol import ReadRequest, ReportRequest, ReportRun
from agentcost.engine.simulated import (
    Hits,
    SimulateRequest,
    SimulateRun,
    Stages,
    cache_calls,
    call_bucket,
    hits_in,
    hits_together,
    partition_share,
    simulated,
)
from agentcost.engine.spill import BucketSpill
from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.read import Ingested, SourceReading
from agentcost.store.scan import StoreReading, StoreScan, new_steps

# Input bytes per bucket: a bucket of JSON lines this size holds about 200,000 steps.
BUCKET_INPUT_BYTES = 40 * 1024 * 1024
# A big clean JSON lines file is read this many bytes at a time.
PIECE_BYTES = 16 * 1024 * 1024
MAX_BUCKETS = 4096
# Stored steps per bucket: about what BUCKET_INPUT_BYTES of JSON lines hold.
BUCKET_STORED_STEPS = 200_000


@dataclass
class _Spilled:
    spill: BucketSpill
    reading: SourceReading | StoreReading


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
        require_usable(accounting)
        if not frames:
            return Ingested(no_steps(), accounting)
        steps = pl.concat(frames, how="vertical").sort(ORDER).drop(ORDER)
        return Ingested(steps, accounting)

    def report(self, request: ReportRequest) -> ReportRun:
        gathered = Gathered()
        with self._spilled(request.read) as spilled:
            for settled in self._settled(spilled):
                gathered.add(priced_partial(settled, request))
                del settled
        accounting = spilled.reading.accounting
        require_usable(accounting)
        return gathered_report(gathered, accounting, request, self.name)

    def _spilled(self, request: ReadRequest) -> _SpillContext:
        return _SpillContext(self, request)

    def simulate(self, request: SimulateRequest) -> SimulateRun:
        with self._spilled(request.read) as spilled:
            stages = Stages(request, spilled.spill.filled() + bool(request.caching))
            hits = None
            if request.caching:
                stages.starting("finding tool-cache hits")
                hits = self._cache_hits(spilled, request)
            shares = []
            for settled in self._settled(spilled):
                stages.starting("simulating")
                shares.append(partition_share(settled, request, hits))
                del settled
        accounting = spilled.reading.accounting
        require_usable(accounting)
        return simulated(request, shares, accounting)

    def _cache_hits(self, spilled: _Spilled, request: SimulateRequest) -> Hits:
        """Every caching scenario's hits: the tool calls of each bucket of tasks spilled
        again, by tool and arguments, then each of those buckets replayed."""
        with BucketSpill(spilled.spill.buckets, self.spill_dir,
                         bucket_of=call_bucket) as calls:
            for settled in self._settled(spilled, account=False):
                calls.write(cache_calls(settled, request))
            return hits_together(map(hits_in, calls.each_bucket()), request)

    def _settled(self, spilled: _Spilled, *, account: bool = True) -> Iterator[pl.DataFrame]:
        """Each bucket's steps as reading all at once would leave them (plan.settle); the
        repeats they held go to the run's accounting once every bucket is settled (unless
        not `account`: a pass that settles the buckets a second time)."""
        reading = spilled.reading
        accounts: list[LineAccounting] = []
        for bucket in spilled.spill.each_bucket():
            steps, repeats = settle(bucket, reading.native_only(),
                                    native=bool(reading.native_files))
            del bucket
            if repeats is not None:
                accounts.append(repeats)
            yield steps
        if account:
            merge_repeats(reading.accounting, accounts)


class _SpillContext:
    """Reads the request's inputs into a bucket spill on entry; removes it on exit."""

    def __init__(self, executor: LocalExecutor, request: ReadRequest) -> None:
        self.executor, self.request = executor, request

    def __enter__(self) -> _Spilled:
        from agentcost.engine.choose import estimated_bytes
        from agentcost.ingest.native_read import NotCleanInPieces

        request = self.request
        if request.store is not None:
            return self._spill_store(request.store)
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
        columns = carried_columns(request.columns)
        try:
            for steps in positioned_frames(reading.frames(), reading.order, columns):
                self.spill.write(steps)
        except BaseException:
            self.spill.close()
            raise
        return _Spilled(self.spill, reading)

    def _spill_store(self, scan: StoreScan) -> _Spilled:
        """A store's steps into the buckets a part at a time, as a file's are."""
        from agentcost.store.scan import piece_steps, store_pieces

        self.spill = BucketSpill(self.executor.buckets or min(MAX_BUCKETS, max(1, math.ceil(
            scan.rows / BUCKET_STORED_STEPS))), self.executor.spill_dir)
        scan.earlier_read = 0
        try:
            self.spill.write(new_steps(scan))
            for piece in store_pieces(scan):
                for steps in piece_steps(scan, piece):
                    scan.earlier_read += steps.height if piece.earlier else 0
                    self.spill.write(steps)
        except BaseException:
            self.spill.close()
            raise
        return _Spilled(self.spill, StoreReading(scan))

    def __exit__(self, *exc: object) -> None:
        self.spill.close()
