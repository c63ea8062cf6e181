"""Chunk work shared with a helper process: results in input order, the helper really used,
and its death survived."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentcost.ingest.helper_process import map_in_order, spare_cores

needs_two_cores = pytest.mark.skipif(spare_cores() < 1, reason="one core: no helper is started")


def where_squared(item: tuple[int, int]) -> tuple[int, int]:
    """(item squared, the pid that computed it). Item (0, parent pid), which a ready helper
    takes first, kills it; 0 instead of a pid spares it."""
    number, parent = item
    if number == 0 and parent and os.getpid() != parent:
        os._exit(1)
    return number * number, os.getpid()


@pytest.fixture
def warm_helper(monkeypatch):
    """A helper started and ready, as a command has one for a big file: it takes items from
    the first on (a helper still starting gets none)."""
    from agentcost.ingest import helper_process

    monkeypatch.setattr(helper_process, "_allowed", True)
    monkeypatch.setattr(helper_process, "_early", None)
    monkeypatch.setattr(helper_process, "_started", [])
    helper_process.start_early()
    assert helper_process._early is not None
    helper_process._early.warm.result(timeout=120)


@needs_two_cores
def test_results_come_back_in_input_order_and_the_helper_takes_some(warm_helper):
    parent = os.getpid()
    results = list(map_in_order(where_squared, iter([(n, 0) for n in range(12)]),
                                use_helper=True))
    assert [square for square, _ in results] == [n * n for n in range(12)]
    workers = {pid for _, pid in results}
    assert parent in workers
    assert len(workers) == 2  # the first item goes to the ready helper


@needs_two_cores
def test_a_helper_that_dies_leaves_its_items_to_this_process(warm_helper):
    parent = os.getpid()
    results = list(map_in_order(where_squared, iter([(n, parent) for n in range(8)]),
                                use_helper=True))
    assert results == [(n * n, parent) for n in range(8)]


def slow_where(item: float) -> int:
    """Sleeps `item` seconds; the pid that did it."""
    time.sleep(item)
    return os.getpid()


@needs_two_cores
def test_the_last_item_waits_for_no_busy_helper(warm_helper):
    """A last item queued behind the helper's current one would finish last of all, while this
    process sat idle: it is done here instead."""
    first, last = map_in_order(slow_where, iter([1.0, 0.0]), use_helper=True)
    assert first != os.getpid()  # the ready helper takes the first
    assert last == os.getpid()


@needs_two_cores
def test_items_handed_ahead_are_taken_by_the_same_work_over_the_same_items(warm_helper):
    from agentcost.ingest.helper_process import submit_ahead

    submit_ahead(slow_where, [0.3, 0.3, 0.3])
    pids = list(map_in_order(slow_where, iter([0.3, 0.3, 0.3, 0.0]), use_helper=True))
    # Without them, the third would be done here: the helper's queue holds two.
    assert len(set(pids[:3])) == 1
    assert pids[0] != os.getpid()


@needs_two_cores
@pytest.mark.parametrize("work, items", [
    (where_squared, [(5, 0), (6, 0), (7, 0)]),   # other items
    (where_squared, [(1, 0), (6, 0), (7, 0)]),   # the same first item only
])
def test_items_handed_ahead_for_other_work_or_items_are_dropped(warm_helper, work, items):
    from agentcost.ingest.helper_process import submit_ahead

    submit_ahead(where_squared, [(1, 0), (2, 0)])
    results = list(map_in_order(work, iter(items), use_helper=True))
    assert [square for square, _ in results] == [n * n for n, _ in items]


def test_items_handed_ahead_for_another_work_are_not_taken(warm_helper):
    from agentcost.ingest.helper_process import submit_ahead

    submit_ahead(where_squared, [(1, 0), (2, 0)])
    assert list(map_in_order(abs, iter([-1, -2, -3]), use_helper=True)) == [1, 2, 3]


def test_a_helper_never_used_is_stopped(warm_helper):
    from agentcost.ingest import helper_process

    helper_process.submit_ahead(where_squared, [(1, 0)])
    early = helper_process._early
    assert early is not None
    helper_process.stop_helpers()
    assert helper_process._early is None
    with pytest.raises(RuntimeError):  # shut down: it takes nothing more
        early.helper.submit(where_squared, (2, 0))


@needs_two_cores
def test_a_helper_still_starting_gets_nothing_of_a_short_input():
    # Nothing waits for its start-up: four quick items are all done here meanwhile.
    parent = os.getpid()
    results = list(map_in_order(where_squared, iter([(n, 0) for n in range(1, 5)]),
                                use_helper=True))
    assert results == [(n * n, parent) for n in range(1, 5)]


def test_one_item_or_no_helper_runs_here(monkeypatch):
    from agentcost.ingest import helper_process

    monkeypatch.setattr(helper_process, "_allowed", False)  # as no command has run
    parent = os.getpid()
    assert list(map_in_order(where_squared, iter([(5, parent)]), use_helper=True)) == [
        (25, parent)]
    # Not allowed (a library caller, no command): everything here.
    assert list(map_in_order(where_squared, iter([(n, 0) for n in range(4)]))) == [
        (n * n, parent) for n in range(4)]
    results = list(map_in_order(where_squared, iter([(n, 0) for n in range(4)]),
                                use_helper=False))
    assert results == [(n * n, parent) for n in range(4)]
    assert list(map_in_order(where_squared, iter([]))) == []


def test_the_helper_is_started_early_only_for_a_big_plain_otlp_lines_file(tmp_path,
                                                                          monkeypatch):
    from agentcost.ingest import early_helper, otlp_chunk_work

    started: list[bool] = []
    monkeypatch.setattr(early_helper, "start_early", lambda: started.append(True))
    monkeypatch.setattr(otlp_chunk_work, "SPAN_CHUNK_BYTES", 1024)
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "chat"}]}]}]})
    otlp = tmp_path / "big.jsonl"
    otlp.write_text((line + "\n") * 40)  # about 5 KB: two chunks of 1 KB and more
    small = tmp_path / "small.jsonl"
    small.write_text(line + "\n")
    native = tmp_path / "native.jsonl"
    native.write_text('{"task_id": "t", "model": "gpt-4o", "input_tokens": 1}\n' * 100)
    packed = tmp_path / "big.jsonl.gz"
    packed.write_bytes(gzip.compress(otlp.read_bytes()))

    for inputs, input_format in ([str(small)], "auto"), ([str(native)], "auto"), (
            [str(packed)], "auto"), ([str(otlp)], "native"), ([str(tmp_path / "none")], "auto"):
        early_helper.start_helper_for(inputs, input_format)
        assert started == [], inputs
    early_helper.start_helper_for([str(small), str(otlp)], "auto")
    assert started == [True]
    # Guessed from the raw command line: option values are passed over, the format obeyed.
    for args in (["pricing", "show", str(otlp)], ["report", str(otlp), "--input-format", "native"],
                 ["report", "--input-format=native", str(otlp)], ["report", str(small)], []):
        early_helper.start_for_command_line(args)
        assert started == [True], args
    early_helper.start_for_command_line(
        ["report", "--format", "json", str(otlp), "-o", str(tmp_path / "out.json")])
    assert started == [True, True]


@needs_two_cores
def test_the_first_chunks_handed_ahead_are_the_ones_the_reader_takes(tmp_path, monkeypatch,
                                                                      warm_helper):
    from polars.testing import assert_frame_equal

    from agentcost.cli.pipeline import REPORT_COLUMNS
    from agentcost.ingest import early_helper, helper_process, otlp_chunk_work
    from agentcost.ingest.read import read_steps

    monkeypatch.setattr(otlp_chunk_work, "SPAN_CHUNK_BYTES", 2048)
    monkeypatch.setattr(otlp_chunk_work, "MIN_SPAN_CHUNK_BYTES", 1024)
    otlp = tmp_path / "big.jsonl"
    otlp.write_text("".join(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": f"{n:032x}", "spanId": "cd" * 8, "name": "chat", "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(n)}}]}]}]}]}) + "\n"
        for n in range(1, 201)))
    taken = []
    take_ahead = helper_process._take_ahead

    def counting(early, work, items, slots):
        left = take_ahead(early, work, items, slots)
        taken.append(len(slots))
        return left

    monkeypatch.setattr(helper_process, "_take_ahead", counting)
    columns = frozenset(REPORT_COLUMNS)
    early_helper.read_ahead([str(otlp)], "auto", task_key="trace", columns=columns)
    shared = read_steps([str(otlp)], columns=REPORT_COLUMNS).steps
    assert taken == [early_helper.AHEAD_CHUNKS]
    monkeypatch.setattr(helper_process, "_allowed", False)
    alone = read_steps([str(otlp)], columns=REPORT_COLUMNS).steps
    assert_frame_equal(shared, alone)
    assert shared["input_tokens"].sum() == sum(range(1, 201))


KILLED_MAIN = """
import os, sys, time
from agentcost.ingest.helper_process import map_in_order

