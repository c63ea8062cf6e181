"""The `ray` executor: the plan's functions as Ray tasks, across the machines of a cluster.

1. Reading. Each source is read where it is: local paths (and stdin) by this process, one
   source at a time, as the local executor reads them; objects in object storage (s3://,
   gs://) by tasks on the cluster, a batch of objects each. A read's steps are hash-
   partitioned by task (plan.task_bucket) and put in Ray's object store as they come, a frame
   per partition; only the line accounting comes back here. A batch read apart from the
   others gives what one read of every input gives only when no reader needs another file
   (native JSON lines): when some does, one task reads every object together instead.
2. Per partition, one task (whole tasks, back in input order): plan.settle, then
   plan.priced_partial: the partial sums and the partition's task costs.
3. Here: the partials combined once (engine/partials.py), the repeats' accounting merged,
   the percentiles found over the partitions' task costs.

A simulation runs the same way (engine/simulated.py): per partition, one task plays every
scenario on its whole tasks; when a scenario caches tool calls, a task per partition first
splits its calls by tool and arguments, and a task per split finds the hits, which every
partition's task is then given.

The same report as the memory executor, byte for byte. Ray is an optional extra; a cluster
is joined at `address` (or RAY_ADDRESS), else a local one is started for the run.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

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
    task_bucket,
)
from agentcost.engine.protocol import ReadRequest, ReportRequest, ReportRun
from agentcost.errors import UsageError
from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.remote import INSTALL, first_line

if TYPE_CHECKING:
    from agentcost.engine.simulated import Hits, PartitionShare, SimulateRequest, SimulateRun
    from agentcost.ingest.read import Ingested
    from agentcost.ingest.sources import Source
    from agentcost.store.scan import Piece, StoreScan

# Input bytes per partition, as the local executor's buckets; and at least this many
# partitions per CPU of the cluster, so that every CPU has work.
PARTITION_INPUT_BYTES = 40 * 1024 * 1024
PARTITIONS_PER_CPU = 2
MAX_PARTITIONS = 4096
# Objects a read task fetches and reads, by their size.
READ_BATCH_BYTES = 256 * 1024 * 1024
# Steps gathered before they are partitioned and put in the object store.
FLUSH_ROWS = 200_000
# A step held in memory, for the partition count of steps given as a frame.
BYTES_PER_STEP = 250


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, partitions: int | None = None) -> None:
        """`address`: the cluster to join (default: RAY_ADDRESS, else a local cluster is
        started); `partitions`: how many hash partitions of tasks (default: one per 40 MiB
        of input, at least two per CPU of the cluster)."""
        if partitions is not None and partitions < 1:
            raise UsageError(f"partitions={partitions}: at least 1")
        self.address, self.partitions = address, partitions

    def report(self, request: ReportRequest) -> ReportRun:
        ray = connected(self.address)
        spread = self._spread(ray, request.read)
        wanted = ray.put(replace(request, read=_sendable(request.read)))
        gathered = Gathered()
        for share, account in results(ray, [
                task(_priced).remote(wanted, spread.native_only, spread.native, refs)
                for refs in spread.partitions if refs]):
            gathered.add(share)
            spread.accounts.append(account)
        merge_repeats(spread.accounting, spread.accounts)
        require_usable(spread.accounting)
        return gathered_report(gathered, spread.accounting, request, self.name)

    def simulate(self, request: SimulateRequest) -> SimulateRun:
        from agentcost.engine.simulated import simulated

        ray = connected(self.address)
        spread = self._spread(ray, request.read)
        wanted = ray.put(replace(request, read=_sendable(request.read), stage=None))
        filled = [refs for refs in spread.partitions if refs]
        hits = ray.put(_cache_hits(ray, request, wanted, spread, filled) if request.caching
                       else None)
        shares = []
        for share, account in results(ray, [
                task(_simulated).remote(wanted, hits, spread.native_only, spread.native, refs)
                for refs in filled]):
            shares.append(share)
            spread.accounts.append(account)
        merge_repeats(spread.accounting, spread.accounts)
        require_usable(spread.accounting)
        return simulated(request, shares, spread.accounting)

    def steps(self, request: ReadRequest) -> Ingested:
        from agentcost.ingest.read import Ingested

        ray = connected(self.address)
        spread = self._spread(ray, request)
        frames: list[pl.DataFrame] = []
        for settled, account in results(ray, [
                task(_settle).remote(refs, spread.native_only, spread.native)
                for refs in spread.partitions if refs]):
            frames.append(settled)
            spread.accounts.append(account)
        merge_repeats(spread.accounting, spread.accounts)
        require_usable(spread.accounting)
        if not frames:
            return Ingested(no_steps().drop(ORDER), spread.accounting)
        return Ingested(pl.concat(frames, how="vertical").sort(ORDER).drop(ORDER),
                        spread.accounting)

    def _spread(self, ray: Any, read: ReadRequest) -> _Spread:
        """The request's steps read and put in the object store, partitioned by task."""
        if read.store is not None:
            return _store_spread(ray, read, self._count(ray, read.store.rows * BYTES_PER_STEP))
        if read.paths is None:
            return _given_steps(ray, read, self._count(ray, _given_bytes(read)))
        from agentcost.ingest.sources import expand_inputs

        sources, repeated = expand_inputs(list(read.paths))
        accounting = LineAccounting()
        for display in repeated:
            accounting.note(f"{display}: named more than once, read once", display, [],
                            count=1)
        partitions = self._count(ray, sum(source.size or 0 for source in sources))
        alone = len(sources) == 1
        if all(source.remote is not None for source in sources):
            return _read_on_cluster(sources, read, partitions, accounting, alone=alone)
        # Files on this machine's disk (and stdin) are read here; so are objects named
        # beside them, to keep one read in input order.
        read_here = _read_sources(sources, 0, read, partitions, alone=alone, apart=False,
                                  in_store=True)
        return _Spread.of(accounting, [read_here], partitions)

    def _count(self, ray: Any, input_bytes: int) -> int:
        if self.partitions is not None:
            return self.partitions
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return min(MAX_PARTITIONS, max(PARTITIONS_PER_CPU * cpus,
                                       math.ceil(input_bytes / PARTITION_INPUT_BYTES)))


