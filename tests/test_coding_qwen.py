"""Qwen Code sessions: the real file gives its truth (each usage written twice, counted once),
the copies are paired whatever their order, and bad input is named, counted, and never a
traceback or $0."""

from __future__ import annotations

import json

import polars as pl

from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table
from tests.conftest import REAL_TRACES

REAL = REAL_TRACES / "qwen" / "splitrail-qwen_code.jsonl"
LABEL = "Qwen Code session log"
PAIRED = ("Qwen Code usage written twice (assistant record and ui_telemetry api_response): "
          "counted once")


def llm(steps: pl.DataFrame) -> pl.DataFrame:
    return steps.filter(pl.col("kind") == "llm")


def priced(steps: pl.DataFrame, prices=None) -> pl.DataFrame:
    return price_steps(steps.lazy(), load_price_table(prices)).collect()


def test_the_real_session_counts_one_copy_of_each_usage():
    # Two replies on coder-model: prompts 500 and 600 (50 cached), outputs 20 and 5; each
    # also in a ui_telemetry api_response. 1,100 prompt of which 50 cached: 1,050 uncached.
    ingested = read_steps([str(REAL)])
    steps, accounting = ingested.steps, ingested.accounting
    calls = llm(steps)
    assert calls.select("source_line", "model", "input_tokens", "cache_read_tokens",
                        "output_tokens", "reasoning_tokens").rows() == [
        (4, "coder-model", 500, 0, 20, 0), (8, "coder-model", 550, 50, 5, 0)]
    assert steps["task_id"].unique().to_list() == ["69f0814a-8bfc-4c8e-93d3-05757f17b96f/1"]
    assert steps["project"].unique().to_list() == ["/tmp/qwentest"]
    assert steps["workflow"].unique().to_list() == ["qwen-code"]
    assert steps.filter(pl.col("kind") == "tool").select("tool_name", "tool_args").rows() == [
        ("list_directory", '{"path":"."}')]
    assert accounting.notes[PAIRED].count == 2
    assert (accounting.lines_read, accounting.lines_used, accounting.lines_skipped) == (8, 8, 0)
    assert list(accounting.formats) == [LABEL]


def test_the_real_session_is_unpriced_by_the_shipped_table_and_hand_priced_by_yours(
        write_prices):
    # coder-model (a mock server's name) has no public price: unpriced, never $0.
    shipped = priced(read_steps([str(REAL)]).steps).filter(pl.col("kind") == "llm")
    assert shipped["llm_cost_usd"].null_count() == 2
    assert shipped["unpriced_reason"].unique().to_list() == ["model not in price table"]
    # With a table that prices it, per 1M: input 1, cache read 0.1, output 5:
    #   1,050 x 1 + 50 x 0.1 + 25 x 5 = 1,050 + 5 + 125 = 1,180 per 1M = $0.00118
    prices = write_prices("version: 1\nmodels:\n  coder-model:\n    input: 1.0\n"
                          "    cache_read: 0.1\n    output: 5.0\n")
    mine = priced(read_steps([str(REAL)]).steps, prices)
    assert round(mine["llm_cost_usd"].sum(), 10) == 0.00118


# Hand-written sessions


def record(kind: str, line_uuid: str, **extra: object) -> dict[str, object]:
    return {"uuid": line_uuid, "parentUuid": None, "sessionId": "q1",
            "timestamp": "2026-03-01T10:00:00Z", "type": kind, "cwd": "/repo",
            "version": "0.18.1", "gitBranch": "main", **extra}


def user(line_uuid: str, **extra: object) -> dict[str, object]:
    return record("user", line_uuid, message={"role": "user", "parts": [{"text": "hi"}]},
                  **extra)