def slow(item):
    time.sleep(0.2)
    return os.getpid()

if __name__ == "__main__":
    for pid in map_in_order(slow, iter(range(100)), use_helper=True):
        if pid != os.getpid():
            print(pid, flush=True)
            os.kill(os.getpid(), 9)
"""


@needs_two_cores
def test_the_helper_does_not_outlive_a_main_process_killed_outright(tmp_path):
    script = tmp_path / "killed_main.py"
    script.write_text(KILLED_MAIN)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60)
    helper = int(run.stdout.split()[0])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{helper}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{helper}").exists()


LIBRARY_SCRIPT = """
import sys
from agentcost.ingest import otlp_chunk_work
from agentcost.ingest.read import read_steps

otlp_chunk_work.SPAN_CHUNK_BYTES = 1024
print(read_steps([sys.argv[1]]).steps.height)
"""


def test_a_library_caller_without_a_main_guard_gets_no_helper(tmp_path):
    # Spawning re-imports the caller's main module: without the guard, a helper would run
    # this script again and fail with a traceback. The readers start none unless a command
    # allowed it.
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "ab" * 16, "spanId": f"{n:016x}", "name": "chat",
         "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}]}
        for n in range(4)]}]}]})
    otlp = tmp_path / "big.jsonl"
    otlp.write_text((line + "\n") * 40)  # many 1 KB chunks
    script = tmp_path / "no_guard.py"
    script.write_text(LIBRARY_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(otlp)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"  # the same four spans, exported 40 times: duplicates
    assert "Traceback" not in done.stderr


def test_small_span_files_get_smaller_chunks_and_no_late_helper(tmp_path, monkeypatch):
    from agentcost.ingest import helper_process, otlp_chunk_work
    from agentcost.ingest.otlp_chunk_work import span_chunk_bytes
    from agentcost.ingest.read import read_steps

    mb = 1024 * 1024
    # 24 chunks wanted, 4 to 16 MB each; a stream of unknown size gets 16 MB.
    assert [span_chunk_bytes(size) for size in (None, 1024 * mb, 110 * mb, 10 * mb)] == [
        16 * mb, 16 * mb, 110 * mb // 24, 4 * mb]
    # A file under two full chunks is read without a helper, however many chunks it makes:
    # one started now would spend longer starting than the whole read takes.
    monkeypatch.setattr(otlp_chunk_work, "SPAN_CHUNK_BYTES", 8192)
    monkeypatch.setattr(otlp_chunk_work, "MIN_SPAN_CHUNK_BYTES", 1024)
    monkeypatch.setattr(helper_process, "_allowed", True)

    def no_helper() -> None:
        raise AssertionError("a helper was started for a small file")

    monkeypatch.setattr(helper_process, "_take_helper", no_helper)
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "chat"}]}]}]})
    small = tmp_path / "small.jsonl"
    small.write_text((line + "\n") * 100)  # about 13 KB: several 1 KB chunks, under 16 KB
    assert small.stat().st_size < 2 * 8192
    assert read_steps([str(small)]).accounting.lines_read == 100


MODULES_WHEN_HANDED_AHEAD = """
import sys
from agentcost.ingest import early_helper, otlp_chunk_work

