"""An OTLP/JSON file exporter log (one TracesData per line) with the quirks real ones have:
base64 ids, numbers as strings and as numbers, SPAN_KIND names, spans exported twice, nested
spans repeating usage, resourceLogs lines, and a cut-off last line."""

from __future__ import annotations

import base64
import json
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from agentcost.ingest import sources
from agentcost.ingest.read import read_steps


def kv(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def span(trace, span_id, parent, name, attributes, start, *, encode_ids):
    ident = b64 if encode_ids else (lambda x: x)
    return {
        "traceId": ident(trace), "spanId": ident(span_id),
        "parentSpanId": ident(parent) if parent else "",
        "name": name, "kind": "SPAN_KIND_CLIENT" if encode_ids else 3,
        "startTimeUnixNano": str(start) if encode_ids else start,
        "endTimeUnixNano": str(start + 1_500_000_000),
        "attributes": [kv(k, v) for k, v in attributes.items()],
    }


def traces_data(spans):
    return {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "svc")]},
                               "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]}


def exporter_log(tmp_path):
    """The log and the totals it must give."""
    rng = random.Random(4)
    lines: list[str] = []
    expected_input = expected_output = expected_cached = calls = tools = 0
    for task in range(200):
        trace = f"{task + 1:032x}"
        root = f"{task + 1:04x}000000000001"
        spans = [span(trace, root, None, "invoke_agent planner",
                      {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
                       "gen_ai.usage.input_tokens": 999_999}, 1_000, encode_ids=task % 2 == 0)]
        for call in range(3):
            prompt, completion = rng.randint(100, 5000), rng.randint(10, 500)
            cached = rng.randint(0, prompt)
            wrapper = f"{task + 1:04x}0000000001{call:02x}"
            inner = f"{task + 1:04x}0000000002{call:02x}"
            usage = {"gen_ai.usage.input_tokens": prompt, "gen_ai.usage.output_tokens": completion,
                     "gen_ai.usage.cache_read.input_tokens": cached}
            spans.append(span(trace, wrapper, root, "call_llm", dict(usage), 2_000 + call,
                              encode_ids=task % 2 == 0))
            spans.append(span(trace, inner, wrapper, "chat gpt-4o",
                              {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                               **usage}, 3_000 + call, encode_ids=task % 2 == 0))
            expected_input += prompt - cached
            expected_cached += cached
            expected_output += completion
            calls += 1
        tool = f"{task + 1:04x}000000000009"
        spans.append(span(trace, tool, root, "execute_tool web_search",
                          {"gen_ai.operation.name": "execute_tool",
                           "gen_ai.tool.name": "web_search",
                           "gen_ai.tool.call.arguments": '{"q": "x", "a": 1}'}, 5_000,
                          encode_ids=task % 2 == 0))
        tools += 1
        lines.append(json.dumps(traces_data(spans)))
        if task % 10 == 0:  # the same spans exported again by a second exporter
            lines.append(json.dumps(traces_data(spans)))
        if task % 50 == 0:
            lines.append(json.dumps({"resourceLogs": []}))
    lines.append(json.dumps(traces_data([]))[:40])  # cut off mid-record
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(lines))
    return path, len(lines), calls, tools, expected_input, expected_cached, expected_output


# 32 KiB chunks: the log (900 KB) is read in about 28 chunks, shared out among two processes.
@pytest.mark.parametrize(("chunk_bytes", "jobs"), [(sources.SPAN_CHUNK_BYTES, 1), (32768, 2)])
def test_file_exporter_log_gives_exact_totals(tmp_path, monkeypatch, chunk_bytes, jobs):
    monkeypatch.setattr(sources, "SPAN_CHUNK_BYTES", chunk_bytes)
    path, line_count, calls, tools, expected_input, expected_cached, expected_output = (
        exporter_log(tmp_path))
    ingested = read_steps([str(path)], jobs=jobs)
    steps = ingested.steps
    llm = steps.filter(pl.col("kind") == "llm")
    assert llm.height == calls == 600
    assert llm["input_tokens"].sum() == expected_input
    assert llm["cache_read_tokens"].sum() == expected_cached
    assert llm["output_tokens"].sum() == expected_output
    assert set(llm["model"].to_list()) == {"gpt-4o"}
    tool_steps = steps.filter(pl.col("kind") == "tool")
    assert tool_steps.height == tools == 200
    assert set(tool_steps["tool_args"].to_list()) == {'{"a":1,"q":"x"}'}
    assert steps["task_id"].n_unique() == 200
    assert set(steps["task_id"].str.len_chars().to_list()) == {32}  # base64 ids decoded to hex
    accounting = ingested.accounting
    assert accounting.lines_read == line_count
    assert accounting.skipped["truncated line (file ends mid-record)"].count == 1
    assert accounting.lines_used == line_count - 1
    duplicates = accounting.spans_skipped["duplicate span (same trace and span id)"].count
    assert duplicates == 20 * 8
    assert accounting.spans_read == 220 * 8
    # each of the steps starts 1.5 s long; steps numbered by start time within the task
    assert steps["duration_s"].unique().to_list() == [1.5]
    first_task = steps.filter(pl.col("task_id") == f"{1:032x}").sort("step")
    assert first_task["kind"].to_list() == ["llm", "llm", "llm", "tool"]


