"""A native step read twice (a log and a copy of it, a line written twice) counts once, and the
report says how many repeats were dropped and where the first of each was read."""

from __future__ import annotations

import gzip
import json

import pytest

import agentcost
from agentcost.ingest.duplicates import CLASH, DUPLICATE, DUPLICATE_ID, DUPLICATE_ID_OTHER
from agentcost.ingest.read import read_steps


def mixed_log() -> list[dict[str, object]]:
    """Numbered steps, steps with an id, and steps with neither (two of them alike)."""
    records: list[dict[str, object]] = [
        {"task_id": f"t{i % 4}", "step_number": i // 4 + 1, "model": "gpt-4o",
         "input_tokens": 1000 + i, "output_tokens": 50 + i,
         "timestamp": 1764000000 + i, "tool_name": "web_search" if i % 5 == 0 else None}
        for i in range(40)
    ]
    records += [{"task_id": "ids", "step_id": f"s{i}", "model": "gpt-4o-mini",
                 "input_tokens": 300, "output_tokens": 30} for i in range(5)]
    alike = {"task_id": "bare", "tool_name": "web_search"}
    records += [alike, alike, {"task_id": "bare", "model": "gpt-4o", "input_tokens": 7}]
    return records


def totals(document: dict[str, object]) -> object:
    return {key: document[key] for key in ("summary", "tasks", "by_model", "by_tool",
                                           "distribution")}


@pytest.mark.parametrize("compress_copy", [False, True], ids=["plain copy", "gzip copy"])
def test_a_log_and_its_copy_give_the_totals_of_the_log(tmp_path, run_cli, write_jsonl,
                                                       compress_copy):
    log = write_jsonl(mixed_log(), name="a.jsonl")
    copy = tmp_path / ("copy-of-a.jsonl.gz" if compress_copy else "copy-of-a.jsonl")
    copy.write_bytes(gzip.compress(log.read_bytes()) if compress_copy else log.read_bytes())
    alone = run_cli("report", str(log), "--format", "json")
    both = run_cli("report", str(log), str(copy), "--format", "json")
    assert alone.exit_code == 0 and both.exit_code == 0
    alone_doc, both_doc = json.loads(alone.stdout), json.loads(both.stdout)
    assert totals(both_doc) == totals(alone_doc)
    lines = both_doc["lines"]
    count = len(mixed_log())
    assert (lines["read"], lines["used"], lines["skipped"]) == (2 * count, count, count)
    by_reason = {entry["reason"]: entry for entry in lines["skipped_by_reason"]}
    assert {reason: entry["count"] for reason, entry in by_reason.items()} == {
        DUPLICATE: count - 5, DUPLICATE_ID: 5}
    repeats = by_reason[DUPLICATE]
    assert repeats["first"] == [{"file": str(copy), "line": n} for n in range(1, 6)]
    assert repeats["earlier"] == [{"file": str(log), "line": n} for n in range(1, 6)]
    assert f"{count:,} of {2 * count:,} lines skipped" in both.stderr
    assert (f"  skipped {count - 5}: {DUPLICATE} (line {copy}:1, {copy}:2, {copy}:3, "
            f"{copy}:4, {copy}:5; the first of each at line {log}:1, {log}:2, {log}:3, "
            f"{log}:4, {log}:5)") in input_lines(agentcost.report([str(log), str(copy)]))


def test_the_same_record_twice_in_one_file_counts_once(write_jsonl):
    step = {"task_id": "a", "step_number": 1, "model": "gpt-4o", "input_tokens": 100}
    other = dict(step, step_number=2)
    path = write_jsonl([step, other, step])
    ingested = read_steps([str(path)])
    assert ingested.steps["step"].to_list() == [1, 2]
    accounting = ingested.accounting
    [(reason, tally)] = accounting.skipped.items()
    assert (reason, tally.count, tally.examples, tally.earlier) == (
        DUPLICATE, 1, [(str(path), 3)], [(str(path), 1)])
    assert (accounting.lines_read, accounting.lines_used) == (3, 2)
    assert accounting.balanced()


