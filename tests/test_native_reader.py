"""The native JSONL reader: aliases, semantics of input vs cache, and every bad line accounted."""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcost.ingest.read import read_steps


def good_record(i: int) -> dict[str, object]:
    return {"task_id": f"t{i % 37}", "step_number": i // 37 + 1, "model": "gpt-4o",
            "input_tokens": 1000 + i, "output_tokens": 10 + i % 7,
            "timestamp": 1764000000 + i, "tool_name": "web_search" if i % 3 == 0 else None}


BROKEN = [
    ("not json at all", "not valid JSON"),
    ('{"task_id": "x", "input_tokens": 5', "not valid JSON"),
    ("[1, 2, 3]", "not a JSON object"),
    ('"just a string"', "not a JSON object"),
    ('{"model": "gpt-4o", "input_tokens": 5}', "missing task_id"),
    ('{"task_id": "", "input_tokens": 5}', "missing task_id"),
    ('{"task_id": "x", "input_tokens": -5}', "input_tokens is negative"),
    ('{"task_id": "x", "output_tokens": 2.5}', "output_tokens is not a whole number"),
    ('{"task_id": "x", "input_tokens": "many"}', "field input_tokens: expected a number, got text"),
    ('{"task_id": "x", "input_tokens": true}',
     "field input_tokens: expected a number, got true/false"),
    ('{"task_id": "x", "tool_cost_usd": -0.01}', "tool_cost_usd is negative"),
    ('{"task_id": "x", "timestamp": "last tuesday"}',
     "timestamp is not a time (ISO 8601 or epoch seconds, in 1970 to 2199)"),
    ('{"task_id": "x", "kind": "banana"}',
     "kind must be one of llm, tool, agent, embedding, other"),
    ('{"task_id": "x", "timestamp": 1180591620717411303424}',
     "timestamp is not a time (ISO 8601 or epoch seconds, in 1970 to 2199)"),
    ('{"task_id": "x", "timestamp": "9999-12-31T00:00:00Z"}',
     "timestamp is not a time (ISO 8601 or epoch seconds, in 1970 to 2199)"),
    # polars reads these as text ('{"a": 1}', '["gpt-4o"]', 'true'): the raw JSON says no
    ('{"task_id": {"a": 1}, "input_tokens": 5}',
     "field task_id: expected text or a number, got object"),
    ('{"task_id": "x", "model": ["gpt-4o"], "input_tokens": 5}',
     "field model: expected text or a number, got array"),
    ('{"task_id": "x", "tool_name": false}',
     "field tool_name: expected text or a number, got true/false"),
]


def test_thousand_good_and_fifty_broken_lines_are_all_accounted(write_jsonl):
    rng = random.Random(3)
    lines: list[str] = [json.dumps(good_record(i)) for i in range(1000)]
    broken = [BROKEN[i % len(BROKEN)] for i in range(50)]
    positions = sorted(rng.sample(range(1050), 50))
    expected_reasons: dict[str, list[int]] = {}
    for position, (text, _) in zip(positions, broken, strict=True):
        lines.insert(position, text)
    for position, (_, reason) in zip(positions, broken, strict=True):
        expected_reasons.setdefault(reason, []).append(position + 1)
    path = write_jsonl(lines)

    ingested = read_steps([str(path)])
    accounting = ingested.accounting
    assert accounting.lines_read == 1050
    assert accounting.lines_used == 1000
    assert accounting.lines_skipped == 50
    assert accounting.balanced()
    assert {reason: tally.count for reason, tally in accounting.skipped.items()} == {
        reason: len(found) for reason, found in expected_reasons.items()}
    for reason, found in expected_reasons.items():
        assert [line for _, line in accounting.skipped[reason].examples] == found[:5]
    steps = ingested.steps
    assert steps.height == 1000
    assert steps["input_tokens"].sum() == sum(1000 + i for i in range(1000))
    assert steps["tool_name"].drop_nulls().len() == len(range(0, 1000, 3))


@pytest.mark.parametrize("compress", [False, True])
def test_objects_arrays_and_booleans_are_not_text_but_text_that_looks_so_is(tmp_path, compress):
    """A clean file is decoded by polars whole, which reads {...}, [...] and true/false as
    text: the lines are looked at again, and only the real wrong types are skipped."""
    records = [good_record(i) for i in range(300)]
    records[10]["task_id"] = {"id": 7}
    records[120]["model"] = ["gpt-4o", "gpt-4o-mini"]
    records[250]["tool_name"] = True
    kept = {5: "[red]x[/red]", 60: "{not json}", 200: "true", 299: "[1, 2]"}
    for index, task in kept.items():
        records[index]["task_id"] = task
    data = "".join(json.dumps(record) + "\n" for record in records).encode()
    path = tmp_path / ("steps.jsonl.gz" if compress else "steps.jsonl")
    path.write_bytes(gzip.compress(data) if compress else data)

    ingested = read_steps([str(path)])
    skipped = {reason: [line for _, line in tally.examples]
               for reason, tally in ingested.accounting.skipped.items()}
    assert skipped == {
        "field task_id: expected text or a number, got object": [11],
        "field model: expected text or a number, got array": [121],
        "field tool_name: expected text or a number, got true/false": [251],
    }
    assert ingested.accounting.lines_used == 297
    tasks = set(ingested.steps["task_id"].to_list())
    assert set(kept.values()) <= tasks
    assert not any(task.startswith('{"') for task in tasks)


