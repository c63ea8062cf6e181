"""The prefetching reader: items in order, errors passed on, and a consumer that stops early
(Ctrl-C, an error of its own) never left waiting for the reader thread."""

from __future__ import annotations

import threading

import pytest

from agentcost.ingest.prefetch import prefetch


def test_items_come_in_order_and_an_error_is_raised_where_they_are_used():
    assert list(prefetch(iter(range(5)))) == [0, 1, 2, 3, 4]

    def failing():
        yield 1
        raise OSError("cut off")

    read = prefetch(failing())
    assert next(read) == 1
    with pytest.raises(OSError, match="cut off"):
        next(read)


def test_a_consumer_that_stops_early_is_not_kept_waiting():
    """The reader has handed over its last item and waits to say it is done, the queue being
    full: a consumer stopping then must not wait for it for ever."""
    def consume_one_and_stop():
        read = prefetch(iter([1, 2]))
        assert next(read) == 1
        threading.Event().wait(0.3)  # the reader puts 2, then waits to put the end
        read.close()

    consumer = threading.Thread(target=consume_one_and_stop, daemon=True)
    consumer.start()
    consumer.join(timeout=10)
    assert not consumer.is_alive()
