"""Timing and peak memory of a command, each in its own process (shared by the benchmarks)."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.01
CHECKOUT = Path(__file__).resolve().parent.parent
# --jobs 2 may take this much longer than --jobs 1 (the median of the per-round ratios) and
# still pass as "not slower": the rest is the noise of a shared machine.
JOBS_NOISE = 0.05


def generated_steps(name: str, steps: int, seed: int, *, keep: bool, hours: int | None = None
                    ) -> Path:
    """benchmarks/out/NAME-STEPS-SEED.jsonl, written by generate.py unless `keep` finds it
    there already."""
    out_dir = Path(__file__).resolve().parent / "out"
    out_dir.mkdir(exist_ok=True)
    log = out_dir / f"{name}-{steps}-{seed}.jsonl"
    if not (keep and log.exists()):
        extra = [] if hours is None else ["--hours", str(hours)]
        subprocess.run([sys.executable, str(out_dir.parent / "generate.py"), "--steps",
                        str(steps), "--seed", str(seed), *extra, "-o", str(log)], check=True)
    return log


def use_this_checkout() -> str:
    """Make every command started from here import agentcost from the checkout these
    benchmarks are in (first on PYTHONPATH, which spawned workers inherit too), byte-compiled,
    and return where it is imported from. Compiled as `pip install` does: run from a checkout
    with bytecode writing off (PYTHONDONTWRITEBYTECODE), every timed run would otherwise
    compile it from source again."""
    paths = [str(CHECKOUT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    where = subprocess.run(
        [sys.executable, "-c", "import agentcost, os; print(os.path.dirname(agentcost.__file__))"],
        check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], check=True,
                   stdout=subprocess.DEVNULL)
    return where


def usable_cores() -> int:
    """The cores this process may run on: what `--jobs auto` uses for a big input."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class Runs:
    """One command's timed runs: wall and CPU seconds of each, and its peak memory."""

    name: str
    command: list[str]
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peak: float = 0.0

    @property
    def best(self) -> float:
        return min(self.walls)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        """The median CPU seconds of the runs."""
        return statistics.median(self.cpus)


def interleaved(commands: dict[str, list[str]], runs: int) -> list[Runs]:
    """Each command timed `runs` times, taking turns (the order turning by one each round), so
    that all of them see the same machine; then the peak memory of each, in a run of its own
    (sampling would disturb the timed runs)."""
    measured = [Runs(name, command) for name, command in commands.items()]
    for round_number in range(runs):
        shift = round_number % len(measured)
        for each in measured[shift:] + measured[:shift]:
            wall, cpu = timed_with_cpu(each.command)
            each.walls.append(wall)
            each.cpus.append(cpu)
    for each in measured:
        each.peak = peak_mb(each.command)
    return measured


def floor_and_jobs(floor_name: str, floor: list[str], report: list[str], runs: int
                   ) -> list[Runs]:
    """The floor, `report --jobs 1` and `report --jobs 2`, taking turns round after round."""
    return interleaved({floor_name: floor, "report --jobs 1": [*report, "--jobs", "1"],
                        "report --jobs 2": [*report, "--jobs", "2"]}, runs)


def print_table(measured: list[Runs], floor: Runs, count: int, unit: str) -> None:
    """Wall (best, median), CPU, peak and rate of each command, and its ratio to the floor."""
    print(f"{'':18} {'best s':>7} {'median s':>8} {'cpu s':>7} {'peak MB':>8} "
          f"{unit + '/s':>11} {'x floor':>7}  runs (s)")
    for each in measured:
        print(f"{each.name:18} {each.best:7.2f} {each.median:8.2f} {each.cpu:7.2f} "
              f"{each.peak:8.0f} {count / each.best:11,.0f} {each.best / floor.best:7.2f}  "
              + ", ".join(f"{wall:.2f}" for wall in each.walls))


def jobs_not_slower(one: Runs, two: Runs) -> bool:
    """Print and judge whether `two` (--jobs 2) is slower than `one` (--jobs 1), from the
    median of their ratios round by round (each pair ran side by side)."""
    pair_ratio = statistics.median(b / a for a, b in zip(one.walls, two.walls, strict=True))
    ok = pair_ratio <= 1 + JOBS_NOISE
    print(f"--jobs 2 / --jobs 1 : {pair_ratio:.2f}x wall (median of the rounds' ratios; "
          f"{two.median / one.median:.2f}x of the medians, {two.cpu / one.cpu:.2f}x the CPU): "
          f"{'within' if ok else 'OUTSIDE'} target (not slower, <= {1 + JOBS_NOISE:.2f}x)")
    return ok


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
