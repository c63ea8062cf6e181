"""Benchmark `agentcost report` on a generated ~1.2M-step log against a polars floor.

The floor, measured in the same run on the same file: a bare `polars.scan_ndjson` of the file
grouped by task, aggregating the fields the report reads (steps, token columns, duration, tool
calls, model, first timestamp): what a person would write to total the log by hand, with none of
the validation, line accounting, time parsing or pricing. `--jobs 1` and `--jobs 2` are timed
beside it, the three taking turns; native JSONL is decoded by polars on all cores whatever
--jobs says, so the two should take the same time (a target: --jobs 2 not slower). Each command
runs in its own process, so peak memory (max RSS, all processes) is the command's own.

    python benchmarks/bench_report.py [--steps 1200000] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import (  # noqa: E402  (the benchmarks run as scripts)
    floor_and_jobs,
    generated_steps,
    jobs_not_slower,
    peak_mb,
    print_table,
    timed,
    usable_cores,
    use_this_checkout,
)

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

    log = generated_steps("steps", args.steps, args.seed, keep=args.keep)
    size_mb = log.stat().st_size / 1e6

    report = [sys.executable, "-m", "agentcost", "report", str(log), "--format", "json"]
    floor = [sys.executable, "-c", FLOOR, str(log)]
    where = use_this_checkout()
    floor_runs, one, two = floor_and_jobs("polars floor", floor, report, args.runs)
    print(f"log: {log.name}, {args.steps:,} steps, {size_mb:,.0f} MB; usable cores "
          f"{usable_cores()}; agentcost from {where}")
    print_table([floor_runs, one, two], floor_runs, args.steps, "steps")
    ok = True
    for each in (one, two):
        ratio = each.best / floor_runs.best
        within = ratio <= TARGET_RATIO and each.peak <= TARGET_PEAK_MB
        ok = ok and within
        print(f"{each.name[7:]:17}: {ratio:.2f}x the floor (target <= {TARGET_RATIO}x), peak "
              f"{each.peak:.0f} MB (target <= {TARGET_PEAK_MB}), {each.cpu / floor_runs.cpu:.2f}x "
              f"its CPU time: {'within' if within else 'OUTSIDE'} targets")
    ok = jobs_not_slower(one, two) and ok
    if args.simulate:
        simulate = [sys.executable, "-m", "agentcost", "simulate", str(log), "--route",
                    "summarize=gpt-4o-mini", "--cache", "web_search:1h", "--compress-after", "5",
                    "--keep-last", "3", "--budget", "0.5", "--format", "json", "--jobs", "1"]
        simulate_wall = min(timed(simulate) for _ in range(args.runs))
        simulate_peak = peak_mb(simulate)
        print(f"agentcost simulate (4 strategies, --jobs 1): {simulate_wall:.2f} s, peak "
              f"{simulate_peak:.0f} MB = {simulate_wall / one.best:.2f}x the report "
              "(target <= 3x)")
        ok = ok and simulate_wall <= 3 * one.best
    print("result           : " + ("within targets" if ok else "OUTSIDE targets"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
