"""Every thread and process agentcost starts: an ordered map over chunks on N processes, and a
reader thread that keeps one chunk ahead. Nothing else in the package starts either (the
libraries it uses start two for it: multiprocessing's resource tracker with the first pool, and
rich's refresh thread for the commands' progress bar on a terminal).

Parsing JSON and walking it is Python work, held to one core by the GIL: a big span file is cut
into chunks, and with `jobs=N` this process and N - 1 worker processes each take chunks, the
results coming back in input order. The pool lives inside one call: made when the call has a
second chunk to give (or before, as `Workers`, by a reader that will have many files to give),
shut down when it returns (its workers gone) or is interrupted. Workers are spawned (polars'
thread pool does not survive a fork), run polars on one thread each (the cores are shared out
by processes), ignore Ctrl-C (the parent handles it and shuts them down), and leave by
themselves if the parent dies.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future
from contextlib import contextmanager, suppress
from itertools import chain, islice
from typing import TYPE_CHECKING, Generic, Literal, TypeVar, cast

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

Jobs = int | Literal["auto"]
Item = TypeVar("Item")
Result = TypeVar("Result")

# Chunks queued per worker: one being worked on and two waiting. This process hands out more
# only between chunks of its own, which may take longer than a worker's: with one waiting, a
# worker that finishes early sits idle until then. Few results are held at once.
QUEUED_PER_WORKER = 3
# "auto" gives a process to each this much input, up to the usable cores: below twice this,
# one process, as a worker's start (a Python importing polars) would cost more than it saves.
AUTO_BYTES_PER_PROCESS = 16 * 1024 * 1024
MAX_JOBS = 256
# What a worker that dies or cannot start (no /dev/shm, process limits) raises.
WORKER_FAILURES = (BrokenExecutor, OSError)
PARENT_CHECK_SECONDS = 0.5
POLARS_THREADS = "POLARS_MAX_THREADS"
# A worker writes each result into a pipe that this process reads. A result larger than the
# pipe holds (64 KiB by default) keeps the worker waiting until this process, busy with items
# of its own, has read it; Linux lets a pipe hold up to 1 MiB (fs.pipe-max-size) unprivileged.
RESULT_PIPE_BYTES = 1024 * 1024
# How long a reader thread is waited for once its consumer stops (Ctrl-C, an error): it may be
# inside a read that returns only with more input (a pipe). It is a daemon thread.
READER_STOP_SECONDS = 0.2
_DONE = object()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (taskset, cpusets). A container's
    CPU quota is not counted: give --jobs N there."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def jobs_for(jobs: Jobs, input_bytes: int | None) -> int:
    """The processes to read an input of `input_bytes` with (None: unknown, as for a stream or
    a gzip file): `jobs` as given, or for "auto", one per AUTO_BYTES_PER_PROCESS of input up to
    the usable cores (all of them for an input of unknown size)."""
    if jobs != "auto":
        return max(1, jobs)
    if input_bytes is None:
        return usable_cores()
    return max(1, min(usable_cores(), input_bytes // AUTO_BYTES_PER_PROCESS))


class _Slot(Generic[Item, Result]):
    """One item's result: computed here, or on its way back from a worker."""

    def __init__(self, item: Item, work: Callable[[Item], Result],
                 future: Future[Result] | None) -> None:
        self.item, self.work, self.future = item, work, future
        self.result = work(item) if future is None else None

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def take(self) -> Result:
        if self.future is None:
            return cast(Result, self.result)
        try:
            return self.future.result()
        except WORKER_FAILURES:  # the worker died (killed, out of memory): do it here
            return self.work(self.item)


