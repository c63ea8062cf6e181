"""Benchmark `agentcost report` on a generated OTLP/JSON file exporter log (>= 250,000 spans).

Prints spans per second and peak memory beside a floor measured in the same run: a plain
`orjson.loads` loop over the lines that only walks the spans (no attributes, no conventions,
no pricing).

    python benchmarks/bench_otlp.py [--spans 250000] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import byte_compile_agentcost, peak_mb, timed  # noqa: E402  (the benchmarks run as scripts)

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
    args = parser.parse_args()
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    log = out_dir / f"otlp-{args.spans}-{args.seed}.jsonl"
    if not (args.keep and log.exists()):
        subprocess.run([sys.executable, str(HERE / "generate_otlp.py"), "--spans",
                        str(args.spans), "--seed", str(args.seed), "-o", str(log)], check=True)
    size_gb = log.stat().st_size / 1e9
    floor = [sys.executable, "-c", FLOOR, str(log)]
    spans = int(subprocess.run(floor, check=True, capture_output=True, text=True).stdout)
    report = [sys.executable, "-m", "agentcost", "report", str(log), "--format", "json"]
    byte_compile_agentcost()
    floor_walls, report_walls = [], []
    for _ in range(args.runs):
        floor_walls.append(timed(floor))
        report_walls.append(timed(report))
    floor_wall, report_wall = min(floor_walls), min(report_walls)
    peak = peak_mb(report)
    rate = spans / report_wall
    print(f"log: {log.name}, {spans:,} spans, {size_gb * 1000:,.0f} MB")
    print(f"orjson floor     : {floor_wall:6.2f} s  ({spans / floor_wall:,.0f} spans/s)")
    print(f"agentcost report : {report_wall:6.2f} s  ({rate:,.0f} spans/s), peak {peak:,.0f} MB "
          "(all processes)")
    print(f"ratio            : {report_wall / floor_wall:.2f}x the floor")
    fast = rate >= TARGET_SPANS_PER_SECOND
    print(f"speed            : {'within' if fast else 'OUTSIDE'} target "
          f"(>= {TARGET_SPANS_PER_SECOND:,} spans/s)")
    if size_gb >= 1:
        small = peak < TARGET_PEAK_MB_PER_GB
        print(f"memory           : {'within' if small else 'OUTSIDE'} target (< 1 GB for 1 GB)")
    else:
        small = True
        print("memory           : target is for a 1 GB log (--spans 2300000)")
    ok = fast and small
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
