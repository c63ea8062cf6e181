"""Timing and peak memory of a command, each in its own process (shared by the benchmarks)."""

from __future__ import annotations

import subprocess
import sys
import time


def timed(command: list[str]) -> float:
    """Wall seconds of one run."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_mb(command: list[str]) -> float:
    """Peak resident memory (MB) of one run, read by a fresh wrapper process so that no other
    child's peak is mixed in."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", wrapper, *command], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return int(out.strip()) / 1024
