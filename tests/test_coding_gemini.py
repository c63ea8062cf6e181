"""Gemini CLI sessions, `.jsonl` and legacy `.json`: every real file gives its truth (requests,
every bucket per model, tasks), the rules of the format hold on hand-written sessions, and bad
input is named, counted, and never a traceback or $0."""

from __future__ import annotations

import json

import polars as pl
import pytest

from agentcost.errors import InputError
from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table
from tests.conftest import REAL_TRACES

GEMINI = REAL_TRACES / "gemini"
JSONL = GEMINI / "vct-gemini-0ab84937.jsonl"
LEGACY = GEMINI / "codemie-session-2025-12-01T21-45-5b959dae.json"
LOGS = GEMINI / "codemie-logs-5b959dae.json"
LABEL = "Gemini CLI session"
BUCKETS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
           "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")


def llm(steps: pl.DataFrame) -> pl.DataFrame:
    return steps.filter(pl.col("kind") == "llm")


def by_model(steps: pl.DataFrame) -> dict[str, tuple[int, ...]]:
    rows = llm(steps).group_by("model").agg(pl.len(), *(pl.col(b).sum() for b in BUCKETS))
    return {row[0]: tuple(row[1:]) for row in rows.rows()}


def priced(steps: pl.DataFrame) -> pl.DataFrame:
    return price_steps(steps.lazy(), load_price_table()).collect()


def test_the_jsonl_session_counts_the_last_record_of_each_message():
    # 16 message records are 11 messages; 6 replies with usage. tokens.input includes the
    # cached tokens: flash 162,348 - 48,951 = 113,397 uncached; thoughts apart from output.
    ingested = read_steps([str(JSONL)])
    steps, accounting = ingested.steps, ingested.accounting
    assert by_model(steps) == {
        "gemini-3-flash-preview": (5, 113_397, 48_951, 0, 0, 1_886, 1_689),
        "gemini-3.1-pro-preview": (1, 40_238, 0, 0, 0, 266, 452),
    }
    session = "0ab84937-9fe7-4284-986a-33c832af0b6a"
    assert llm(steps).group_by("task_id", maintain_order=True).len().rows() == [
        (f"{session}/1", 4), (f"{session}/2", 1), (f"{session}/3", 1)]
    assert llm(steps)["source_line"].to_list() == [8, 11, 14, 17, 20, 26]
    tools = dict(steps.filter(pl.col("kind") == "tool").group_by("tool_name").len().rows())
    assert tools == {"read_file": 7, "replace": 1, "update_topic": 3, "write_file": 1}
    assert steps["workflow"].unique().to_list() == ["gemini-cli"]
    assert accounting.notes["Gemini CLI message records written again as they changed: the "
                            "last record of each message counts"].count == 5
    assert (accounting.lines_read, accounting.lines_used, accounting.lines_skipped) == (28, 28, 0)
    assert list(accounting.formats) == [LABEL]


def test_the_jsonl_session_hand_priced():
    # pricing.yaml, per 1M tokens; thoughts are priced as output:
    # gemini-3-flash-preview input 0.5, cache read 0.05, output 3:
    #   113,397 x 0.5 = 56,698.5; 48,951 x 0.05 = 2,447.55; (1,886 + 1,689) x 3 = 10,725
    #   = 69,871.05
    # gemini-3.1-pro-preview input 2, output 12 (a 40,238-token prompt, under its 200k tier):
    #   40,238 x 2 = 80,476; (266 + 452) x 12 = 8,616; = 89,092
    # total 158,963.05 per 1M = $0.15896305
    costs = priced(read_steps([str(JSONL)]).steps)
    assert round(costs["llm_cost_usd"].sum(), 10) == 0.15896305
    # the built-in tools run locally: $0 each, none unpriced
    tools = costs.filter(pl.col("kind") == "tool")
    assert tools["tool_cost_usd"].to_list() == [0.0] * 12


