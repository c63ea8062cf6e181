"""The one parallel module: results in input order, workers really used, a dead worker's items
done here, no process for one job, and a reader thread that never keeps its consumer waiting."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator

import pytest

from agentcost.parallel import jobs_for, ordered_map, read_ahead, usable_cores


def where_squared(item: tuple[int, int]) -> tuple[int, int, int]:
    """(item squared, the pid that computed it, its polars threads), a little slowly, so that
    workers start before this process has done all. Given the parent's pid, a worker taking
    an item dies instead; given 0, every process computes."""
    import polars

    number, parent = item
    if parent and os.getpid() != parent:
        os._exit(1)
    time.sleep(0.01)
    return number * number, os.getpid(), polars.thread_pool_size()


def until_one_from(from_worker: list[int]) -> Iterator[tuple[int, int]]:
    """Items for `where_squared`, until `from_worker` holds something (a busy machine may take
    seconds to start a worker), or two minutes have passed."""
    deadline = time.monotonic() + 120
    number = 0
    while not from_worker and time.monotonic() < deadline:
        yield number, 0
        number += 1


def test_results_come_back_in_input_order_from_workers_with_polars_on_one_thread():
    """Items are fed until a worker's result has come back (a busy machine may take seconds to
    start one): the results are in input order all along."""
    from_worker: list[int] = []

    results = []
    for square, pid, threads in ordered_map(where_squared, until_one_from(from_worker), jobs=3):
        results.append(square)
        if pid != os.getpid():
            from_worker.append(threads)
    assert results == [n * n for n in range(len(results))]
    assert from_worker and set(from_worker) == {1}
    assert multiprocessing.active_children() == []  # the pool is gone with the call


def test_items_a_dead_worker_had_are_done_here():
    parent = os.getpid()
    results = list(ordered_map(where_squared, [(n, parent) for n in range(40)], jobs=2))
    assert [(square, pid) for square, pid, _ in results] == [(n * n, parent) for n in range(40)]


def test_one_job_or_one_item_starts_no_process():
    parent = os.getpid()
    assert [(square, pid) for square, pid, _ in ordered_map(
        where_squared, [(n, parent) for n in range(5)], jobs=1)] == [(n * n, parent)
                                                                   for n in range(5)]
    assert [(square, pid) for square, pid, _ in ordered_map(
        where_squared, [(3, parent)], jobs=4)] == [(9, parent)]


def test_auto_gives_a_process_to_each_16_mib_up_to_the_usable_cores(monkeypatch):
    from agentcost import parallel

    assert usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setattr(parallel, "usable_cores", lambda: 8)
    mib = 1024 * 1024
    assert [jobs_for("auto", size * mib) for size in (1, 31, 32, 47, 48, 500)] == [
        1, 1, 2, 2, 3, 8]
    assert jobs_for("auto", None) == 8  # a stream or a gzip file: big or not, unknown
    assert jobs_for(3, 10) == 3


def test_read_ahead_keeps_order_and_raises_where_the_item_is_used():
    assert list(read_ahead(iter(range(5)))) == [0, 1, 2, 3, 4]

    def failing():
        yield 1
        raise OSError("cut off")

    read = read_ahead(failing())
    assert next(read) == 1
    with pytest.raises(OSError, match="cut off"):
        next(read)


def test_a_consumer_that_stops_early_is_not_kept_waiting():
    """The reader has handed over its last item and waits to say it is done, the queue being
    full: a consumer stopping then must not wait for it for ever."""
    def consume_one_and_stop():
        read = read_ahead(iter([1, 2]))
        assert next(read) == 1
        threading.Event().wait(0.3)  # the reader puts 2, then waits to put the end
        read.close()

    consumer = threading.Thread(target=consume_one_and_stop, daemon=True)
    consumer.start()
    consumer.join(timeout=10)
    assert not consumer.is_alive()


def test_no_other_module_starts_a_thread_or_a_process():
    """Concurrency lives in agentcost/parallel.py: no other module even imports the means."""
    import ast
    from pathlib import Path

    import agentcost

    means = {"threading", "_thread", "multiprocessing", "concurrent", "subprocess"}
    package = Path(agentcost.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.split(".")[0] in means for name in names):
                found.append(path.relative_to(package).as_posix())
        if "os.fork" in path.read_text():
            found.append(path.relative_to(package).as_posix())
    assert sorted(set(found)) == ["parallel.py"]


def test_workers_are_started_unable_to_take_ctrl_c_and_with_polars_on_one_thread(monkeypatch):
    """What a worker inherits at its start: SIGINT blocked, POLARS_MAX_THREADS=1; both put
    back afterwards."""
    import signal

    from agentcost import parallel

    monkeypatch.setenv("POLARS_MAX_THREADS", "7")
    with parallel._spawning():
        assert signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
        assert os.environ["POLARS_MAX_THREADS"] == "1"
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert os.environ["POLARS_MAX_THREADS"] == "7"


def no_children_within(seconds: float) -> bool:
    """Workers shut down without waiting leave a moment later."""
    deadline = time.monotonic() + seconds
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return multiprocessing.active_children() == []


def test_workers_started_ahead_do_the_call_s_items_and_leave_with_it():
    """Started before the items are known, they are the call's workers: an item comes back
    from another process, and none is left once the call returns."""
    from agentcost.parallel import Workers

    workers = Workers(1)
    from_worker: list[int] = []

    results = []
    for square, pid, _ in ordered_map(where_squared, until_one_from(from_worker),
                                       jobs=2, workers=workers):
        results.append(square)
        if pid != os.getpid():
            from_worker.append(pid)
    assert results == [n * n for n in range(len(results))] and from_worker
    assert multiprocessing.active_children() == []


def test_workers_started_ahead_and_not_used_are_gone_once_closed():
    from agentcost.parallel import Workers

    workers = Workers(1)
    assert multiprocessing.active_children()
    workers.close()
    assert no_children_within(30)
    # a call given too few or too many workers for its jobs closes them and makes its own
    workers = Workers(2)
    parent = os.getpid()
    assert [square for square, _, _ in ordered_map(
        where_squared, [(n, 0) for n in range(6)], jobs=1, workers=workers)] == [
            n * n for n in range(6)]
    assert no_children_within(30)
    assert parent == os.getpid()


def test_a_run_that_fails_after_claude_code_files_leaves_no_worker(tmp_path):
    """The Claude Code reader starts its workers with the run's first session log; a later file
    that ends the run (a document over the size limit) ends them too."""
    from agentcost.errors import InputError
    from agentcost.ingest.read import read_steps
    from tests.conftest import REAL_TRACES

    (tmp_path / "a.jsonl").write_bytes(
        (REAL_TRACES / "claude-code" / "short-session.jsonl").read_bytes())
    (tmp_path / "z.json").write_text('{"resourceSpans": [\n' + " " * 5000 + "]}\n")
    with pytest.raises(InputError, match=r"z\.json: JSON document larger than the 4 KiB") as raised:
        read_steps([str(tmp_path)], jobs=2, max_line_bytes=4096)
    # The error's traceback still holds the run's reader (and so its workers) here.
    assert no_children_within(30) and raised.traceback


def test_claude_code_workers_start_ahead_only_for_logs_enough_to_share(tmp_path, monkeypatch):
    """Workers start with the Claude Code logs once they are more than a batch (whatever else
    the run reads), never for a few small logs, even when --jobs asks for processes."""
    from agentcost.ingest.coding import claude_parse, claude_steps
    from agentcost.ingest.read import read_steps
    from tests.conftest import REAL_TRACES

    started: list[int] = []

    class Recorded(claude_steps.Workers):
        def __init__(self, count: int) -> None:
            started.append(count)
            super().__init__(count)

    monkeypatch.setattr(claude_steps, "Workers", Recorded)
    session = (REAL_TRACES / "claude-code" / "short-session.jsonl").read_bytes()
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.jsonl").write_bytes(session)
    (tmp_path / "native.jsonl").write_text(
        '{"task_id": "t", "model": "gpt-4o", "input_tokens": 1}\n' * 20_000)
    read_steps([str(tmp_path)], jobs=2)
    assert started == []  # three small logs: one batch, parsed here
    monkeypatch.setattr(claude_parse, "BATCH_BYTES", len(session))
    read_steps([str(tmp_path)], jobs=2)
    assert started == [1]  # past one batch with the second log: one worker beside this one
    assert no_children_within(30)


def big_result(size: int) -> tuple[bytes, int]:
    return b"x" * size, os.getpid()


def test_a_worker_hands_back_a_result_of_up_to_a_mib_without_waiting_for_it_to_be_read():
    """The workers' result pipe holds 1 MiB where the system allows it (else its 64 KiB
    stay), and results of any size still come back whole."""
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are Linux's")
    from agentcost.parallel import RESULT_PIPE_BYTES, Workers

    with open("/proc/sys/fs/pipe-max-size") as limit:
        allowed = int(limit.read()) >= RESULT_PIPE_BYTES
    workers = Workers(1)
    pool = workers._pool
    assert pool is not None
    size = fcntl.fcntl(pool[0]._result_queue._reader.fileno(), fcntl.F_GETPIPE_SZ)
    assert size == (RESULT_PIPE_BYTES if allowed else 64 * 1024)
    sizes = [10, 900 * 1024, 3 * RESULT_PIPE_BYTES, 10]
    back = list(ordered_map(big_result, sizes, jobs=2, workers=workers))
    assert [len(data) for data, _ in back] == sizes
    assert no_children_within(30)