def test_aliases_and_cache_semantics(write_jsonl):
    path = write_jsonl([
        # OpenAI-style: prompt includes the cached part.
        {"task": "a", "step": 1, "prompt_tokens": 1000, "completion_tokens": 50,
         "cached_input_tokens": 400, "model": "gpt-4o"},
        # Anthropic-style: input smaller than the cache counts, so they are additive.
        {"task_id": "b", "llm_input_tokens": 3, "llm_output_tokens": 13,
         "cache_read_tokens": 11515, "cache_write_tokens": 13835, "model": "claude-opus-4-6"},
        # Explicit uncached count: no subtraction.
        {"task_id": "c", "uncached_input_tokens": 70, "input_tokens": 999, "cache_read_tokens": 30,
         "output_tokens": 1, "model": "gpt-4o"},
    ])
    steps = read_steps([str(path)]).steps.sort("task_id")
    assert steps["input_tokens"].to_list() == [600, 3, 70]
    assert steps["cache_read_tokens"].to_list() == [400, 11515, 30]
    assert steps["cache_write_5m_tokens"].to_list() == [0, 13835, 0]
    assert steps["output_tokens"].to_list() == [50, 13, 1]
    notes = read_steps([str(path)]).accounting.notes
    assert any("excluding cached tokens" in note for note in notes)


def test_times_durations_kinds_and_step_numbering(write_jsonl):
    path = write_jsonl([
        {"task_id": "t", "timestamp": "2026-11-27T10:00:05Z", "tool": "read_page",
         "duration_ms": 1500},
        {"task_id": "t", "timestamp": "2026-11-27T12:00:00+02:00", "model": "gpt-4o",
         "input_tokens": 1, "compute_time_seconds": 2},
        {"task_id": "t", "ts": 1795773600.5, "kind": "agent"},
    ])
    steps = read_steps([str(path)]).steps.sort("step")
    # 10:00:00Z (the +02:00 line), then 10:00:00.5Z (epoch), then 10:00:05Z
    assert steps["source_line"].to_list() == [2, 3, 1]
    assert steps["step"].to_list() == [1, 2, 3]
    assert steps["kind"].to_list() == ["llm", "agent", "tool"]
    assert steps["duration_s"].to_list() == [2.0, None, 1.5]


def test_blank_lines_keep_line_numbers(write_jsonl):
    path = write_jsonl([json.dumps(good_record(1)), "", "   ", json.dumps(good_record(2)),
                        "oops"])
    ingested = read_steps([str(path)])
    assert ingested.steps["source_line"].to_list() == [1, 4]
    assert ingested.accounting.lines_blank == 2
    assert ingested.accounting.skipped["not valid JSON"].examples == [(str(path), 5)]


def test_truncated_last_line_is_named(tmp_path):
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(good_record(1)) + '\n{"task_id": "t1", "input_tok')
    accounting = read_steps([str(path)]).accounting
    assert accounting.lines_used == 1
    assert accounting.skipped["truncated line (file ends mid-record)"].examples == [
        (str(path), 2)]


def test_gzip_directory_glob_and_stdin_sources(tmp_path, monkeypatch):
    records = [json.dumps(good_record(i)) for i in range(10)]
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.jsonl").write_text("\n".join(records[:4]) + "\n")
    with gzip.open(tmp_path / "d" / "b.jsonl.gz", "wt") as handle:
        handle.write("\n".join(records[4:]) + "\n")
    (tmp_path / "d" / "notes.txt").write_text("not a trace")
    from_dir = read_steps([str(tmp_path / "d")])
    assert from_dir.steps.height == 10
    assert from_dir.accounting.files == [str(tmp_path / "d" / "a.jsonl"),
                                         str(tmp_path / "d" / "b.jsonl.gz")]
    from_glob = read_steps([str(tmp_path / "d" / "*.jsonl*")])
    assert from_glob.steps.height == 10