def test_the_legacy_json_session():
    # One ConversationRecord: 11 replies on gemini-3-pro-image-preview, input 101,630 of
    # which 56,538 cached (45,092 uncached), output 2,734, thoughts 1,493. 3 prompts.
    ingested = read_steps([str(LEGACY)])
    steps = ingested.steps
    assert by_model(steps) == {
        "gemini-3-pro-image-preview": (11, 45_092, 56_538, 0, 0, 2_734, 1_493)}
    session = "5b959dae-8655-4cd1-b10f-720b8c336ea2"
    assert llm(steps).group_by("task_id", maintain_order=True).len().rows() == [
        (f"{session}/1", 1), (f"{session}/2", 6), (f"{session}/3", 4)]
    # each message named by the line its id is on
    assert llm(steps)["source_line"].to_list()[:3] == [14, 47, 95]
    assert ingested.accounting.balanced()
    # pricing.yaml gemini-3-pro-image-preview input 2, cache read 0.2, output 12:
    # 45,092 x 2 + 56,538 x 0.2 + (2,734 + 1,493) x 12 = 90,184 + 11,307.6 + 50,724
    # = 152,215.6 per 1M = $0.1522156
    assert round(priced(steps)["llm_cost_usd"].sum(), 10) == 0.1522156


def test_logs_json_adds_no_usage():
    alone = read_steps([str(LOGS)])
    assert alone.steps.height == 0
    assert alone.accounting.formats == {LABEL: 1}
    assert alone.accounting.records_lost == 0
    assert any("logs.json" in what for what in alone.accounting.notes)
    both = read_steps([str(LEGACY), str(LOGS)]).steps
    assert both.equals(read_steps([str(LEGACY)]).steps)


# Hand-written sessions


def metadata(session: str = "s1", **extra: object) -> dict[str, object]:
    return {"sessionId": session, "projectHash": "ab12", "startTime": "2026-03-01T10:00:00Z",
            "lastUpdated": "2026-03-01T10:00:00Z", "kind": "main", **extra}


def user(identity: str, at: str = "10:00:01") -> dict[str, object]:
    return {"id": identity, "timestamp": f"2026-03-01T{at}Z", "type": "user",
            "content": [{"text": "do it"}]}


def reply(identity: str, tokens: object, *, model: str | None = "gemini-2.5-flash",
          at: str = "10:00:02", tools: list[dict[str, object]] | None = None
          ) -> dict[str, object]:
    record: dict[str, object] = {"id": identity, "timestamp": f"2026-03-01T{at}Z",
                                 "type": "gemini", "content": ""}
    if tokens is not None:
        record["tokens"] = tokens
    if model is not None:
        record["model"] = model
    if tools is not None:
        record["toolCalls"] = tools
    return record


def counts(prompt: int, output: int, cached: int = 0, thoughts: int = 0, tool: int = 0
           ) -> dict[str, int]:
    return {"input": prompt, "output": output, "cached": cached, "thoughts": thoughts,
            "tool": tool, "total": prompt + output + thoughts + tool}


def test_a_rewind_drops_messages_that_were_billed_all_the_same(write_jsonl):
    path = write_jsonl([
        metadata(), user("u1"), reply("r1", counts(100, 10)),
        user("u2", "10:01:00"), reply("r2", counts(200, 20, cached=50), at="10:01:05"),
        {"$rewindTo": "u2"},
        user("u3", "10:02:00"), reply("r3", counts(300, 30, tool=7), at="10:02:05"),
    ])
    ingested = read_steps([str(path)])
    calls = llm(ingested.steps)
    # r2 was rewound but billed: it counts, in the prompt it answered
    assert calls.select("task_id", "span_id", "input_tokens", "cache_read_tokens").rows() == [
        ("s1/1", "r1", 100, 0), ("s1/2", "r2", 150, 50), ("s1/3", "r3", 307, 0)]
    assert ingested.accounting.notes["Gemini CLI rewind ($rewindTo): the messages rewound "
                                     "were billed and still count"].count == 1


def test_a_checkpoint_and_metadata_updates(write_jsonl):
    # A `$set` with a messages list rewrites the messages it holds (the last record wins).
    path = write_jsonl([
        metadata(), user("u1"), reply("r1", None),
        {"$set": {"lastUpdated": "2026-03-01T10:00:05Z",
                  "messages": [user("u1"), reply("r1", counts(100, 10, thoughts=5))]}},
    ])
    calls = llm(read_steps([str(path)]).steps)
    assert calls.select("input_tokens", "output_tokens", "reasoning_tokens", "source_line"
                        ).rows() == [(100, 10, 5, 4)]


