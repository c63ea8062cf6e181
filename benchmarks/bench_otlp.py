"""Benchmark `agentcost report` on a generated OTLP/JSON file exporter log (>= 250,000 spans).

Times `--jobs 1` and `--jobs 2` beside a floor measured in the same run, the three taking turns:
a plain `orjson.loads` loop over the lines, in one process, that only walks the spans (no
attributes, no conventions, no pricing). Prints wall time (best, median), CPU time (the command
and its workers), peak memory (summed over all processes), spans per second and the ratio to
the floor; fails if a target is missed, `--jobs 2` being slower than `--jobs 1` among them.

    python benchmarks/bench_otlp.py [--spans 250000] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import (  # noqa: E402  (the benchmarks run as scripts)
    floor_and_jobs,
    jobs_not_slower,
    print_table,
    usable_cores,
    use_this_checkout,
)

FLOOR = """
import sys, orjson
spans = 0
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        for resource in orjson.loads(line).get("resourceSpans", ()):
            for scope in resource.get("scopeSpans", ()):
                spans += len(scope.get("spans", ()))
print(spans)
"""
TARGET_SPANS_PER_SECOND = 150_000
TARGET_PEAK_MB_PER_GB = 1024  # MB of peak memory for a log of 1 GB or more


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse an existing generated log")
    parser.add_argument("--tasks-per-line", type=int, default=1,
                        help="tasks' spans per line: 40 gives an exporter's 250-370 KB lines")
    args = parser.parse_args()
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    batched = f"-x{args.tasks_per_line}" if args.tasks_per_line > 1 else ""
    log = out_dir / f"otlp-{args.spans}-{args.seed}{batched}.jsonl"
    if not (args.keep and log.exists()):
        subprocess.run([sys.executable, str(HERE / "generate_otlp.py"), "--spans",
                        str(args.spans), "--seed", str(args.seed), "--tasks-per-line",
                        str(args.tasks_per_line), "-o", str(log)], check=True)
    size_gb = log.stat().st_size / 1e9
    floor = [sys.executable, "-c", FLOOR, str(log)]
    spans = int(subprocess.run(floor, check=True, capture_output=True, text=True).stdout)
    report = [sys.executable, "-m", "agentcost", "report", str(log), "--format", "json"]
    where = use_this_checkout()
    floor_runs, one, two = floor_and_jobs("orjson floor", floor, report, args.runs)
    print(f"log: {log.name}, {spans:,} spans, {size_gb * 1000:,.0f} MB; usable cores "
          f"{usable_cores()}; agentcost from {where}")
    print_table([floor_runs, one, two], floor_runs, spans, "spans")
    fast = True
    for each in (one, two):
        within = spans / each.best >= TARGET_SPANS_PER_SECOND
        fast = fast and within
        print(f"speed {each.name[7:]:11}: {'within' if within else 'OUTSIDE'} target "
              f"(>= {TARGET_SPANS_PER_SECOND:,} spans/s)")
    if size_gb >= 1:
        small = True
        for each in (one, two):
            within = each.peak < TARGET_PEAK_MB_PER_GB
            small = small and within
            print(f"memory {each.name[7:]:10}: {'within' if within else 'OUTSIDE'} target "
                  "(< 1 GB for 1 GB, all processes)")
    else:
        small = True
        print("memory           : target is for a 1 GB log (--spans 2300000)")
    not_slower = jobs_not_slower(one, two)
    ok = fast and small and not_slower
    print("result           : " + ("within targets" if ok else "OUTSIDE targets"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
