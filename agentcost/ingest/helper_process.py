"""Share chunk work with one helper process on a machine with cores to spare.

Parsing JSON and walking it is Python work, held to one core by the GIL. Big span files are
read in chunks; the helper takes a chunk whenever it is free, this process takes the rest, and
the results come back in input order. The helper is spawned (never forked: polars' thread pool
does not survive a fork), either early, when a command sees a big span file among its inputs
(early_helper.py), or, for input of unknown size (gzip, stdin), once a second chunk shows it
is big enough to repay its start-up. A helper started early may be handed the first items
before the reader asks for them (`submit_ahead`): the reader takes their results if it asks for
the same work on the same items.

Only the commands use it (they call `allow_helper`): a program calling the readers as a library
gets no process it did not ask for (spawning re-imports the caller's main module, which a
script without an `if __name__ == "__main__"` guard cannot bear).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # multiprocessing is imported when a helper is started: most runs need none
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.process import BaseProcess

# Items handed to the helper ahead of time: one being worked on and one waiting, so that it
# never sits idle while this process is busy with an item of its own.
HELPER_QUEUE = 2
# What a helper that dies or cannot be started (no /dev/shm, process limits) raises.
HELPER_FAILURES = (BrokenExecutor, OSError)  # BrokenProcessPool is a BrokenExecutor
PARENT_CHECK_SECONDS = 0.5
_END = object()
Item = TypeVar("Item")
Result = TypeVar("Result")


def spare_cores() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores - 1


class _Slot(Generic[Item, Result]):
    """One item's result: computed here, or on its way back from the helper."""

    def __init__(self, item: Item, result: Result | None = None,
                 future: Future[Result] | None = None) -> None:
        self.item, self.result, self.future = item, result, future

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def take(self, work: Callable[[Item], Result]) -> Result:
        if self.future is None:
            return self.result  # type: ignore[return-value]
        try:
            return self.future.result()
        except HELPER_FAILURES:  # the helper died (killed, out of memory): do it here
            return work(self.item)


@dataclass
class _Early(Generic[Item, Result]):
    """A helper started ahead of the reader, its warm-up, and the items it was handed ahead
    (`submit_ahead`), all for one `work`."""

    helper: ProcessPoolExecutor
    warm: Future[None]
    processes: list[BaseProcess]  # the helper's own process
    work: Callable[[Item], Result] | None = None
    ahead: list[_Slot[Item, Result]] = field(default_factory=list)


_early: _Early[Any, Any] | None = None
_started: list[_Early[Any, Any]] = []  # every helper started, for stop_helpers
_allowed = False


def allow_helper() -> None:
    """Let `map_in_order` share work with a helper process (commands call this)."""
    global _allowed
    _allowed = True


def start_early() -> None:
    """Start the helper now, so that its start-up (a Python importing polars) overlaps this
    process's own; the next `map_in_order` takes it instead of starting one. A helper started
    and never used is stopped with the others (`stop_helpers`) when the command ends."""
    global _early
    if _allowed and _early is None and spare_cores() >= 1:
        try:
            _early = _warming_helper()
        except HELPER_FAILURES:  # no helper then: everything is done here
            return


def submit_ahead(work: Callable[[Item], Result], items: list[Item]) -> None:
    """Hand `items` to the helper started early, before the reader asks: it works on them
    while this process is still starting up. The `map_in_order` of the same `work` (compared
    with ==) over items that begin with these takes their results; any other drops them."""
    if _early is None or _early.ahead:
        return
    try:
        futures = [_early.helper.submit(work, item) for item in items]
    except HELPER_FAILURES:
        return
    _early.work = work
    _early.ahead = [_Slot(item, future=future) for item, future in zip(items, futures,
                                                                         strict=True)]


def stop_helpers() -> None:
    """Stop every helper this process started: at the end of a command, or when Ctrl-C
    interrupts it. A helper still starting up (one started for a file the command never got
    to read) is terminated: shut down, it would first finish importing, and this process would
    wait for it at exit. One that has started is only shut down: killed while sending a result,
    it would leave the pipe half written and this process waiting on it for ever."""
    global _early
    _early = None
    while _started:
        started = _started.pop()
        started.helper.shutdown(wait=False, cancel_futures=True)
        if not started.warm.done():
            for process in started.processes:
                process.terminate()


def _warming_helper() -> _Early[Any, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    helper = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_helper)
    before = set(multiprocessing.active_children())
    with _ctrl_c_held_from_new_processes():
        warm = helper.submit(_warm_up)  # starts the process
        own = list(set(multiprocessing.active_children()) - before)
        started: _Early[Any, Any] = _Early(helper, warm, own)
        _started.append(started)  # before a held Ctrl-C comes through: stop_helpers finds it
    return started


