"""Ctrl-C ends a command at once with exit code 130, also while it waits on a pipe or a FIFO
that sends nothing (polars' SIGINT handler would otherwise have the wait resume)."""

from __future__ import annotations

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
    assert took < 1.0
    assert [p.stderr.read() for p in waiting if p.stderr] == [b"", b"", b"", b""]
