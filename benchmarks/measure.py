"""Timing and peak memory of a command, each in its own process (shared by the benchmarks)."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

SAMPLE_SECONDS = 0.01


def byte_compile_agentcost() -> None:
    """Compile the agentcost package `python -m agentcost` will import, as `pip install` does:
    run from a checkout with bytecode writing off (PYTHONDONTWRITEBYTECODE), every timed run
    would otherwise compile it from source again."""
    where = subprocess.run(
        [sys.executable, "-c", "import agentcost, os; print(os.path.dirname(agentcost.__file__))"],
        check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], check=True,
                   stdout=subprocess.DEVNULL)


def timed(command: list[str]) -> float:
    """Wall seconds of one run."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_with_cpu(command: list[str]) -> tuple[float, float]:
    """Wall seconds of one run, and the CPU seconds (user and system, all its threads) it used:
    on a machine with few cores, CPU time is the budget the wall time is made of."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def peak_mb(command: list[str]) -> float:
    """Peak resident memory (MB) of one run, helper processes included: the largest sum of
    the resident sizes of the process and its descendants, sampled every 10 ms, or the largest
    single process's own peak (which the kernel records exactly) if that is higher."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    process = subprocess.Popen([sys.executable, "-c", wrapper, *command],
                               stdout=subprocess.PIPE, text=True)
    sampled_kb = 0
    while process.poll() is None:
        sampled_kb = max(sampled_kb, sum(_rss_kb(pid) for pid in _tree(process.pid)))
        time.sleep(SAMPLE_SECONDS)
    out, _ = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return max(sampled_kb, int(out.strip())) / 1024


def _tree(pid: int) -> list[int]:
    """`pid`'s descendants (not itself: that is the wrapper), from /proc."""
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found += [int(child) for child in children]
            frontier += [int(child) for child in children]
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
