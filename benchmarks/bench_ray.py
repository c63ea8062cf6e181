"""Benchmark the ray executor on a running Ray cluster against the memory executor, in the
same run: a generated log dealt over shards (each task spread over most of them).

A cluster is started for the run as a platform's is (`ray start --head`, two CPUs, this
machine), so its start is not timed, as it is not in production. Each round runs
`report --engine memory` and `report --engine ray --ray-address ...` in turns. CPU time is
the command's and, for ray, the cluster's processes' (read from /proc before and after each
run); peak memory is the command's and the cluster's processes' resident sizes, sampled
together, minus the cluster's at rest. Also measured: the bytes of steps put in the object
store per step (what crosses the network between machines in a cluster), and whether both
write the same JSON (bar the engine line).

    python benchmarks/bench_ray.py [--steps 1200000] [--shards 16] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_engine import deal, without_engine  # noqa: E402  (the benchmarks run as scripts)
from measure import _rss_kb, _tree, generated_steps, use_this_checkout  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SHUFFLED = """
import sys, ray
import agentcost
import agentcost.engine.ray_cluster as cluster
put, sizes = ray.put, []
def counted(value, *args, **kwargs):
    if hasattr(value, "estimated_size"):  # steps, not the request
        sizes.append(value.estimated_size())
    return put(value, *args, **kwargs)
ray.put = counted
report = agentcost.report(sys.argv[2:], engine=cluster.RayExecutor(sys.argv[1]))
print(sum(sizes), report.summary.steps)
"""


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def run(command: list[str], cluster: list[int]) -> tuple[float, float, float]:
    """Wall s, CPU s (the command and the cluster) and peak MB (both, sampled) of a run."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_cluster = cpu_seconds(cluster)
    at_rest = sum(_rss_kb(pid) for pid in cluster)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_rss_kb(pid) for pid in [process.pid, *_tree(process.pid)])
                   + sum(_rss_kb(pid) for pid in cluster) - at_rest)
        time.sleep(0.01)
    wall = time.perf_counter() - start
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before_children.ru_utime + after.ru_stime
           - before_children.ru_stime) + cpu_seconds(cluster) - before_cluster
    return wall, cpu, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse an existing generated log")
    args = parser.parse_args()

    log = generated_steps("steps", args.steps, args.seed, keep=args.keep)
    names = [str(path) for path in deal(log, args.shards, args.seed)]
    where = use_this_checkout()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="bench-ray-")
    # The cluster and every program that joins it share a token (Ray's token authentication).
    os.environ.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token",
                      RAY_AUTH_TOKEN=secrets.token_hex(16))
    environ = dict(os.environ)
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", "--port",
         str(port), "--num-cpus", "2", "--node-ip-address", "127.0.0.1",
         "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", temp],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environ,
        start_new_session=True)
    try:
        time.sleep(8)
        report = [sys.executable, "-m", "agentcost", "report", *names, "-f", "json",
                  "--jobs", "1"]
        commands = {"--engine memory": [*report, "--engine", "memory"],
                    "--engine ray": [*report, "--engine", "ray", "--ray-address", address]}
        subprocess.run(commands["--engine ray"], check=True, capture_output=True)  # warm
        measured: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for round_number in range(args.runs):
            order = list(commands)[round_number % 2:] + list(commands)[:round_number % 2]
            for name in order:
                measured[name].append(run(commands[name], _tree(head.pid)))
        print(f"log: {log.name}, {args.steps:,} steps in {len(names)} shards; a local Ray "
              f"cluster of 2 CPUs; agentcost from {where}")
        print(f"{'':16} {'best s':>7} {'median s':>8} {'cpu s':>7} {'peak MB':>8} "
              f"{'cpu s per 1M steps':>19}")
        for name, runs in measured.items():
            walls = sorted(wall for wall, _, _ in runs)
            cpus = sorted(cpu for _, cpu, _ in runs)
            cpu = cpus[len(cpus) // 2]
            print(f"{name:16} {walls[0]:7.2f} {walls[len(walls) // 2]:8.2f} {cpu:7.2f} "
                  f"{max(peak for _, _, peak in runs):8.0f} "
                  f"{cpu / args.steps * 1e6:19.2f}")
        shuffled = subprocess.run([sys.executable, "-c", SHUFFLED, address, *names],
                                  check=True, capture_output=True, text=True).stdout.split()
        print(f"object store     : {int(shuffled[0]) / int(shuffled[1]):.0f} bytes a step "
              f"({int(shuffled[0]) / 1e6:.0f} MB for {int(shuffled[1]):,} steps)")
        documents = [subprocess.run(command, check=True, capture_output=True).stdout
                     for command in commands.values()]
        same = without_engine(documents[0]) == without_engine(documents[1])
        print(f"same JSON        : {'yes' if same else 'NO'} (bar the engine line)")
        sys.exit(0 if same else 1)
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
