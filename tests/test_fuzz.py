"""A seeded mutation fuzzer over native and OTLP lines, through the whole pipeline: read, price,
report, and render in every format. Whatever the mutations do, no exception escapes but a
user-facing one, every line is accounted for, and the lines left intact give the same figures as
they do alone."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

import agentcost

SEED = 20261207
ROUNDS = 12  # a fixed number: the same inputs on every machine, however busy
FORMATS = ("table", "json", "csv", "markdown", "html")
JUNK = [b"\x00", b"\xff\xfe", b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":", b"\n", b"\r",
        b"\t", b" ", b"-", b"1e999", b"NaN", b"null", b"true", b"\xe2\x80\xae", b"\xe2\x80",
        b"9" * 40, b'"\\u0000"', b"{}" * 8, b"[" * 64]


def native_line(task: str, step: int) -> bytes:
    return json.dumps({
        "task_id": task, "step": step, "timestamp": f"2026-11-27T10:{step % 60:02d}:00Z",
        "model": "gpt-4o", "input_tokens": 1000 * step, "output_tokens": 100,
        "cache_read_tokens": 10 * step, "tool_name": "web_search",
        "tool_args": {"query": f"q{step}"}, "duration_s": 1.5, "user": "u1",
        "workflow": "research"}).encode()


def otlp_line(trace: str, step: int) -> bytes:
    def value(item: object) -> dict[str, object]:
        return {"intValue": str(item)} if isinstance(item, int) else {"stringValue": item}

    attributes = {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 1000 * step,
                  "gen_ai.usage.output_tokens": 100, "gen_ai.operation.name": "chat"}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace, "spanId": f"{step:016x}", "name": "chat",
        "startTimeUnixNano": str(1764237600_000_000_000 + step * 1_000_000_000),
        "endTimeUnixNano": str(1764237601_000_000_000 + step * 1_000_000_000),
        "attributes": [{"key": key, "value": value(item)}
                       for key, item in attributes.items()]}]}]}]}).encode()


def mutate(line: bytes, rng: random.Random) -> bytes:
    data = bytearray(line)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if kind == 0 and data:  # flip a byte
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif kind == 1:  # insert junk
            data[at:at] = rng.choice(JUNK)
        elif kind == 2:  # cut off
            del data[at:]
        elif kind == 3 and data:  # delete a run
            del data[at:at + rng.randint(1, 12)]
        elif kind == 4:  # repeat a run
            data[at:at] = data[at:at + rng.randint(1, 30)]
        else:  # swap a value for another type
            text = data.decode("utf-8", "replace")
            for old, new in (('"gpt-4o"', "123"), ("1000", '"1000"'), ("100,", "-100,"),
                             ('"u1"', '{"a": []}'), ("1.5", "1e400"), ("true", "[]")):
                if old in text and rng.random() < 0.5:
                    text = text.replace(old, new, 1)
            data = bytearray(text.encode())
    return bytes(data).replace(b"\n", b" ") if rng.random() < 0.8 else bytes(data)


def figures_of(report: agentcost.Report, prefix: str) -> dict[str, tuple[int, float | None]]:
    rows = report.tasks.filter(report.tasks["task_id"].str.starts_with(prefix))
    return {row["task_id"]: (row["steps"], row["total_cost_usd"])
            for row in rows.iter_rows(named=True)}


Make = Callable[[str, int], bytes]


@pytest.mark.parametrize(("make", "good", "bad", "suffix"), [
    (native_line, "good-", "mut-", ".jsonl"),
    (otlp_line, "a" * 32, "b" * 32, ".jsonl"),
])
def test_mutated_lines_never_break_the_run_or_the_good_lines(tmp_path: Path, make: Make,
                                                             good: str, bad: str, suffix: str):
    rng = random.Random(f"{SEED}-{make.__name__}")
    for rounds in range(1, ROUNDS + 1):
        good_lines = [make(good if make is otlp_line else f"{good}{n % 3}", n)
                      for n in range(1, rng.randint(2, 12))]
        alone = tmp_path / f"alone-{rounds}{suffix}"
        alone.write_bytes(b"\n".join(good_lines) + b"\n")
        mixed_lines = list(good_lines)
        for n in range(rng.randint(1, 8)):
            bad_id = bad if make is otlp_line else f"{bad}{n}"
            mixed_lines.insert(rng.randrange(len(mixed_lines) + 1),
                               mutate(make(bad_id, 100 + n), rng))
        mixed = tmp_path / f"mixed-{rounds}{suffix}"
        mixed.write_bytes(b"\n".join(mixed_lines) + b"\n")
        expected = figures_of(agentcost.report(alone), good)
        report = agentcost.report(mixed)  # good lines are there: never a file-level refusal
        accounting = report.accounting
        assert accounting.balanced(), (mixed.read_bytes(), accounting)
        assert figures_of(report, good) == expected, mixed.read_bytes()
        for fmt in FORMATS:
            assert agentcost.render(report, fmt)
