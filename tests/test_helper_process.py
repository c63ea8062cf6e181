"""Chunk work shared with a helper process: results in input order, the helper really used,
and its death survived."""

from __future__ import annotations

import os

import pytest

from agentcost.ingest.helper_process import map_in_order, spare_cores

needs_two_cores = pytest.mark.skipif(spare_cores() < 1, reason="one core: no helper is started")


def where_squared(item: tuple[int, int]) -> tuple[int, int]:
    """(item squared, the pid that computed it). Item (0, parent pid), which always goes to
    the helper, kills it; 0 instead of a pid spares it."""
    number, parent = item
    if number == 0 and parent and os.getpid() != parent:
        os._exit(1)
    return number * number, os.getpid()


@needs_two_cores
def test_results_come_back_in_input_order_and_the_helper_takes_some():
    parent = os.getpid()
    results = list(map_in_order(where_squared, iter([(n, 0) for n in range(12)])))
    assert [square for square, _ in results] == [n * n for n in range(12)]
    workers = {pid for _, pid in results}
    assert parent in workers
    assert len(workers) == 2  # the first item always goes to the helper


@needs_two_cores
def test_a_helper_that_dies_leaves_its_items_to_this_process():
    parent = os.getpid()
    results = list(map_in_order(where_squared, iter([(n, parent) for n in range(8)])))
    assert results == [(n * n, parent) for n in range(8)]


def test_one_item_or_no_helper_runs_here():
    parent = os.getpid()
    assert list(map_in_order(where_squared, iter([(5, parent)]))) == [(25, parent)]
    results = list(map_in_order(where_squared, iter([(n, 0) for n in range(4)]),
                                use_helper=False))
    assert results == [(n * n, parent) for n in range(4)]
    assert list(map_in_order(where_squared, iter([]))) == []