def test_replies_with_no_counts_all_zero_or_no_model(write_jsonl):
    path = write_jsonl([
        metadata(), user("u1"),
        reply("r1", counts(0, 0), tools=[{"id": "c1", "name": "read_file",
                                            "args": {"file_path": "a.py"}}]),
        reply("r2", None, at="10:00:03"),
        reply("r3", counts(100, 10), model=None, at="10:00:04"),
        reply("r4", {"input": 100, "output": 10, "cached": 0}, at="10:00:05"),
    ])
    ingested = read_steps([str(path)])
    steps, notes = ingested.steps, ingested.accounting.notes
    calls = llm(steps)
    # r1: all counts 0, no request (its tool call still ran); r2: usage unknown; r3: no
    # model; r4: no thoughts count and no total, thinking tokens unknown
    assert calls.select("model", "input_tokens", "reasoning_tokens").rows() == [
        ("gemini-2.5-flash", None, None), (None, 100, 0), ("gemini-2.5-flash", 100, None)]
    assert steps.filter(pl.col("kind") == "tool").select("tool_name", "tool_args").rows() == [
        ("read_file", '{"file_path":"a.py"}')]
    assert notes["Gemini CLI reply whose token counts are all 0: no request"].count == 1
    assert notes["Gemini CLI reply with no token counts: usage unknown, unpriced"].count == 1
    reasons = priced(steps).filter(pl.col("kind") == "llm")["unpriced_reason"].to_list()
    assert reasons == ["no token counts recorded", "no model recorded",
                       "no token counts recorded"]


def test_thoughts_told_from_the_total_when_not_written(write_jsonl):
    # Older builds wrote no thoughts count: the total says how many there were.
    path = write_jsonl([metadata(), user("u1"),
                        reply("r1", {"input": 100, "output": 10, "cached": 0, "total": 150})])
    assert llm(read_steps([str(path)]).steps)["reasoning_tokens"].to_list() == [40]


def test_bad_lines_are_named_and_the_lines_around_them_kept(tmp_path):
    lines = [json.dumps(record) for record in [
        metadata(), user("u1"), reply("r1", counts(100, 10)),
        {"what": "is this"},
        {"id": "x1", "type": "thinking", "timestamp": "2026-03-01T10:00:03Z"},
        reply("r2", counts(10, 1, cached=20), at="10:00:04"),
        reply("r3", {"input": "many", "output": 1}, at="10:00:05"),
        reply("r4", counts(200, 20), at="10:00:06"),
    ]]
    lines.append(json.dumps(reply("r5", counts(1, 1)))[:30])
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    ingested = read_steps([str(path)])
    assert llm(ingested.steps)["input_tokens"].to_list() == [100, 200]
    display = str(path)
    skipped = {reason: tally.examples for reason, tally in ingested.accounting.skipped.items()}
    assert skipped == {
        "Gemini CLI record: neither a message, a metadata record, $set nor $rewindTo":
            [(display, 4)],
        "Gemini CLI record: unknown message type 'thinking'": [(display, 5)],
        "Gemini CLI record: cached tokens (20) exceed the prompt tokens (10) that include "
        "them": [(display, 6)],
        "Gemini CLI record: tokens.input: expected a number, got str": [(display, 7)],
        TRUNCATED: [(display, 9)],
    }
    assert ingested.accounting.balanced()


def test_a_bad_message_in_a_legacy_document_is_unknown_usage(tmp_path):
    document = metadata(messages=[user("u1"), reply("r1", {"input": -5, "output": 1}),
                                  reply("r2", counts(100, 10))])
    path = tmp_path / "session-2026-03-01T10-00-s1.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    ingested = read_steps([str(path)])
    assert llm(ingested.steps)["input_tokens"].to_list() == [None, 100]
    notes = ingested.accounting.notes
    assert any(what.startswith("Gemini CLI message not read whole: tokens.input") for what in
               notes)


def test_a_file_that_is_neither(write_jsonl):
    # Records with an id and a type but none of Gemini's: not taken for a session.
    other = write_jsonl([{"id": "m1", "type": "note", "uuid": "u", "timestamp": "t",
                          "content": "x"}], name="other.jsonl")
    assert read_steps([str(other)]).accounting.formats == {"agentcost JSONL": 1}
    # A native step that happens to have an id and the type "gemini": still a native step.
    native = write_jsonl([{"task_id": "t", "id": "m1", "type": "gemini", "model": "gpt-4o",
                           "input_tokens": 5}], name="native.jsonl")
    assert read_steps([str(native)]).accounting.formats == {"agentcost JSONL": 1}
    # A session's first line, then another log's lines: each is named, none is a step.
    mixed = write_jsonl([metadata(), {"type": "assistant", "uuid": "u", "message": {}},
                         {"id": 7, "type": "gemini"}], name="mixed.jsonl")
    ingested = read_steps([str(mixed)])
    assert ingested.steps.height == 0
    assert ingested.accounting.skipped[
        "Gemini CLI record: neither a message, a metadata record, $set nor $rewindTo"
    ].count == 2


