"""Benchmark the executors: `agentcost report --engine local` against `--engine memory` on
a generated ~4M-step log (about 1 GB), with the polars floor measured in the same run.

Targets (issue 21): the local executor peaks under 500 MB and costs at most 1.5x the CPU time
of the memory executor; both write the same JSON (bar the line naming the engine), which is
checked here too. The three commands take turns round after round; peak memory (all
processes) is measured in a run of its own for each. `--shards N` deals the log's lines over N
files at random (each task spread over most of them) instead of one file. The last line says
what `--engine auto` picks for this log on this machine, and from what input size it would
pick local here.

`--simulate` times `agentcost simulate` instead, with every strategy at once (a route, tool
caching across tasks, history compression, a budget) and a budget sweep: the same JSON from
both executors, and the local executor's peak against the memory executor's.

    python benchmarks/bench_engine.py [--steps 4000000] [--shards 0] [--runs 3] [--keep]
                                      [--simulate]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import (  # noqa: E402  (the benchmarks run as scripts)
    generated_steps,
    interleaved,
    print_table,
    usable_cores,
    use_this_checkout,
)

FLOOR = """
import sys, polars as pl
pl.scan_ndjson(sys.argv[1:]).group_by("task_id").agg(
    pl.len(), pl.col("step_number").max(),
    pl.col("input_tokens", "output_tokens", "cache_read_tokens", "duration_s").sum(),
    pl.col("tool_name").count(), pl.col("model").first(), pl.col("timestamp").min(),
).collect()
"""
# Every strategy at once, and a sweep: what a simulation holds at its largest.
SIMULATE = ["simulate", "--route", "plan=claude-haiku-4-5", "--cache", "*:1h",
            "--compress-after", "6", "--budget", "0.5", "--budget-sweep", "0.1,0.5"]
TARGET_PEAK_MB = 500
TARGET_CPU_RATIO = 1.5
AUTO = """
import sys
from agentcost.engine.choose import COMFORTABLE_SHARE, MEMORY_PER_INPUT_BYTE, available_bytes
from agentcost.engine.choose import estimated_bytes, pick
size, free = estimated_bytes(sys.argv[1:]), available_bytes()
limit = (COMFORTABLE_SHARE * free / MEMORY_PER_INPUT_BYTE / 1e9) if free else float("inf")
print(f"auto: picks {pick(size, free)} for {size / 1e9:.2f} GB of input; local above "
      f"{limit:.1f} GB here ({(free or 0) / 1e9:.1f} GB free)")
"""


def deal(log: Path, shards: int, seed: int) -> list[Path]:
    """The log's lines dealt at random over `shards` files, each keeping its lines' order."""
    rng = random.Random(seed)
    paths = [log.with_name(f"{log.stem}-shard{index:02d}.jsonl") for index in range(shards)]
    outs = [path.open("w", encoding="utf-8") for path in paths]
    with log.open(encoding="utf-8") as lines:
        for line in lines:
            outs[rng.randrange(shards)].write(line)
    for out in outs:
        out.close()
    return paths


def without_engine(document: bytes) -> bytes:
    return b"\n".join(line for line in document.splitlines()
                      if not line.strip().startswith(b'"engine":'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shards", type=int, default=0, help="deal the log over N files")
    parser.add_argument("--runs", type=int, default=3, help="rounds of the three commands")
    parser.add_argument("--keep", action="store_true", help="reuse an existing generated log")
    parser.add_argument("--simulate", action="store_true",
                        help="time `simulate` with every strategy instead of `report`")
    args = parser.parse_args()

    log = generated_steps("steps", args.steps, args.seed, keep=args.keep)
    inputs = deal(log, args.shards, args.seed) if args.shards else [log]
    size_mb = sum(path.stat().st_size for path in inputs) / 1e6
    names = [str(path) for path in inputs]

    command = SIMULATE if args.simulate else ["report"]
    report = [sys.executable, "-m", "agentcost", *command, *names, "--format", "json",
              "--jobs", "1"]
    where = use_this_checkout()
    floor, memory, local = interleaved({
        "polars floor": [sys.executable, "-c", FLOOR, *names],
        "--engine memory": [*report, "--engine", "memory"],
        "--engine local": [*report, "--engine", "local"],
    }, args.runs)
    print(f"log: {log.name}, {args.steps:,} steps, {size_mb:,.0f} MB in {len(inputs)} "
          f"file(s); usable cores {usable_cores()}; agentcost from {where}")
    print_table([floor, memory, local], floor, args.steps, "steps")
    documents = [subprocess.run([*report, "--engine", engine], check=True,
                                capture_output=True).stdout for engine in ("memory", "local")]
    same = without_engine(documents[0]) == without_engine(documents[1])
    cpu_ratio = local.cpu / memory.cpu
    ok = same and local.peak <= TARGET_PEAK_MB and cpu_ratio <= TARGET_CPU_RATIO
    if args.simulate:  # the targets are the report's: a simulation is held to less memory
        ok = same and local.peak < memory.peak
    print(f"local / memory   : {cpu_ratio:.2f}x the CPU (target <= {TARGET_CPU_RATIO}x), "
          f"{local.best / memory.best:.2f}x the wall; peak {local.peak:.0f} MB against "
          f"{memory.peak:.0f} MB (target <= {TARGET_PEAK_MB} MB)")
    print(f"same JSON        : {'yes' if same else 'NO'} (bar the engine line)")
    subprocess.run([sys.executable, "-c", AUTO, *names], check=True)
    print("result           : " + ("within targets" if ok else "OUTSIDE targets"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