def connected(address: str | None) -> Any:
    """Ray, joined to the cluster at `address` (or RAY_ADDRESS), or to a local Ray started
    for this process; joined once per process."""
    try:
        import ray
    except ImportError as error:
        raise UsageError(f"--engine ray needs Ray: {INSTALL}") from error
    where = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():
        joined = ray.get_runtime_context().gcs_address
        if where not in (None, "auto", "local", joined):
            raise UsageError(f"Ray cluster at {where}: this process is joined to {joined} "
                             "already; ray.shutdown() first to run on another")
        return ray
    import logging

    _answers(where)
    try:
        # "local": a new local Ray, never one a stale record says runs on this machine.
        ray.init(address=where or "local", include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False, configure_logging=True)
    except ConnectionError as error:
        raise UsageError(f"Ray cluster at {where}: cannot join it: {first_line(error)} (does "
                         "RAY_AUTH_TOKEN hold its token, if it asks for one?)") from error
    except (RuntimeError, ValueError) as error:
        raise UsageError(f"Ray cluster at {where}: cannot join it: {first_line(error)}"
                         ) from error
    same_code_everywhere(ray)
    return ray


def same_code_everywhere(ray: Any) -> None:
    """Every node of the cluster runs the agentcost this process runs: a node with other
    code would compute other figures, or fail halfway."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [node["NodeID"] for node in ray.nodes()
             if node["Alive"] and node["Resources"].get("CPU")]
    theirs = results(ray, [task(_node_code).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote()
        for node in nodes])
    ours = code_fingerprint()
    other = sorted({code for code in theirs if code != ours})
    if other:
        raise UsageError(f"the cluster's nodes run other agentcost code ({', '.join(other)}) "
                         f"than this process ({ours}): install the same on every node")


@functools.cache
def code_fingerprint() -> str:
    """agentcost's version and a hash of its source files: the same wherever the same code
    is installed."""
    import hashlib
    from pathlib import Path

    import agentcost

    root = Path(agentcost.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{agentcost.__version__}+{digest.hexdigest()[:12]}"


def _node_code() -> str:
    return code_fingerprint()


def _answers(address: str | None, seconds: float = 10) -> None:
    """A cluster named host:port answers there: Ray itself would wait for ever."""
    import socket

    if address is None or "://" in address or ":" not in address:
        return  # local, auto, ray://...: Ray's own ways of finding it
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except (OSError, ValueError) as error:
        raise UsageError(f"Ray cluster at {address}: nothing answers there "
                         f"({first_line(error)})") from error


def results(ray: Any, refs: list[Any]) -> list[Any]:
    """What the tasks returned, in order; a task's error as the error it raised (a message
    for the user when it is one), not as Ray's report of it."""
    from agentcost.errors import AgentCostError

    try:
        return list(ray.get(refs))
    except ray.exceptions.RayTaskError as error:
        cause = error.cause
        if isinstance(cause, AgentCostError):
            raise cause from None
        raise AgentCostError(f"a Ray task failed: {type(cause).__name__}: "
                             f"{first_line(cause)}") from None