class Workers:
    """Worker processes started before the items of the `ordered_map` they are for are known,
    so that they start while this process finds the items: given to that call, which shuts
    them down as it does its own, or closed unused."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool: tuple[ProcessPoolExecutor, Future[None]] | None = None
        with suppress(*WORKER_FAILURES):  # none then: the call makes its own
            self._pool = _pool(count)

    def take(self) -> tuple[ProcessPoolExecutor, Future[None]] | None:
        pool, self._pool = self._pool, None
        return pool

    def close(self) -> None:
        pool = self.take()
        if pool is not None:
            pool[0].shutdown(wait=False, cancel_futures=True)


def ordered_map(work: Callable[[Item], Result], items: Iterable[Item], *,
                jobs: int, workers: Workers | None = None) -> Iterator[Result]:
    """`map(work, items)` on `jobs` processes, this one included; results are yielded in input
    order, each as soon as it and all before it are done. `work` and the items must pickle.
    Workers get items only once one of them has started: until then this process takes them
    all, so that no item waits for a worker's start (the call's end waits for the workers to
    leave, a short one for the first to have started). `workers`: started ahead for this
    call, `jobs - 1` of them; the call shuts them down."""
    iterator = iter(items)
    first_two = list(islice(iterator, 2))
    all_items = chain(first_two, iterator)
    ahead = None
    if workers is not None:
        ahead = workers.take() if workers.count == jobs - 1 else None
        workers.close()
    if jobs <= 1 or len(first_two) < 2:
        if ahead is not None:
            ahead[0].shutdown(wait=False, cancel_futures=True)
        yield from map(work, all_items)
        return
    try:
        pool, started = ahead or _pool(jobs - 1)
    except WORKER_FAILURES:  # no workers then: everything is done here
        yield from map(work, all_items)
        return
    finished = False
    try:
        slots: deque[_Slot[Item, Result]] = deque()
        workers_alive, queue_limit = True, QUEUED_PER_WORKER * (jobs - 1)
        for item in all_items:
            future = None
            if workers_alive and started.done() and _queued(slots) < queue_limit:
                try:
                    with _spawning():
                        future = pool.submit(work, item)
                except WORKER_FAILURES:  # they died: carry on here
                    workers_alive = False
            slots.append(_Slot(item, work, future))
            while slots and slots[0].ready():
                yield slots.popleft().take()
        while slots:
            yield slots.popleft().take()
        finished = True
    finally:
        # Done, the workers are idle and leave at once: the call returns with none left. Cut
        # short (Ctrl-C, an error), it does not wait for the chunks they are working on.
        pool.shutdown(wait=finished, cancel_futures=True)


def _pool(workers: int) -> tuple[ProcessPoolExecutor, Future[None]]:
    """A pool of `workers` spawned processes, and a future done once the first is ready."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _spawning():
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker,
                                   initargs=(os.getpid(),),
                                   mp_context=multiprocessing.get_context("spawn"))
        try:
            _roomy_result_pipe(pool)
            return pool, pool.submit(_ready)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _roomy_result_pipe(pool: ProcessPoolExecutor) -> None:
    """The pool's result pipe made RESULT_PIPE_BYTES large, where the system allows it (Linux).
    The pipe is the executor's own: where it is not found as expected, it is left as it is."""
    try:
        import fcntl
    except ImportError:  # not on a Unix
        return
    result_queue = getattr(pool, "_result_queue", None)
    reader = getattr(result_queue, "_reader", None)
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if reader is not None and resize is not None:
        with suppress(OSError, ValueError):  # a lower system limit: the default size stays
            fcntl.fcntl(reader.fileno(), resize, RESULT_PIPE_BYTES)


@contextmanager
def _spawning() -> Iterator[None]:
    """Around a submit, which may start a worker. Started with SIGINT blocked, a worker cannot
    be interrupted before it ignores Ctrl-C (a Ctrl-C meanwhile waits here, then interrupts
    this process as usual). Started with POLARS_MAX_THREADS set, its polars is on one thread
    even when importing the caller's main module loads polars before the initializer runs."""
    previous_threads = os.environ.get(POLARS_THREADS)
    os.environ[POLARS_THREADS] = "1"
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if previous_threads is None:
            del os.environ[POLARS_THREADS]
        else:
            os.environ[POLARS_THREADS] = previous_threads
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _queued(slots: deque[_Slot[Item, Result]]) -> int:
    return sum(1 for slot in slots if slot.future is not None and not slot.future.done())


def _start_worker(parent: int) -> None:
    """Runs first in each worker, before any chunk work imports polars. `parent`: the pid of
    the process that made the pool, as it gave it (a parent killed while this worker was
    starting is no longer this process's parent, and must not be waited for)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[POLARS_THREADS] = "1"
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    # Every worker's work makes polars frames: imported now, the worker is ready for its
    # first item only once it can work on it at full speed.
    import polars  # noqa: F401


def _exit_with(parent: int) -> None:
    """A parent killed outright (out of memory, kill -9) cannot shut its workers down, and a
    worker's own end of its task pipe would keep it waiting for ever: it leaves once the parent
    is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _ready() -> None:
    """A worker's first task: its answer says the pool has started."""


def read_ahead(items: Iterator[Item], depth: int = 1) -> Iterator[Item]:
    """`items`, produced one ahead on a thread, so that reading the next chunk overlaps with
    working on this one (reading releases the GIL, as polars' decoding does). An error raised
    by `items` is raised here, where the item would have been used."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        """Put `item` in the queue, unless the consumer stops listening meanwhile: a producer
        blocked on a full queue would otherwise never return."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        # Ctrl-C is for the main thread, which waits on the queue and can act on it.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            hand_over(error)

    reader = threading.Thread(target=produce, name="agentcost-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(Item, item)
    finally:
        stop.set()
        reader.join(timeout=READER_STOP_SECONDS)