def assistant(line_uuid: str, prompt: int, output: int, *, cached: int = 0,
              thoughts: int | None = None, total: int | None = None,
              model: str | None = "gemini-2.5-flash", **extra: object) -> dict[str, object]:
    metadata: dict[str, int] = {"promptTokenCount": prompt, "candidatesTokenCount": output,
                                "cachedContentTokenCount": cached,
                                "totalTokenCount": total if total is not None
                                else prompt + output + (thoughts or 0)}
    if thoughts is not None:
        metadata["thoughtsTokenCount"] = thoughts
    body = record("assistant", line_uuid, message={"role": "model", "parts": [{"text": "ok"}]},
                  usageMetadata=metadata, **extra)
    if model is not None:
        body["model"] = model
    return body


def telemetry(line_uuid: str, prompt: int, output: int, *, cached: int = 0,
              thoughts: int = 0) -> dict[str, object]:
    event = {"event.name": "qwen-code.api_response", "model": "gemini-2.5-flash",
             "input_token_count": prompt, "output_token_count": output,
             "cached_content_token_count": cached, "thoughts_token_count": thoughts,
             "total_token_count": prompt + output + thoughts, "response_id": f"r-{line_uuid}"}
    return record("system", line_uuid, subtype="ui_telemetry",
                  systemPayload={"uiEvent": event})


def test_copies_pair_in_either_order_and_a_lone_telemetry_record_counts(write_jsonl):
    path = write_jsonl([
        user("u1"),
        assistant("a1", 100, 10), telemetry("t1", 100, 10),   # reply first, then telemetry
        telemetry("t2", 200, 20, cached=40), assistant("a2", 200, 20, cached=40),
        telemetry("t3", 300, 30),  # a reply that was never saved
        user("u2"),
        assistant("a3", 400, 40),  # no telemetry copy
    ])
    ingested = read_steps([str(path)])
    calls = llm(ingested.steps)
    assert calls.select("source_line", "task_id", "input_tokens", "cache_read_tokens",
                        "output_tokens", "span_id").rows() == [
        (2, "q1/1", 100, 0, 10, "a1"), (5, "q1/1", 160, 40, 20, "a2"),
        (6, "q1/1", 300, 0, 30, "r-t3"), (8, "q1/2", 400, 0, 40, "a3")]
    notes = ingested.accounting.notes
    assert notes[PAIRED].count == 2
    assert notes["Qwen Code usage only in a ui_telemetry api_response (no assistant record): "
                 "counted from there"].examples == [(str(path), 6)]


def test_thinking_tokens_apart_or_inside_the_output(write_jsonl):
    # Apart: total = prompt + output + thoughts. Inside: total = prompt + output (an
    # OpenAI-compatible backend whose completion count holds the reasoning).
    path = write_jsonl([user("u1"),
                        assistant("a1", 1_000, 100, thoughts=300),
                        assistant("a2", 1_000, 400, thoughts=300, total=1_400)])
    steps = read_steps([str(path)]).steps
    assert llm(steps).select("output_tokens", "reasoning_tokens").rows() == [(100, 300),
                                                                              (400, 0)]
    # pricing.yaml gemini-2.5-flash, per 1M: input 0.3, output 2.5 (thoughts at output):
    #   a1: 1,000 x 0.3 + (100 + 300) x 2.5 = 300 + 1,000 = 1,300
    #   a2: 1,000 x 0.3 + 400 x 2.5         = 300 + 1,000 = 1,300   -> $0.0026
    assert round(priced(steps)["llm_cost_usd"].sum(), 10) == 0.0026


def test_a_sub_agent_runs_in_the_prompt_that_started_it(write_jsonl):
    path = write_jsonl([
        user("u1"), assistant("a1", 100, 10),
        user("s1", isSidechain=True, agentName="Explore"),  # the sub-agent's task, no prompt
        assistant("s2", 50, 5, isSidechain=True, agentName="Explore"),
        user("m1", subtype="mid_turn_user_message"),  # steers the running turn
        user("u2"), assistant("a2", 100, 10),
    ])
    calls = llm(read_steps([str(path)]).steps)
    assert calls.select("task_id", "name").rows() == [
        ("q1/1", "main"), ("q1/1", "Explore"), ("q1/2", "main")]