@dataclass
class _Read:
    """What one read gave: its accounting, which of its sources were native JSON lines,
    whether it read what it read as one read of all inputs would, and its steps in the
    object store, a list of frames per partition."""

    accounting: LineAccounting
    native_files: list[str]
    apart_ok: bool
    partitions: list[list[Any]]


@dataclass
class _Spread:
    accounting: LineAccounting
    native_only: list[str] | None
    native: bool
    partitions: list[list[Any]]
    accounts: list[LineAccounting]

    @classmethod
    def of(cls, accounting: LineAccounting, reads: list[_Read], partitions: int) -> _Spread:
        """The reads of a run's sources, in input order, after the notes in `accounting`."""
        native_files: list[str] = []
        refs: list[list[Any]] = [[] for _ in range(partitions)]
        for read in reads:
            accounting.append(read.accounting)
            native_files += read.native_files
            for mine, theirs in zip(refs, read.partitions, strict=True):
                mine += theirs
        native_only = None if len(native_files) == len(accounting.files) else native_files
        return cls(accounting, native_only, bool(native_files), refs, [])


def _sendable(read: ReadRequest) -> ReadRequest:
    """The request as tasks get it: no progress display (it is this process's), reading on
    one process each (a task is given one CPU)."""
    return replace(read, progress=None, jobs=1)


def _given_bytes(read: ReadRequest) -> int:
    steps = read.steps
    assert steps is not None
    return (steps.height if isinstance(steps, pl.DataFrame) else steps.steps.height
            ) * BYTES_PER_STEP


def _given_steps(ray: Any, read: ReadRequest, partitions: int) -> _Spread:
    """Steps given in memory (a frame, a store's steps): read as the memory executor reads
    them, numbered by their row, and partitioned."""
    from agentcost.api import ingested_steps

    ingested = ingested_steps(read)
    steps = ingested.steps.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(ORDER))
    put = _Partitioned(partitions, in_store=True)
    put.add(steps)
    return _Spread(ingested.accounting, None, False, put.done(), [])


def _store_spread(ray: Any, read: ReadRequest, partitions: int) -> _Spread:
    """A store's parts read by tasks, a piece each, where they are (a shared disk, object
    storage); only the steps of inputs named beside it, which it does not hold, are put in
    the object store from here."""
    from agentcost.store.scan import StoreReading, new_steps, sendable, store_pieces

    scan = read.store
    assert scan is not None
    sent = ray.put(sendable(scan))
    pieces = store_pieces(scan)
    started = [task(_read_store_piece).options(num_returns=partitions + 1).remote(
        sent, piece, partitions) for piece in pieces]
    put = _Partitioned(partitions, in_store=True)
    put.add(new_steps(scan))
    refs = put.done()
    counts = results(ray, [each[0] for each in started])
    scan.earlier_read = sum(count for count, piece in zip(counts, pieces, strict=True)
                            if piece.earlier)
    for each in started:
        for mine, ref in zip(refs, each[1:], strict=True):
            mine.append(ref)
    return _Spread(StoreReading(scan).accounting, None, False, refs, [])