def test_a_document_with_no_messages_is_refused_by_name(tmp_path):
    document = {"sessionId": "s", "projectHash": "h", "messages": "none"}
    path = tmp_path / "session.json"
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(InputError, match="not a Gemini CLI session"):
        read_steps([str(path)])
    # on one line, it is a bad line among others
    path.write_text(json.dumps(document))
    assert read_steps([str(path)]).accounting.skipped[
        "Gemini CLI record: messages is not a list"].count == 1


# Sub-agents and the project folder

PARENT = "aaaaaaaa-1111-4111-8111-111111111111"
CHILD = "agent-7"


def write_session(path, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")


def test_a_sub_agent_adds_to_the_prompt_that_spawned_it(tmp_path):
    project = tmp_path / "tmp" / "myproject"
    (project).mkdir(parents=True)
    (project / ".project_root").write_text("/home/me/myproject\n")
    chats = project / "chats"
    parent = chats / f"session-2026-03-01T10-00-{PARENT[:8]}.jsonl"
    write_session(parent, [
        metadata(PARENT), user("u1", "10:00:00"), reply("r1", counts(100, 10), at="10:00:02"),
        user("u2", "10:05:00"),
        reply("r2", counts(200, 20), at="10:05:02",
              tools=[{"id": "c1", "name": "codebase_investigator", "args": {},
                      "agentId": CHILD}]),
    ])
    child = chats / PARENT / f"{CHILD}.jsonl"
    write_session(child, [
        metadata(CHILD, kind="subagent"), user("s-u1", "10:05:03"),
        reply("s-r1", counts(50, 5), at="10:05:04"), reply("s-r2", counts(60, 6), at="10:05:06"),
    ])
    steps = read_steps([str(parent), str(child)]).steps
    calls = llm(steps)
    assert calls.select("task_id", "name", "input_tokens").rows() == [
        (f"{PARENT}/1", "main", 100), (f"{PARENT}/2", "main", 200),
        (f"{PARENT}/2", "codebase_investigator", 50), (f"{PARENT}/2", "codebase_investigator", 60)]
    assert steps["project"].unique().to_list() == ["/home/me/myproject"]
    assert steps["session_id"].unique().to_list() == [PARENT]


def test_a_sub_agent_without_its_parent_file_is_a_task_of_its_own(tmp_path):
    child = tmp_path / "chats" / PARENT / f"{CHILD}.jsonl"
    write_session(child, [metadata(CHILD, kind="subagent"), user("s-u1"),
                          reply("s-r1", counts(50, 5))])
    ingested = read_steps([str(child)])
    assert ingested.steps["task_id"].unique().to_list() == [f"{PARENT}/{CHILD}"]
    assert any("parent session's file" in what for what in ingested.accounting.notes)


def test_a_resumed_legacy_session_is_counted_once(tmp_path):
    # Resuming a legacy session-x.json writes all its messages again into session-x.jsonl
    # beside it, and leaves the .json there: read together, each reply counts once.
    legacy = [user("u1"), reply("r1", counts(100, 10)), reply("r2", counts(200, 20))]
    old = tmp_path / "chats" / "session-2026-03-01T10-00-s1.json"
    old.parent.mkdir()
    old.write_text(json.dumps(metadata(messages=legacy), indent=2), encoding="utf-8")
    new = old.with_suffix(".jsonl")
    write_session(new, [metadata(), *legacy, user("u2", "10:05:00"),
                        reply("r3", counts(300, 30), at="10:05:01")])

    def inputs(*paths: object) -> list[int]:
        steps = read_steps([str(path) for path in paths]).steps
        return sorted(llm(steps)["input_tokens"].to_list())

    assert inputs(old.parent) == [100, 200, 300]
    assert inputs(new, old) == [100, 200, 300]
    assert inputs(new) == [100, 200, 300]
    assert inputs(old) == [100, 200]
    notes = read_steps([str(old.parent)]).accounting.notes
    assert notes["Gemini CLI messages already counted from session-2026-03-01T10-00-s1.json "
                 "(the same session, in its legacy and current files)"].count == 2
