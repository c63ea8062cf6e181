"""Benchmark `agentcost report` on a generated Claude Code projects folder against ccusage.

The folder is written by `generate_claude_code.py` (600 MB by default) with `truth.json` beside
it: what each response really used, counted once. Timed in the same run, taking turns round
after round (the order turning by one each round):

- `agentcost report FOLDER/projects -f json` (the folder as the input path), with `--jobs 1`
  and with `--jobs 2` (the files parsed on two processes; `auto`, the default, picks 2 for a
  folder this big on two cores);
- `ccusage daily --offline --json`, the Rust build that npm's `ccusage` package runs (its native
  binary, called directly: the npm launcher only adds a Node start), reading the same folder
  through `CLAUDE_CONFIG_DIR`, with `HOME` an empty folder so that it finds no other agent's
  logs.

Prints wall time (best, median), CPU time, peak memory (all processes), and the token totals
of both beside the truth. Targets: agentcost (its faster `--jobs` value) at least as fast as
ccusage (best against best), its peak under 1 GB, and its token totals equal to the truth.
Exits non-zero when one is missed.

ccusage is installed with npm into benchmarks/out/npm (git-ignored):

    npm install --prefix benchmarks/out/npm ccusage@20.0.24
    python benchmarks/bench_claude_code.py [--megabytes 600] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import (  # noqa: E402  (the benchmarks run as scripts)
    interleaved,
    print_table,
    usable_cores,
    use_this_checkout,
)

NPM_PREFIX = HERE / "out" / "npm"
CCUSAGE_VERSION = "20.0.24"  # the newest with a linux-x64 binary on the registry
TARGET_PEAK_MB = 1024
# truth.json's buckets, agentcost's JSON summary names, ccusage's totals names.
BUCKETS = (
    ("input", "input_tokens", ("input",), ("inputTokens",)),
    ("output", "output_tokens", ("output",), ("outputTokens",)),
    ("cache read", "cache_read_tokens", ("cache_read",), ("cacheReadTokens",)),
    ("cache write (5m + 1h)", ("cache_write_5m_tokens", "cache_write_1h_tokens"),
     ("cache_write_5m", "cache_write_1h"), ("cacheCreationTokens",)),
)


def ccusage_binary() -> Path:
    """The native binary npm installed for this platform."""
    found = sorted(NPM_PREFIX.glob("node_modules/@ccusage/ccusage-*/bin/ccusage"))
    if not found:
        sys.exit(f"ccusage is not installed: npm install --prefix {NPM_PREFIX} "
                 f"ccusage@{CCUSAGE_VERSION}")
    return found[0]


def token_totals(agentcost: dict, ccusage: dict, truth: dict) -> list[tuple[str, int, int, int]]:
    """(bucket, truth, agentcost, ccusage) for each bucket both count."""
    tokens = agentcost["summary"]["tokens"]
    totals = ccusage["totals"]
    rows = []
    for label, truth_keys, ours, theirs in BUCKETS:
        keys = (truth_keys,) if isinstance(truth_keys, str) else truth_keys
        rows.append((label, sum(truth[key] for key in keys), sum(tokens[key] for key in ours),
                     sum(totals[key] for key in theirs)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse a folder already generated")
    args = parser.parse_args()
    binary = ccusage_binary()
    out = HERE / "out" / f"claude-code-{args.megabytes:g}mb-{args.seed}"
    if not (args.keep and (out / "truth.json").exists()):
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([sys.executable, str(HERE / "generate_claude_code.py"), "--megabytes",
                        str(args.megabytes), "--seed", str(args.seed), "-o", str(out)],
                       check=True)
    truth = json.loads((out / "truth.json").read_text())
    home = out / "empty-home"
    home.mkdir(exist_ok=True)
    projects = out / "projects"
    agentcost = [sys.executable, "-m", "agentcost", "report", str(projects), "-f", "json"]
    ccusage = ["env", f"HOME={home}", f"CLAUDE_CONFIG_DIR={out}", str(binary), "daily",
               "--offline", "--json"]
    where = use_this_checkout()
    ours = json.loads(subprocess.run(agentcost, check=True, capture_output=True).stdout)
    theirs = json.loads(subprocess.run(ccusage, check=True, capture_output=True).stdout)
    measured = interleaved({"ccusage daily": ccusage,
                            "report --jobs 1": [*agentcost, "--jobs", "1"],
                            "report --jobs 2": [*agentcost, "--jobs", "2"]}, args.runs)
    them = measured[0]
    us = min(measured[1:], key=lambda each: each.best)
    print(f"folder: {projects}, {truth['files']:,} files ({truth['sessions']:,} sessions, "
          f"{truth['subagent_files']:,} sub-agent files), {truth['lines']:,} lines, "
          f"{truth['bytes'] / 1e6:,.0f} MB; {truth['responses']:,} responses")
    print(f"usable cores {usable_cores()}, load average {os.getloadavg()[0]:.1f}; agentcost "
          f"from {where}; ccusage {binary}")
    print_table(measured, them, truth["responses"], "responses")
    print(f"\n{'tokens':22} {'truth':>15} {'agentcost':>15} {'ccusage':>15}")
    exact = True
    for label, right, agentcost_total, ccusage_total in token_totals(ours, theirs, truth):
        exact = exact and agentcost_total == right
        off = f"  ccusage {ccusage_total / right - 1:+.1%}" if right else ""
        print(f"{label:22} {right:15,} {agentcost_total:15,} {ccusage_total:15,}{off}")
    fast = us.best <= them.best
    print(f"\nspeed : agentcost ({us.name[7:]}) {us.best:.2f} s, ccusage {them.best:.2f} s "
          f"(best of {args.runs}): {'within' if fast else 'OUTSIDE'} target (at least as "
          "fast)")
    small = all(each.peak < TARGET_PEAK_MB for each in measured[1:])
    print(f"memory: agentcost peak {max(each.peak for each in measured[1:]):.0f} MB (all "
          f"processes): {'within' if small else 'OUTSIDE'} target (< {TARGET_PEAK_MB} MB)")
    print(f"tokens: agentcost {'equals' if exact else 'DIFFERS FROM'} the truth")
    ok = fast and small and exact
    print("result: " + ("within targets" if ok else "OUTSIDE targets"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