def submit_ahead(work, chunks):
    print("loaded" if "agentcost.ingest.span_read" in sys.modules else "not loaded", len(chunks),
          flush=True)
    raise SystemExit(0)

otlp_chunk_work.SPAN_CHUNK_BYTES = 1024
otlp_chunk_work.MIN_SPAN_CHUNK_BYTES = 512
early_helper.start_early = lambda: None
early_helper.submit_ahead = submit_ahead
sys.argv = ["agentcost", *sys.argv[1:]]
from agentcost.cli import main
main()
"""


@pytest.mark.parametrize("options", [["report", "--since", "2020-01-01"],
                                     ["check", "--until", "2030-01-01"], ["simulate"]])
def test_chunks_are_handed_ahead_once_their_results_can_be_read(tmp_path, options):
    """Results come back to another thread, which unpickles them: had it to import their
    modules while this thread imports them too, a Ctrl-C in between could leave the two
    waiting on each other for ever. So they are imported before any chunk is handed over."""
    script = tmp_path / "modules_when_handed_ahead.py"
    script.write_text(MODULES_WHEN_HANDED_AHEAD)
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "chat"}]}]}]})
    otlp = tmp_path / "big.jsonl"
    otlp.write_text((line + "\n") * 40)  # about 5 KB: chunks of 1 KB and more
    done = subprocess.run([sys.executable, str(script), options[0], str(otlp), *options[1:]],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent.parent)
    assert (done.returncode, done.stdout.strip()) == (0, "loaded 3"), done.stderr
