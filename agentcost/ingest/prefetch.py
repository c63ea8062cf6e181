"""Run an iterator one step ahead in a thread, so reading the next chunk overlaps with polars
decoding the current one (both release the GIL)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
# How long the reader thread is waited for once the consumer stops early (Ctrl-C, an error):
# it may be inside a read that only returns with more input (stdin). It is a daemon thread.
STOP_WAIT_SECONDS = 1.0


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        """Put `item` in the queue, unless the consumer stops listening meanwhile: a
        producer blocked on a full queue would otherwise never return."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            hand_over(error)

    worker = threading.Thread(target=produce, name="agentcost-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=STOP_WAIT_SECONDS)
