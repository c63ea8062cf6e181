"""Every field agentcost knows is read and checked on every native line, not only the fields
seen in a sample of lines: a field first written on line 2,000 of 3,000 counts."""

from __future__ import annotations

import gzip
import json

import pytest

import agentcost
from agentcost.ingest.read import read_steps

PRICES = """
version: 1
currency: USD
models:
  m:
    input: 1
    output: 2
    cache_write_1h: 4
    service_tiers: {priority: 2}
tools:
  search:
    per_call: 0.01
"""
LATE_FIELDS = 2000  # the first line carrying tool_name, cache_write_1h_tokens, service_tier
BAD_KIND = 2600
BAD_TYPE = 2700


def late_fields_log() -> list[str]:
    lines = []
    for line in range(1, 3001):
        record: dict[str, object] = {
            "task_id": f"t{line % 10}", "step_number": (line - 1) // 10 + 1, "model": "m",
            "input_tokens": 1000, "output_tokens": 100}
        if line == LATE_FIELDS:
            record.update(tool_name="search", cache_write_1h_tokens=500,
                          service_tier="priority")
        if line == BAD_KIND:
            record["kind"] = "banana"
        if line == BAD_TYPE:
            record["reasoning_tokens"] = "many"
        lines.append(json.dumps(record))
    return lines


@pytest.mark.parametrize("compress", [False, True], ids=["whole file", "in chunks"])
def test_a_field_first_seen_late_is_read_and_checked(tmp_path, write_prices, compress):
    text = "\n".join(late_fields_log()) + "\n"
    path = tmp_path / ("late.jsonl.gz" if compress else "late.jsonl")
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    report = agentcost.report([str(path)], prices=write_prices(PRICES))
    summary = report.summary
    assert summary.steps == 2998  # 3,000 lines, two refused
    skipped = {reason: tally.examples for reason, tally in report.accounting.skipped.items()}
    assert skipped == {
        "kind must be one of llm, tool, agent, embedding, other": [(str(path), BAD_KIND)],
        "field reasoning_tokens: expected a number, got text": [(str(path), BAD_TYPE)],
    }
    assert summary.tool_calls == 1
    assert summary.cache_write_1h_tokens == 500
    # 2,997 plain lines: 1,000 input at $1/M + 100 output at $2/M = $0.0012 each.
    # Line 2,000: 500 uncached input ($0.0005) + 500 one-hour writes at $4/M ($0.002) + 100
    # output ($0.0002) = $0.0027, twice that at the priority tier; and a $0.01 search.
    expected = 2997 * 0.0012 + 2 * 0.0027 + 0.01
    assert summary.total_cost_usd == pytest.approx(expected, rel=1e-12)
    assert report.accounting.balanced()


@pytest.mark.parametrize("compress", [False, True], ids=["whole file", "in chunks"])
def test_a_late_field_on_a_clean_file_is_read(tmp_path, compress):
    """No bad line: the read that only watched for the field fails on line 2,000, and the
    file is read again with the field decoded."""
    lines = [json.dumps({"task_id": f"t{i % 10}", "step_number": i // 10 + 1,
                         "input_tokens": 10}) for i in range(3000)]
    lines[LATE_FIELDS - 1] = json.dumps({"task_id": "late", "tool": "search",
                                         "reasoning_tokens": 7})
    text = "\n".join(lines) + "\n"
    path = tmp_path / ("late.jsonl.gz" if compress else "late.jsonl")
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    ingested = read_steps([str(path)])
    late = ingested.steps.filter(ingested.steps["task_id"] == "late")
    assert late.select("tool_name", "reasoning_tokens", "kind", "source_line").row(0) == (
        "search", 7, "llm", LATE_FIELDS)
    assert ingested.steps.height == 3000 and ingested.accounting.skipped == {}


def test_a_line_without_any_token_field_has_unknown_usage(write_jsonl):
    """Every token alias is decoded, absent ones as null: a line without one is still unknown
    usage (null, unpriced), not zero, and a file with none at all too."""
    some = write_jsonl([{"task_id": "a", "model": "gpt-4o", "input_tokens": 5},
                        {"task_id": "a", "model": "gpt-4o", "step_number": 2}], name="some.jsonl")
    steps = read_steps([str(some)]).steps
    assert steps["input_tokens"].to_list() == [5, None]
    assert steps["output_tokens"].to_list() == [0, None]
    none = write_jsonl([{"task_id": "a", "model": "gpt-4o"}], name="none.jsonl")
    steps = read_steps([str(none)]).steps
    assert steps["input_tokens"].to_list() == [None]
    assert agentcost.report([str(none)]).summary.unpriced_steps == 1


def test_the_unknown_field_note_says_it_comes_from_a_sample(write_jsonl):
    path = write_jsonl([{"task_id": "a", "colour": "blue"}])
    [note] = read_steps([str(path)]).accounting.notes
    assert note == ("unknown field 'colour' ignored (found in a sample of the lines; count: "
                    "sampled lines)")