def _take_helper() -> _Early[Any, Any]:
    global _early
    taken, _early = _early or _warming_helper(), None
    return taken


def map_in_order(work: Callable[[Item], Result], items: Iterator[Item], *,
                 use_helper: bool | None = None) -> Iterator[Result]:
    """`map(work, items)`, with a helper process taking items while it is free. `work` and the
    items must pickle; results are yielded in input order, each as soon as it and all before
    it are done, so at most a few results are held at once. `use_helper`: whether a helper may
    be used; by default, if `allow_helper` was called.

    The helper gets items only once it has started (those handed ahead excepted): until then
    this process takes them all, so a short input never waits for a helper's start-up, and
    results never pile up behind items handed to a helper still importing polars."""
    first_two = list(islice(items, 2))
    all_items: Iterator[Item] = chain(first_two, items)
    if use_helper is None:
        use_helper = _allowed
    if len(first_two) < 2 or not use_helper or spare_cores() < 1:
        yield from map(work, all_items)
        return
    try:
        early = _take_helper()
    except HELPER_FAILURES:  # it could not start: everything here
        yield from map(work, all_items)
        return
    helper, warm = early.helper, early.warm
    try:
        slots: deque[_Slot[Item, Result]] = deque()
        all_items = _take_ahead(early, work, all_items, slots)
        helper_alive = True
        for item, is_last in _marking_last(all_items):
            slot = None
            # The last item goes to the helper only if it is idle: queued behind another, it
            # would be finished last of all, while this process waits with nothing to do.
            wanted_queue = 1 if is_last else HELPER_QUEUE
            if helper_alive and warm.done() and _queued(slots) < wanted_queue:
                try:
                    slot = _Slot(item, future=helper.submit(work, item))
                except HELPER_FAILURES:  # it died, or could not start: carry on here
                    helper_alive = False
            slots.append(slot or _Slot(item, result=work(item)))
            while slots and slots[0].ready():
                yield slots.popleft().take(work)
        while slots:
            yield slots.popleft().take(work)
    finally:
        # Not waiting for the helper to exit (about 0.05 s): it leaves while this process
        # carries on; the executor's exit hook joins it when this process ends.
        helper.shutdown(wait=False, cancel_futures=True)


def _take_ahead(early: _Early[Item, Result], work: Callable[[Item], Result],
                items: Iterator[Item], slots: deque[_Slot[Item, Result]]) -> Iterator[Item]:
    """Put the items handed ahead to the helper in `slots`, as far as they are the first of
    `items` and were handed for this same work; cancel the rest. The items left to do."""
    matching = early.work == work
    for slot in early.ahead:
        item = next(items, _END) if matching else _END
        if item is not _END and item == slot.item:
            slots.append(slot)
            continue
        matching = False
        if item is not _END:
            items = chain([item], items)  # type: ignore[list-item]
        if slot.future is not None:
            slot.future.cancel()  # if it is running already, its result is just not used
    return items


def _marking_last(items: Iterator[Item]) -> Iterator[tuple[Item, bool]]:
    """Each item, and whether it is the last: one item is read ahead to know."""
    current = next(items, _END)
    while current is not _END:
        following = next(items, _END)
        yield current, following is _END  # type: ignore[misc]
        current = following


@contextmanager
def _ctrl_c_held_from_new_processes() -> Iterator[None]:
    """Ctrl-C reaches every process of the terminal's group. A process started with SIGINT
    blocked keeps it blocked: the helper leaves no KeyboardInterrupt traceback, even when
    interrupted while still importing. Here, a Ctrl-C that comes meanwhile waits until the
    block is lifted, then interrupts as usual."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: the initializer ignores it
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_helper() -> None:
    """Runs first in the helper. Ctrl-C is the main process's to handle: the helper ignores it
    and is shut down with it. One polars thread: the other core is the main process's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["POLARS_MAX_THREADS"] = "1"
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()


def _exit_with(parent: int) -> None:
    """A main process killed outright (out of memory, kill -9) cannot shut its helper down, and
    the helper's own end of its task pipe keeps it waiting for ever: it leaves by itself once
    its parent is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _warm_up() -> None:
    """The helper's first task when started early: import what chunk work needs."""
    import agentcost.ingest.span_read  # noqa: F401


def _queued(slots: deque[_Slot[Item, Result]]) -> int:
    """Items handed to the helper and not finished yet."""
    return sum(1 for slot in slots if slot.future is not None and not slot.future.done())