def _read_on_cluster(sources: list[Source], read: ReadRequest, partitions: int,
                     accounting: LineAccounting, *, alone: bool) -> _Spread:
    """Sources with objects in object storage, read by tasks: a batch each, or all in one
    task when some batch holds a file that only a read of every file reads right."""
    import ray

    from agentcost.ingest.readers import AUTO
    from agentcost.ingest.readers.native import READER as NATIVE

    if read.input_format in (AUTO, NATIVE.name) and len(sources) > 1:
        started = [_started_read(batch, first, read, partitions, alone=alone, apart=True)
                   for first, batch in _batches(sources)]
        reads = [replace(each, partitions=[[ref] for ref in refs])
                 for each, refs in zip(results(ray, [meta for meta, _ in started]),
                                       (refs for _, refs in started), strict=True)]
        if all(each.apart_ok for each in reads):
            return _Spread.of(accounting, reads, partitions)
        del started, reads
    meta, refs = _started_read(sources, 0, read, partitions, alone=alone, apart=False)
    whole = replace(results(ray, [meta])[0], partitions=[[ref] for ref in refs])
    return _Spread.of(accounting, [whole], partitions)


def _started_read(sources: list[Source], first: int, read: ReadRequest, partitions: int, *,
                  alone: bool, apart: bool) -> tuple[Any, list[Any]]:
    """A read task started: the reference to its account, and one to its steps of each
    partition (this process owns them, so they outlive the task's worker)."""
    refs = task(_read_batch).options(num_returns=partitions + 1).remote(
        sources, first, _sendable(read), partitions, alone, apart)
    return refs[0], refs[1:]


def _batches(sources: list[Source]) -> Iterator[tuple[int, list[Source]]]:
    """Consecutive sources of about READ_BATCH_BYTES each, with the first one's place."""
    first, held = 0, 0
    batch: list[Source] = []
    for index, source in enumerate(sources):
        if batch and held + (source.size or 0) > READ_BATCH_BYTES:
            yield first, batch
            first, batch, held = index, [], 0
        batch.append(source)
        held += source.size or 0
    if batch:
        yield first, batch


def _read_sources(sources: Sequence[Source], first: int, read: ReadRequest, partitions: int,
                  *, alone: bool, apart: bool, in_store: bool) -> _Read:
    """`sources`, the run's from place `first` on, read and partitioned. `in_store`: each
    partition's steps put in the object store as they come (else kept, as frames). `apart`:
    read apart from the run's other sources, which stops at the first file whose reader
    needs the others (its read is then not `apart_ok`)."""
    from agentcost.ingest.read import SourceReading
    from agentcost.ingest.readers.native import READER as NATIVE

    reading = SourceReading(sources, columns=read.columns, input_format=read.input_format,
                            task_key=read.task_key, progress=read.progress, jobs=read.jobs,
                            max_line_bytes=read.max_line_bytes, alone=alone)
    put = _Partitioned(partitions, in_store)

    def needs_the_others() -> bool:
        return apart and bool(set(reading.accounting.formats) - {NATIVE.label})

    frames = reading.frames()
    try:
        for steps in positioned_frames(frames, reading.order, carried_columns(read.columns),
                                       first):
            if needs_the_others():
                return _Read(reading.accounting, [], False, [])
            put.add(steps)
    finally:
        frames.close()
    if needs_the_others():
        return _Read(reading.accounting, [], False, [])
    return _Read(reading.accounting, reading.native_files, True, put.done())


class _Partitioned:
    """Steps gathered by task partition, FLUSH_ROWS at a time: each piece put in Ray's
    object store as it comes (`in_store`), or kept to be returned, one frame a partition."""

    def __init__(self, partitions: int, in_store: bool) -> None:
        self.parts: list[list[Any]] = [[] for _ in range(partitions)]
        self.in_store = in_store
        self._pending: list[pl.DataFrame] = []
        self._rows = 0

    def add(self, steps: pl.DataFrame) -> None:
        if steps.is_empty():
            return
        self._pending.append(steps)
        self._rows += steps.height
        if self._rows >= FLUSH_ROWS:
            self._flush()

    def done(self) -> list[list[Any]]:
        self._flush()
        return self.parts

    def _flush(self) -> None:
        import ray

        if not self._pending:
            return
        steps = pl.concat(self._pending, how="vertical")
        self._pending, self._rows = [], 0
        split = steps.with_columns(task_bucket(len(self.parts)).alias("_partition")
                                   ).partition_by("_partition", as_dict=True,
                                                  include_key=False)
        for (partition,), part in split.items():
            self.parts[int(partition)].append(ray.put(part) if self.in_store else part)