def test_the_same_step_number_with_other_content_is_two_steps_and_a_clash(write_jsonl):
    first = {"task_id": "a", "step_number": 3, "model": "gpt-4o", "input_tokens": 100}
    path = write_jsonl([first, {"task_id": "b", "step_number": 3}, dict(first, input_tokens=200)])
    ingested = read_steps([str(path)])
    assert ingested.steps["input_tokens"].to_list() == [100, None, 200]
    assert ingested.accounting.skipped == {}
    tally = ingested.accounting.notes[CLASH]
    assert (tally.count, tally.examples, tally.earlier) == (1, [(str(path), 3)],
                                                            [(str(path), 1)])
    assert (f"  note: {CLASH} (1; first at line 3, the earlier at line 1)"
            in input_lines(agentcost.report([str(path)])))


def test_a_step_id_is_the_identity(write_jsonl):
    """The same id twice is one step, whatever else the lines say; other ids are other steps,
    even with the same step number and content (and that is no clash)."""
    base = {"task_id": "a", "step_number": 1, "model": "gpt-4o", "input_tokens": 100}
    path = write_jsonl([
        dict(base, step_id="x"),
        dict(base, step_id="y"),  # same number and content, another id: another step
        dict(base, step_id="x"),  # the same step again
        dict(base, step_id="x", input_tokens=999),  # the same id, other content
        dict(base, span_id="x", task_id="b"),  # the same id in another task
    ])
    ingested = read_steps([str(path)])
    assert ingested.steps["span_id"].to_list() == ["x", "y", "x"]
    assert ingested.steps["input_tokens"].to_list() == [100, 100, 100]
    skipped = {reason: (t.count, t.examples, t.earlier)
               for reason, t in ingested.accounting.skipped.items()}
    assert skipped == {
        DUPLICATE_ID: (1, [(str(path), 3)], [(str(path), 1)]),
        DUPLICATE_ID_OTHER: (1, [(str(path), 4)], [(str(path), 1)]),
    }
    assert ingested.accounting.notes == {}


def test_alike_lines_without_step_number_or_id_in_one_file_all_count(write_jsonl):
    """Nothing tells two identical tool calls without step number or id apart from one call
    written twice: in one file both count; a second file repeating them is a copy."""
    call = {"task_id": "a", "tool_name": "web_search"}
    path = write_jsonl([call, call, call], name="one.jsonl")
    assert read_steps([str(path)]).steps.height == 3
    again = write_jsonl([call, {"task_id": "a", "tool_name": "fetch"}, call], name="two.jsonl")
    ingested = read_steps([str(path), str(again)])
    assert ingested.steps.height == 4  # the three of one.jsonl, and fetch
    tally = ingested.accounting.skipped[DUPLICATE]
    assert (tally.count, tally.examples, tally.earlier) == (
        2, [(str(again), 1), (str(again), 3)], [(str(path), 1), (str(path), 2)])


def test_steps_that_only_look_alike_are_kept(write_jsonl):
    """Another task, another step number or another start time: not the same step."""
    base = {"task_id": "a", "step_number": 1, "model": "gpt-4o", "input_tokens": 100}
    path = write_jsonl([base, dict(base, task_id="b"), dict(base, step_number=2),
                        {"task_id": "c", "timestamp": 1764000000, "tool_name": "f"}])
    other = write_jsonl([{"task_id": "c", "timestamp": 1764000001, "tool_name": "f"}],
                        name="other.jsonl")
    ingested = read_steps([str(path), str(other)])
    assert ingested.steps.height == 5
    assert ingested.accounting.skipped == {} and ingested.accounting.notes == {}


def input_lines(report: agentcost.Report) -> list[str]:
    from agentcost.renderers.views import input_section

    return input_section(report).lines


def test_strict_passes_on_a_log_and_its_copy_and_fails_on_a_conflicting_step_id(
        run_cli, tmp_path):
    """A copy loses nothing: --strict holds. The same step id with other content drops data:
    --strict fails with exit 3."""
    line = {"task_id": "t", "step": 1, "model": "gpt-4o", "input_tokens": 10,
            "output_tokens": 1}
    log = tmp_path / "a.jsonl"
    log.write_text(json.dumps(line) + "\n")
    copy = tmp_path / "a-copy.jsonl"
    copy.write_text(log.read_text())
    assert run_cli("report", str(log), str(copy), "--strict").exit_code == 0
    conflict = tmp_path / "b.jsonl"
    conflict.write_text(json.dumps({**line, "step_id": "s1"}) + "\n"
                        + json.dumps({**line, "step_id": "s1", "input_tokens": 99}) + "\n")
    assert run_cli("report", str(conflict), "--strict").exit_code == 3
