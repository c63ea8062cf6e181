"""Benchmark `agentcost report --store` on a month of ingested steps against the same report
read from the month's JSONL, and check that both print the same JSON.

A month (720 hours) of generated native JSONL (`generate.py`) is ingested into a steps store
once (timed, with a second ingest that finds nothing new). Then, taking turns round after
round: the polars floor of bench_report.py (a bare `scan_ndjson` grouped by task), the report
of the whole month from the JSONL and from the store, and the report of the month's last 7
days (`--since`) from the JSONL (which must parse every line to find them) and from the store
(which reads only those days' partitions). Target: the store at least 3x faster than the JSONL
for the whole month's report (best to best), with the same JSON; the 7-day ratio is printed
beside it.

    python benchmarks/bench_store.py [--steps 1200000] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_report import FLOOR  # noqa: E402  (the benchmarks run as scripts)
from measure import (  # noqa: E402  (the benchmarks run as scripts)
    generated_steps,
    interleaved,
    print_table,
    usable_cores,
    use_this_checkout,
)

TARGET_SPEEDUP = 3.0
MONTH_HOURS = 720
WINDOW_DAYS = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="rounds of timed runs")
    parser.add_argument("--keep", action="store_true", help="reuse an existing generated log")
    args = parser.parse_args()

    log = generated_steps("month", args.steps, args.seed, keep=args.keep, hours=MONTH_HOURS)
    where = use_this_checkout()
    store = log.parent / f"store-{args.steps}-{args.seed}"
    shutil.rmtree(store, ignore_errors=True)
    agentcost = [sys.executable, "-m", "agentcost"]
    first = _wall([*agentcost, "ingest", str(log), "--store", str(store)])
    again = _wall([*agentcost, "ingest", str(log), "--store", str(store)])
    store_mb = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 1e6
    since = _window_start(log)

    report = [*agentcost, "report", "--format", "json"]
    commands = {
        "polars floor": [sys.executable, "-c", FLOOR, str(log)],
        "month, JSONL": [*report, str(log)],
        "month, store": [*report, "--store", str(store)],
        "7 days, JSONL": [*report, str(log), "--since", since],
        "7 days, store": [*report, "--store", str(store), "--since", since],
    }
    same = {name: _same(commands[f"{name}, JSONL"], commands[f"{name}, store"])
            for name in ("month", "7 days")}
    measured = interleaved(commands, args.runs)
    by_name = {each.name: each for each in measured}

    print(f"log: {log.name}, {args.steps:,} steps over {MONTH_HOURS} h, "
          f"{log.stat().st_size / 1e6:,.0f} MB; store {store_mb:,.0f} MB; usable cores "
          f"{usable_cores()}; agentcost from {where}")
    print(f"ingest: {first:.2f} s; again, nothing new: {again:.2f} s; 7 days: --since {since}")
    print_table(measured, by_name["polars floor"], args.steps, "steps")
    ok = all(same.values())
    for name in ("month", "7 days"):
        jsonl, stored = by_name[f"{name}, JSONL"], by_name[f"{name}, store"]
        speedup = jsonl.best / stored.best
        print(f"{name:7}: the store {speedup:.2f}x faster than the JSONL (best to best; "
              f"medians {jsonl.median / stored.median:.2f}x), the same JSON: "
              f"{'yes' if same[name] else 'NO'}")
    speedup = by_name["month, JSONL"].best / by_name["month, store"].best
    ok = ok and speedup >= TARGET_SPEEDUP
    print(f"result : the month's report from the store {speedup:.2f}x faster (target >= "
          f"{TARGET_SPEEDUP:.0f}x), same JSON: " + ("within targets" if ok else "OUTSIDE targets"))
    sys.exit(0 if ok else 1)


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _same(one: list[str], other: list[str]) -> bool:
    outputs = [subprocess.run(command, check=True, capture_output=True).stdout
               for command in (one, other)]
    return outputs[0] == outputs[1]


def _window_start(log: Path) -> str:
    """The start of the log's last WINDOW_DAYS days (UTC midnight), read from its last line."""
    with log.open("rb") as handle:
        handle.seek(max(0, log.stat().st_size - 65536))
        last = handle.read().splitlines()[-1]
    end = dt.datetime.fromisoformat(json.loads(last)["timestamp"].replace("Z", "+00:00"))
    return (end.date() - dt.timedelta(days=WINDOW_DAYS - 1)).isoformat()


if __name__ == "__main__":
    main()