def _partition_steps(refs: list[Any]) -> pl.DataFrame:
    """A partition's steps from its pieces in the object store (a read task's are one frame
    or None)."""
    import ray

    pieces = [piece for piece in ray.get(refs) if piece is not None]
    return pl.concat(pieces, how="vertical") if pieces else no_steps()


def _settle(refs: list[Any], native_only: list[str] | None, native: bool
            ) -> tuple[pl.DataFrame, LineAccounting]:
    settled, account = settle(_partition_steps(refs), native_only, native=native)
    return settled, account or LineAccounting()


@functools.cache
def task(function: Any) -> Any:
    """`function` as a Ray task of one CPU (made once Ray is imported: this module loads
    without it)."""
    import ray

    return ray.remote(num_cpus=1)(function)


def _read_batch(sources: list[Source], first: int, read: ReadRequest, partitions: int,
                alone: bool, apart: bool) -> tuple[Any, ...]:
    """A read task: its account, then its steps of each partition (None: none)."""
    done = _read_sources(sources, first, read, partitions, alone=alone, apart=apart,
                         in_store=False)
    frames = [pl.concat(parts, how="vertical") if parts else None
              for parts in done.partitions] if done.apart_ok else [None] * partitions
    return (replace(done, partitions=[]), *frames)


def _cache_hits(ray: Any, request: SimulateRequest, wanted: Any, spread: _Spread,
                filled: list[list[Any]]) -> Hits:
    """Every caching scenario's hits: a task per partition splits its tool calls by tool and
    arguments, and a task per split finds the hits among them."""
    from agentcost.engine.simulated import hits_together

    splits = len(filled)
    calls = [task(_split_calls).options(num_returns=splits).remote(
        wanted, splits, spread.native_only, spread.native, refs) for refs in filled]
    if splits == 1:  # one return is a reference, not a list of them
        calls = [[each] for each in calls]
    return hits_together(results(ray, [task(_hits).remote(*(split[index] for split in calls))
                                       for index in range(splits)]), request)


def _split_calls(request: SimulateRequest, splits: int, native_only: list[str] | None,
                 native: bool, refs: list[Any]) -> Any:
    """A partition's tool calls for the caching scenarios, one frame per split."""
    from agentcost.engine.simulated import cache_calls, call_bucket

    settled, _ = _settle(refs, native_only, native)
    calls = cache_calls(settled, request).with_columns(call_bucket(splits).alias("_split"))
    frames = [calls.filter(pl.col("_split") == index).drop("_split") for index in range(splits)]
    return frames[0] if splits == 1 else tuple(frames)


def _hits(*calls: pl.DataFrame) -> Hits:
    """A split's hits, from every partition's calls of its keys."""
    from agentcost.engine.simulated import hits_in

    return hits_in(pl.concat(calls, how="vertical"))


def _simulated(request: SimulateRequest, hits: Hits | None, native_only: list[str] | None,
               native: bool, refs: list[Any]) -> tuple[PartitionShare, LineAccounting]:
    """A partition task: its share of every scenario and of the budget sweep."""
    from agentcost.engine.simulated import partition_share

    settled, account = _settle(refs, native_only, native)
    return partition_share(settled, request, hits), account


def _read_store_piece(scan: StoreScan, piece: Piece, partitions: int) -> tuple[Any, ...]:
    """A store read task: how many steps it read, then its steps of each partition (None:
    none)."""
    from agentcost.store.scan import piece_steps

    put = _Partitioned(partitions, in_store=False)
    read = 0
    for steps in piece_steps(scan, piece):
        read += steps.height
        put.add(steps)
    return (read, *(pl.concat(parts, how="vertical") if parts else None
                    for parts in put.done()))


def _priced(request: ReportRequest, native_only: list[str] | None, native: bool,
            refs: list[Any]) -> tuple[Any, LineAccounting]:
    """A partition task: its share of the report."""
    settled, account = _settle(refs, native_only, native)
    return priced_partial(settled, request), account
