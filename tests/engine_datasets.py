"""The data sets every executor is checked on: the sample traces, shards where each task
spans many files, and adversarial prices; with the reports, scenarios and budgets run on
them."""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path
from typing import Any

from agentcost.simulation.scenario import CacheRule, Compression, Route, Scenario
from tests.conftest import SAMPLES

SHARDS = 6
DUPLICATED = 7  # lines copied into another shard: more than the 5 examples an account keeps


def without_engine(document: bytes) -> bytes:
    return re.sub(rb'\n *"engine": "[a-z]+"', b"", document, count=1)


def make_shards(folder: Path) -> list[Path]:
    """About 2,000 generated steps dealt at random over six files (each task spans most of
    them, each file keeps its lines in order), with seven steps copied into another file
    (repeats across files), a bad line, a model the table does not know, and steps without
    a step number (numbered by time within their task)."""
    from benchmarks.generate import generate

    out = io.StringIO()
    generate(out, steps=2_000, seed=21, window_hours=30)
    lines = out.getvalue().splitlines()
    deal = random.Random(21)
    files: list[list[str]] = [[] for _ in range(SHARDS)]
    for number, line in enumerate(lines):
        record = json.loads(line)
        if number % 97 == 5:
            record["model"] = "model-nobody-prices"
        if number % 89 == 3:
            del record["step_number"]
        files[deal.randrange(SHARDS)].append(json.dumps(record))
    for number in range(DUPLICATED):
        source = files[number % SHARDS]
        files[(number + 1) % SHARDS].append(source[10 + number])
    files[2].insert(4, '{"task_id": "broken", "model": ')
    paths = []
    for index, shard in enumerate(files):
        path = folder / f"shard-{index:02d}.jsonl"
        path.write_text("\n".join(shard) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


ADVERSARIAL_PRICES = """\
version: 1
models:
  tiny:
    input: 0.12345678901
    output: 0.98765432109
    cache_read: 0.01234567891
  quarter:
    input: 1.0
    output: 1.0
tools:
  probe:
    per_call: 0.00000000001
compute:
  per_second: 0.00000000007
"""


def make_adversarial(folder: Path) -> tuple[list[Path], Path]:
    """Sub-cent prices with eleven decimals on many small steps, over two files; and tasks
    whose steps cost exactly $0.25 each (250,000 input tokens at $1 per million), so that a
    $0.50 budget is reached exactly at their second step."""
    prices = folder / "prices.yaml"
    prices.write_text(ADVERSARIAL_PRICES, encoding="utf-8")
    rng = random.Random(5)
    files: list[list[str]] = [[], []]
    for task in range(60):
        for step in range(1, rng.randint(2, 9)):
            record: dict[str, Any] = {
                "task_id": f"t{task:03d}", "step_number": step,
                "timestamp": f"2026-11-27T{task % 24:02d}:{step:02d}:00Z",
                "duration_s": rng.choice([0.001, 0.3, 7.0]),
            }
            if task % 3 == 0:
                record.update(model="quarter", input_tokens=250_000, output_tokens=0)
            else:
                record.update(model="tiny", input_tokens=rng.randint(1, 9),
                              output_tokens=rng.randint(1, 3),
                              cache_read_tokens=rng.randint(0, 7))
            if step % 3 == 0:
                record["tool_name"] = "probe"
                record["tool_args"] = {"q": step % 2}
            files[rng.randrange(2)].append(json.dumps(record))
    paths = []
    for index, lines in enumerate(files):
        path = folder / f"part-{index}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths, prices


def dataset_named(name: str, shards: list[Path], adversarial: tuple[list[Path], Path]
             ) -> tuple[list[Path], Path | None]:
    if name == "samples":
        return sorted(SAMPLES.glob("*.jsonl")), None
    if name == "shards":
        return shards, None
    return adversarial


REPORTS = [
    ("samples", {}), ("samples", {"by": "user"}), ("samples", {"by": "block"}),
    ("shards", {}), ("shards", {"by": "tool"}), ("shards", {"by": "day"}),
    ("shards", {"since": "2026-11-27T06:00:00", "until": "2026-11-28T01:00:00"}),
    ("shards", {"opportunities": True}),
    ("shards", {"since": "2030-01-01", "opportunities": True}),  # a window with no step
    ("adversarial", {}), ("adversarial", {"by": "model", "cost_mode": "auto"}),
]



SCENARIO = Scenario(routes=(Route("summarize", "gpt-4o-mini"),),
                    cache=(CacheRule("*", 3_600),),
                    compression=Compression(after_step=4, keep_last=2,
                                            summary_model="gpt-4o-mini", summary_tokens=300),
                    budget_usd=0.05)
ADVERSARIAL_SCENARIO = Scenario(cache=(CacheRule("probe", 3_600),), budget_usd=0.5)