def test_cut_off_gzip_keeps_what_was_read(tmp_path):
    data = gzip.compress(("\n".join(json.dumps(good_record(i)) for i in range(2000)) + "\n")
                         .encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    ingested = read_steps([str(path)])
    assert 0 < ingested.steps.height < 2000
    assert any(note.startswith("input cut off") for note in ingested.accounting.notes)
    assert ingested.accounting.balanced()


def test_unknown_fields_are_noted_with_their_line(write_jsonl):
    path = write_jsonl([good_record(0), dict(good_record(1), colour="blue")])
    notes = read_steps([str(path)]).accounting.notes
    [(_note, tally)] = [(n, t) for n, t in notes.items() if "colour" in n]
    assert tally.examples == [(str(path), 2)]


def test_missing_input_file_is_a_clear_error(tmp_path):
    from agentcost.errors import InputError

    with pytest.raises(InputError, match="no such file"):
        read_steps([str(tmp_path / "absent.jsonl")])


def test_columns_not_asked_for_are_not_read(write_jsonl):
    path = write_jsonl([dict(good_record(0), user="ann", tool_args={"b": 1, "a": 2})])
    full = read_steps([str(path)]).steps
    narrow = read_steps([str(path)], columns=["task_id"]).steps
    assert full["user"].to_list() == ["ann"]
    assert narrow["user"].to_list() == [None]
    assert narrow.schema == full.schema
    assert isinstance(full["start_time"].dtype, pl.Datetime)


def test_byte_order_mark_does_not_cost_the_first_line(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(
        json.dumps(good_record(i)) for i in range(3)).encode() + b"\n")
    ingested = read_steps([str(path)])
    assert ingested.steps["source_line"].to_list() == [1, 2, 3]
    assert ingested.accounting.skipped == {}


def test_numbers_json_cannot_hold_and_deep_nesting_are_named_not_raised(write_jsonl):
    path = write_jsonl([
        good_record(0),
        '{"task_id": "t", "input_tokens": NaN}',
        '{"task_id": "t", "input_tokens": 1e400}',
        '{"task_id": "t", "input_tokens": 99999999999999999999999}',
        '{"task_id": "t", "tool_args": ' + "[" * 5000 + "]" * 5000 + "}",
        good_record(1),  # another step: the same one twice would count once
    ])
    accounting = read_steps([str(path)]).accounting
    assert accounting.lines_used == 2
    reasons = {reason: tally.examples for reason, tally in accounting.skipped.items()}
    assert reasons == {
        "not valid JSON": [(str(path), 2)],
        "input_tokens is not a finite number": [(str(path), 3)],
        "input_tokens is too large": [(str(path), 4)],
        "nested too deeply to read": [(str(path), 5)],
    }
    assert accounting.balanced()


@pytest.mark.parametrize("texts", [
    # all ISO with Z: the column is parsed whole
    ["2026-11-27T10:00:00Z", "2026-11-27T10:00:00.5Z"],
    # epochs, offsets, space-separated, dates and junk: each value by the format it matches
    ["1795773600.5", "2026-11-27T12:00:00+02:00", "2026-11-27 10:00:00", "2026-11-27",
     "not a time", "99999-01-01", "1e30", None],
])
def test_times_parse_the_same_whole_or_picked_apart(texts):
    from datetime import UTC, datetime

    from agentcost.ingest.timeparse import parse_time

    expected = {
        "2026-11-27T10:00:00Z": datetime(2026, 11, 27, 10, tzinfo=UTC),
        "2026-11-27T10:00:00.5Z": datetime(2026, 11, 27, 10, 0, 0, 500_000, tzinfo=UTC),
        "1795773600.5": datetime(2026, 11, 27, 10, 0, 0, 500_000, tzinfo=UTC),
        "2026-11-27T12:00:00+02:00": datetime(2026, 11, 27, 10, tzinfo=UTC),
        "2026-11-27 10:00:00": datetime(2026, 11, 27, 10, tzinfo=UTC),
        "2026-11-27": datetime(2026, 11, 27, tzinfo=UTC),
    }
    parsed = parse_time(pl.Series("timestamp", texts, dtype=pl.String))
    assert parsed.name == "timestamp"
    assert parsed.to_list() == [expected.get(text) for text in texts]


@settings(max_examples=60, deadline=None)
@given(
    moments=st.lists(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31)),
                     min_size=1, max_size=40),
    digits=st.integers(min_value=0, max_value=9),
    garbled=st.sampled_from(["", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z",
                             "2026-11-27T10:00:00.Z", "2026-11-27T25:00:00Z"]),
)
def test_the_common_utc_layout_parses_as_the_general_format_does(moments, digits, garbled):
    """'2026-11-27T10:00:00.123456Z' is taken apart at fixed places, not by the general parser:
    every fraction length (cut to microseconds, never rounded) and every impossible date must
    come out as the general ISO format gives them."""
    from agentcost.ingest.timeparse import ISO_FORMATS, _parse_iso, parse_time

    def written(moment: datetime) -> str:
        fraction = f"{moment.microsecond:06d}{moment.microsecond % 1000:03d}"[:digits]
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + "Z"

    texts = [written(moment) for moment in moments] + [garbled]
    general = _parse_iso(pl.Series(texts, dtype=pl.String), ISO_FORMATS[0]).to_list()
    assert parse_time(pl.Series(texts, dtype=pl.String)).to_list() == general
    assert general[:-1] == [
        moment.replace(microsecond=int(f"{moment.microsecond:06d}"[:digits].ljust(6, "0")),
                       tzinfo=UTC)
        for moment in moments
    ]