def test_chunked_read_gives_the_same_steps_in_the_same_order(tmp_path, monkeypatch):
    path = exporter_log(tmp_path)[0]
    whole = read_steps([str(path)]).steps
    monkeypatch.setattr(sources, "SPAN_CHUNK_BYTES", 32768)
    chunked = read_steps([str(path)])
    assert len(chunked.accounting.formats) == 1
    assert_frame_equal(chunked.steps, whole)


def test_unreadable_token_counts_skip_the_span_by_name(tmp_path):
    trace = "0af7651916cd43dd8448eb211c80319c"
    records = []
    for line, prompt in enumerate(["100", "99999999999999999999999", "-5", "abc", "2.5"], 1):
        attributes = [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o"),
                      {"key": "gen_ai.usage.input_tokens", "value": {"stringValue": prompt}},
                      kv("gen_ai.usage.output_tokens", 10)]
        one = span(trace, f"{line:016x}", None, "chat", {}, 1_764_000_000_000_000_000,
                   encode_ids=False)
        records.append(json.dumps(traces_data([dict(one, attributes=attributes)])))
    path = tmp_path / "otlp.jsonl"
    path.write_text("\n".join(records) + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps["input_tokens"].to_list() == [100]
    tally = ingested.accounting.spans_skipped["token count not a whole number of zero or more"]
    assert tally.count == 4
    assert tally.examples == [(str(path), line) for line in (2, 3, 4, 5)]


def test_bad_lines_are_named_the_same_however_the_file_is_split(tmp_path, monkeypatch):
    """Lines that are not JSON, not objects, or of the wrong shape, spread over a file read in
    many chunks (shared out among two processes): every one named, the good spans all kept."""
    path = exporter_log(tmp_path)[0]
    lines = path.read_text().split("\n")
    rng = random.Random(11)
    broken = sorted(rng.sample(range(len(lines) - 1), 12))
    damage = ['{"resourceSpans": [', "[1, 2, 3]", '{"resourceSpans": [{"scopeSpans": 7}]}',
              "not json at all"]
    for index, line_index in enumerate(broken):
        lines[line_index] = damage[index % len(damage)]
    path.write_text("\n".join(lines))
    whole = read_steps([str(path)])
    monkeypatch.setattr(sources, "SPAN_CHUNK_BYTES", 32768)
    chunked = read_steps([str(path)], jobs=2)
    assert_frame_equal(chunked.steps, whole.steps)
    named = [line for tally in chunked.accounting.skipped.values()
             for _, line in tally.examples]
    assert chunked.accounting.lines_skipped == whole.accounting.lines_skipped == 13
    assert {reason: (t.count, t.examples) for reason, t in chunked.accounting.skipped.items()
            } == {reason: (t.count, t.examples) for reason, t in whole.accounting.skipped.items()}
    assert set(named) <= {number + 1 for number in broken} | {len(lines)}


@pytest.mark.parametrize("ids", [
    ["0af7651916cd43dd8448eb211c80319c", "", None],      # the usual: lowercase hex
    ["0AF7651916CD43DD8448EB211C80319C", "", None],      # upper case
    [b64("0af7651916cd43dd8448eb211c80319c"), "", None],  # base64, as some exporters write
])
def test_trace_ids_come_out_lowercase_hex_whatever_the_exporter_wrote(ids):
    from agentcost.ingest.spans.otlp_lines import canonical_ids

    found = canonical_ids(pl.Series("trace_id", ids, dtype=pl.String), 32).to_list()
    assert found == ["0af7651916cd43dd8448eb211c80319c", None, None]


def test_parent_links_that_loop_end_and_a_span_that_is_its_own_parent_is_a_root(tmp_path):
    """Bad data: a span named as its own parent, and two spans each the other's parent. The
    nesting rule ends. The first is a root, so its call counts. The loop is broken at the span
    seen first (b1), taken as a root: b2 is its child and the deepest, so its call counts
    once, and the report says the cycle was broken."""
    trace = "0af7651916cd43dd8448eb211c80319c"
    usage = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
             "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10}
    spans = [
        span(trace, "00000000000000a1", "00000000000000a1", "chat", usage, 1_000,
             encode_ids=False),
        span(trace, "00000000000000b1", "00000000000000b2", "chat", usage, 2_000,
             encode_ids=False),
        span(trace, "00000000000000b2", "00000000000000b1", "chat", usage, 3_000,
             encode_ids=False),
    ]
    path = tmp_path / "loops.jsonl"
    path.write_text(json.dumps(traces_data(spans)) + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps["span_id"].to_list() == ["00000000000000a1", "00000000000000b2"]
    assert ingested.steps["input_tokens"].to_list() == [100, 100]
    accounting = ingested.accounting
    assert accounting.spans_read == 3
    assert accounting.spans_used == 2
    repeated = accounting.spans_not_steps[
        "usage repeated by a nested span (counted once, at the deepest)"]
    assert (repeated.count, [line for _, line in repeated.examples]) == (1, [1])
    assert [tally.count for what, tally in accounting.notes.items()
            if what.startswith("parent cycle broken")] == [1]