def test_bad_lines_are_named_and_the_lines_around_them_kept(tmp_path):
    lines = [json.dumps(line) for line in [
        user("u1"), assistant("a1", 100, 10),
        record("summary", "x1"),
        assistant("a2", 10, 1, cached=20),
        record("assistant", "x2", usageMetadata={"promptTokenCount": -1,
                                                 "candidatesTokenCount": 1}),
        assistant("a3", 100, 10, model=None),
    ]]
    lines.append("not json")
    lines.append(json.dumps(assistant("a4", 1, 1))[:25])
    path = tmp_path / "q1.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    ingested = read_steps([str(path)])
    assert llm(ingested.steps)["model"].to_list() == ["gemini-2.5-flash", None]
    display = str(path)
    skipped = {reason: tally.examples for reason, tally in ingested.accounting.skipped.items()}
    assert skipped == {
        "Qwen Code record: unknown record type 'summary'": [(display, 3)],
        "Qwen Code record: cached tokens (20) exceed the prompt tokens (10) that include them":
            [(display, 4)],
        "Qwen Code record: usageMetadata.promptTokenCount: -1 is not a token count":
            [(display, 5)],
        "not valid JSON": [(display, 7)],
        TRUNCATED: [(display, 8)],
    }
    # usage without a model: unpriced, never $0
    costs = priced(ingested.steps).filter(pl.col("kind") == "llm")
    assert costs["unpriced_reason"].to_list() == [None, "no model recorded"]
    assert ingested.accounting.notes["Qwen Code usage without a model: unpriced"].count == 1


def test_a_file_that_is_neither(write_jsonl):
    # Claude Code's shape (message.content, no parts): not Qwen Code's.
    claude = write_jsonl([{"type": "user", "uuid": "u", "sessionId": "s",
                           "message": {"role": "user", "content": "hi"}}], name="cc.jsonl")
    assert LABEL not in read_steps([str(claude)]).accounting.formats
    # A native step with Qwen's fields: still a native step.
    native = write_jsonl([{**user("u1"), "task_id": "t", "model": "gpt-4o",
                           "input_tokens": 5}], name="native.jsonl")
    assert read_steps([str(native)]).accounting.formats == {"agentcost JSONL": 1}
    # Qwen's first line, then lines of another log: each named, none a step.
    mixed = write_jsonl([user("u1"), {"type": "event_msg", "payload": {}}, {"x": 1}],
                        name="mixed.jsonl")
    ingested = read_steps([str(mixed)])
    assert ingested.steps.height == 0
    assert {reason: tally.count for reason, tally in ingested.accounting.skipped.items()} == {
        "Qwen Code record: unknown record type 'event_msg'": 1,
        "Qwen Code record: unknown record type (none)": 1}


def test_a_branch_does_not_count_the_records_it_copied(write_jsonl):
    # /branch copies the session's records into a new session, each with forkedFrom.
    source = {"sessionId": "q0", "messageUuid": "x"}
    path = write_jsonl([
        user("u1", forkedFrom=source), assistant("a1", 100, 10, forkedFrom=source),
        telemetry("t1", 100, 10) | {"forkedFrom": source},
        user("u2"), assistant("a2", 200, 20),
    ])
    ingested = read_steps([str(path)])
    assert llm(ingested.steps).select("task_id", "input_tokens").rows() == [("q1/1", 200)]
    assert ingested.accounting.notes[
        "Qwen Code records a branch copied from the session it branched from (forkedFrom): "
        "billed there, not counted again"].count == 3


def test_a_tool_call_without_a_name_is_left_out_its_reply_kept(write_jsonl):
    reply = assistant("a1", 100, 10)
    reply["message"] = {"role": "model", "parts": [{"functionCall": {"args": {"x": 1}}},
                                                   {"functionCall": {"name": "glob"}}]}
    ingested = read_steps([str(write_jsonl([user("u1"), reply]))])
    steps = ingested.steps
    assert llm(steps)["input_tokens"].to_list() == [100]
    assert steps.filter(pl.col("kind") == "tool")["tool_name"].to_list() == ["glob"]
    assert ingested.accounting.notes["Qwen Code functionCall without a name: left out"
                                     ].count == 1
