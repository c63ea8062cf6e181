"""A seeded fuzzer over the values of the coding agents' real logs (Codex CLI, Gemini CLI,
Qwen Code): any field, or a whole record, replaced by a JSON value of another type. Whatever is
replaced, no exception escapes but a user-facing one, and every line is accounted for."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentcost.errors import AgentCostError
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table
from tests.conftest import REAL_TRACES

SEED = 20261207
ROUNDS = 15
VALUES: list[Any] = [None, 0, -1, 1.5, 10**30, True, "x", "2026-01-01T00:00:00Z", [],
                     [1, "a"], {}, {"a": 1}]
LOGS = ["codex/rollout-small.jsonl", "codex/ccusage-minimal.jsonl",
        "gemini/vct-gemini-0ab84937.jsonl",
        "gemini/codemie-session-2025-12-01T21-45-5b959dae.json",
        "qwen/splitrail-qwen_code.jsonl"]


def places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        yield from places(item, (*path, key))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    inner = value
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = new
    return value


def mutated(text: str, document: bool, rng: random.Random) -> str:
    if document:
        value = json.loads(text)
        for _ in range(rng.randint(1, 3)):
            value = replaced(value, rng.choice(list(places(value))),
                             copy.deepcopy(rng.choice(VALUES)))
        return json.dumps(value, indent=2)
    records = [json.loads(line) for line in text.splitlines()]
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(records))
        records[index] = replaced(records[index], rng.choice(list(places(records[index]))),
                                  copy.deepcopy(rng.choice(VALUES)))
    return "\n".join(json.dumps(record) for record in records) + "\n"


@pytest.mark.parametrize("name", LOGS)
def test_any_value_of_another_type_is_named_never_a_traceback(name, tmp_path):
    source = REAL_TRACES / name
    text = source.read_text(encoding="utf-8")
    table = load_price_table()
    rng = random.Random(f"{SEED}/{name}")
    for round_number in range(ROUNDS):
        path = Path(tmp_path / f"{round_number}{source.suffix}")
        path.write_text(mutated(text, source.suffix == ".json", rng), encoding="utf-8")
        try:
            ingested = read_steps([str(path)])
        except AgentCostError:
            continue
        assert ingested.accounting.balanced(), path.read_text()
        price_steps(ingested.steps.lazy(), table).collect()
