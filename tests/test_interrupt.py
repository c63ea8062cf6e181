"""Ctrl-C ends a command at once with exit code 130, also while it waits on a pipe or a FIFO
that sends nothing (polars' SIGINT handler would otherwise have the wait resume)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

LINE = b'{"task_id":"t","step":1,"model":"gpt-4o","input_tokens":10,"output_tokens":5}\n'
WAITING_ON_INPUT = ("pipe_read", "wait_for_partner")  # a read on a pipe; a FIFO's open


def waiting_on_input(pid: int) -> bool:
    """Whether a thread of `pid` is blocked reading a pipe or opening a FIFO (Linux)."""
    for wchan in Path(f"/proc/{pid}/task").glob("*/wchan"):
        try:
            if any(word in wchan.read_text() for word in WAITING_ON_INPUT):
                return True
        except OSError:
            continue
    return False


def agentcost(*args: str, stdin: int | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "agentcost", *args], stdin=stdin,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_ctrl_c_while_waiting_on_a_pipe_or_a_fifo_exits_130_within_a_second(tmp_path):
    fifo = tmp_path / "traces.jsonl"
    os.mkfifo(fifo)
    silent_read, silent_write = os.pipe()  # nothing ever comes: blocked in the first read
    slow_read, slow_write = os.pipe()  # some lines, then nothing: blocked reading ahead
    waiting = [agentcost("report", str(fifo)), agentcost("report", "-", stdin=silent_read),
               agentcost("simulate", "-", "--budget", "1", stdin=slow_read),
               agentcost("pricing", "check", "-", stdin=silent_read)]
    # More than the pipe holds: written as the command reads, past its first look at the input.
    threading.Thread(target=os.write, args=(slow_write, LINE * 4000), daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not all(waiting_on_input(p.pid) for p in waiting):
            assert time.monotonic() < deadline, "the commands never waited on their input"
            time.sleep(0.05)
        for process in waiting:
            process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        codes = [process.wait(timeout=10) for process in waiting]
        took = time.monotonic() - interrupted
    finally:
        for process in waiting:
            process.kill()
        for fd in (silent_write, slow_write):
            os.close(fd)
    assert codes == [130, 130, 130, 130]
    assert took < 5.0  # at once (well under a second when measured idle); a hang waits 10 s
    assert [p.stderr.read() for p in waiting if p.stderr] == [b"", b"", b"", b""]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_while_waiting_on_input_end_the_command_with_their_code(
        tmp_path, stop, code):
    """`timeout` and cron send SIGTERM, a closed terminal SIGHUP: each ends the command at
    once, quietly, with 128 + the signal's number."""
    fifo = tmp_path / "traces.jsonl"
    os.mkfifo(fifo)
    silent_read, silent_write = os.pipe()
    waiting = [agentcost("report", str(fifo)),
               agentcost("simulate", "-", "--budget", "1", stdin=silent_read)]
    try:
        deadline = time.monotonic() + 60
        while not all(waiting_on_input(p.pid) for p in waiting):
            assert time.monotonic() < deadline, "the commands never waited on their input"
            time.sleep(0.05)
        for process in waiting:
            process.send_signal(stop)
        stopped = time.monotonic()
        codes = [process.wait(timeout=10) for process in waiting]
        took = time.monotonic() - stopped
    finally:
        for process in waiting:
            process.kill()
        os.close(silent_write)
    assert codes == [code, code]
    assert took < 5.0  # at once (well under a second when measured idle); a hang waits 10 s
    assert [p.stderr.read() for p in waiting if p.stderr] == [b"", b""]


def test_a_worker_whose_parent_died_before_it_started_leaves_at_once():
    """The parent gives its pid: a worker that starts after the parent was killed (its parent
    is then init, or a subreaper) does not wait for that one to die."""
    started = time.monotonic()
    worker = subprocess.run(
        [sys.executable, "-c", "import time; from agentcost.parallel import _start_worker; "
         "_start_worker(2 ** 22 + 1); time.sleep(30)"], timeout=60)
    assert worker.returncode == 0
    assert time.monotonic() - started < 10


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_sigterm_while_workers_read_a_big_span_file_leaves_no_process(tmp_path):
    """Two chunks of OTLP lines read with --jobs 2: SIGTERM once the worker is there; the
    command ends with 143 and its worker (and multiprocessing's helper) with it."""
    import json

    def span(n: int) -> dict[str, object]:
        return {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": "chat",
                "startTimeUnixNano": "1764230400000000000",
                "endTimeUnixNano": "1764230401000000000",
                "attributes": [
                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "10"}},
                    {"key": "padding", "value": {"stringValue": "x" * 900}}]}

    # 200 lines of 50 spans, about 10 MB: two chunks of at least 4 MiB.
    lines = [json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        span(n) for n in range(block * 50, block * 50 + 50)]}]}]}) for block in range(200)]
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen([sys.executable, "-m", "agentcost", "report", str(path),
                                "--jobs", "2", "-o", str(tmp_path / "out.txt")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started: set[int] = set()
    deadline = time.monotonic() + 60
    while len(started) < 2 and process.poll() is None:  # the resource tracker and a worker
        assert time.monotonic() < deadline, "no worker was started"
        started |= children(process.pid)
        time.sleep(0.01)
    assert len(started) >= 2, "the command ended before its worker started"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 143
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in started):
        assert time.monotonic() < deadline, "a worker outlived the command"
        time.sleep(0.05)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_sigterm_while_busy_reading_stdin_ends_cleanly():
    """Bytes still pouring in on stdin when SIGTERM comes (`timeout` over a pipe): exit 143
    and nothing on stderr, not an interpreter abort over the stdin lock a reader holds."""
    read_end, write_end = os.pipe()
    process = agentcost("report", "-", stdin=read_end)
    os.close(read_end)

    def pour() -> None:
        with contextlib.suppress(OSError):
            while True:
                os.write(write_end, b"a" * 65536)  # one endless line

    threading.Thread(target=pour, daemon=True).start()
    try:
        time.sleep(2.0)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    finally:
        process.kill()
        os.close(write_end)
    assert code == 143
    assert process.stderr is not None and process.stderr.read() == b""
