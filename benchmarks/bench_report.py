"""Benchmark `agentcost report` on a generated ~1.2M-step log against a polars floor.

The floor, measured in the same run on the same file: a bare `polars.scan_ndjson` of the file
grouped by task, aggregating the fields the report reads (steps, token columns, duration, tool
calls, model, first timestamp): what a person would write to total the log by hand, with none of
the validation, line accounting, time parsing or pricing. Each command runs in its own process,
so peak memory (max RSS) is the command's own.

    python benchmarks/bench_report.py [--steps 1200000] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import byte_compile_agentcost, peak_mb, timed, timed_with_cpu  # noqa: E402  (the benchmarks run as scripts)

FLOOR = """
import sys, polars as pl
pl.scan_ndjson(sys.argv[1]).group_by("task_id").agg(
    pl.len(), pl.col("step_number").max(),
    pl.col("input_tokens", "output_tokens", "cache_read_tokens", "duration_s").sum(),
    pl.col("tool_name").count(), pl.col("model").first(), pl.col("timestamp").min(),
).collect()
"""
TARGET_RATIO = 1.5
TARGET_PEAK_MB = 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="best of N wall times")
    parser.add_argument("--keep", action="store_true", help="reuse an existing generated log")
    parser.add_argument("--simulate", action="store_true",
                        help="also time `agentcost simulate` with all four strategies against "
                             "the report (target: at most 3x)")
    args = parser.parse_args()

    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    log = out_dir / f"steps-{args.steps}-{args.seed}.jsonl"
    if not (args.keep and log.exists()):
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--steps", str(args.steps),
                        "--seed", str(args.seed), "-o", str(log)], check=True)
    size_mb = log.stat().st_size / 1e6

    agentcost = [sys.executable, "-m", "agentcost", "report", str(log), "--format", "json"]
    floor = [sys.executable, "-c", FLOOR, str(log)]
    byte_compile_agentcost()
    floor_runs: list[tuple[float, float]] = []
    report_runs: list[tuple[float, float]] = []
    for _ in range(args.runs):  # interleaved, so both see the same machine conditions
        floor_runs.append(timed_with_cpu(floor))
        report_runs.append(timed_with_cpu(agentcost))
    floor_peak = peak_mb(floor)
    report_peak = peak_mb(agentcost)

    (floor_wall, floor_cpu), (report_wall, report_cpu) = min(floor_runs), min(report_runs)
    ratio = report_wall / floor_wall
    print(f"log: {log.name}, {args.steps:,} steps, {size_mb:,.0f} MB, {os.cpu_count()} cores")
    print(f"polars floor     : {floor_wall:6.2f} s  cpu {floor_cpu:5.2f} s  peak "
          f"{floor_peak:6.0f} MB  (runs: {', '.join(f'{w:.2f}' for w, _ in floor_runs)})")
    print(f"agentcost report : {report_wall:6.2f} s  cpu {report_cpu:5.2f} s  peak "
          f"{report_peak:6.0f} MB  (runs: {', '.join(f'{w:.2f}' for w, _ in report_runs)})")
    print(f"ratio            : {ratio:.2f}x the floor (target <= {TARGET_RATIO}x), "
          f"{report_cpu / floor_cpu:.2f}x its CPU time (of its best run); "
          f"{args.steps / report_wall:,.0f} steps/s")
    ok = ratio <= TARGET_RATIO and report_peak <= TARGET_PEAK_MB
    if args.simulate:
        simulate = [sys.executable, "-m", "agentcost", "simulate", str(log), "--route",
                    "summarize=gpt-4o-mini", "--cache", "web_search:1h", "--compress-after", "5",
                    "--keep-last", "3", "--budget", "0.5", "--format", "json"]
        simulate_wall = min(timed(simulate) for _ in range(args.runs))
        simulate_peak = peak_mb(simulate)
        print(f"agentcost simulate (4 strategies): {simulate_wall:.2f} s, peak "
              f"{simulate_peak:.0f} MB = {simulate_wall / report_wall:.2f}x the report "
              "(target <= 3x)")
        ok = ok and simulate_wall <= 3 * report_wall
    print("result           : " + ("within targets" if ok else "OUTSIDE targets"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
