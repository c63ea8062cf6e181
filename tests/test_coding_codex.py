"""Codex CLI rollouts: every real file gives its truth (requests, every bucket, tasks), the
rules of the format hold on hand-written rollouts, and bad input is named, counted, and never
a traceback or $0."""

from __future__ import annotations

import json

import polars as pl

from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table
from tests.conftest import REAL_TRACES

CODEX = REAL_TRACES / "codex"
LABEL = "Codex CLI session log"
REPEAT = "Codex CLI token_count repeating the one before it"


def llm(steps: pl.DataFrame) -> pl.DataFrame:
    return steps.filter(pl.col("kind") == "llm")


def buckets(steps: pl.DataFrame) -> tuple[int, ...]:
    calls = llm(steps)
    return (calls.height, *(calls[column].sum() for column in (
        "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
        "output_tokens", "reasoning_tokens")))


def priced(steps: pl.DataFrame) -> pl.DataFrame:
    return price_steps(steps.lazy(), load_price_table()).collect()


def test_rollout_small_counts_each_request_once():
    # 12 token_count events: 1 with info null, 5 repeating the one before (same running
    # total), 6 requests. last_token_usage input 298,373 holds the 238,848 cached: 59,525
    # uncached. Output 1,123 holds the 483 reasoning tokens: nothing billed apart.
    ingested = read_steps([str(CODEX / "rollout-small.jsonl")])
    steps, accounting = ingested.steps, ingested.accounting
    assert buckets(steps) == (6, 59_525, 238_848, 0, 0, 1_123, 0)
    assert llm(steps)["model"].unique().to_list() == ["gpt-5.3-codex"]
    assert steps["task_id"].unique().to_list() == ["019c8bfe-ec25-79e0-97d7-bda6a9c575ff/1"]
    assert steps["workflow"].unique().to_list() == ["codex"]
    assert steps["project"].unique().to_list() == ["/redacted/path/ea96e59ed9"]
    assert steps["git_branch"].unique().to_list() == ["main"]
    assert llm(steps)["source_line"].to_list() == [18, 27, 36, 45, 54, 62]
    assert steps.filter(pl.col("kind") == "tool").height == 5
    repeats = accounting.skipped[REPEAT]
    assert repeats.count == 5
    assert repeats.examples[0] == (str(CODEX / "rollout-small.jsonl"), 21)
    assert repeats.earlier[0] == (str(CODEX / "rollout-small.jsonl"), 18)
    assert accounting.lines_repeated == 5 and accounting.records_lost == 0
    assert accounting.notes["Codex CLI token_count with no usage (info: null), nothing billed"
                            ].count == 1
    assert (accounting.lines_read, accounting.lines_used) == (63, 58)
    assert accounting.balanced()
    assert list(accounting.formats) == [LABEL]
    # the requests counted add up to the last running total: nothing to say about it
    assert not any("add up" in what for what in accounting.notes)


def test_rollout_small_hand_priced():
    # pricing.yaml gpt-5.3-codex, per 1M: input 1.75, cache read 0.175, output 14.
    #   59,525 x 1.75  = 104,168.75
    #  238,848 x 0.175 =  41,798.4
    #    1,123 x 14    =  15,722
    #  total 161,689.15 per 1M = $0.16168915
    costs = priced(read_steps([str(CODEX / "rollout-small.jsonl")]).steps)
    assert round(costs["llm_cost_usd"].sum(), 10) == 0.16168915
    assert costs.filter(pl.col("kind") == "llm")["unpriced_reason"].null_count() == 6


def test_a_tui_rollout_with_no_repeats():
    # codex-tui 0.125.0: 66 requests on gpt-5.5, input 6,055,836 of which 4,929,536 cached
    # (1,126,300 uncached), output 9,118 (1,759 reasoning inside). Two turns: 3 and 63
    # requests. Three web searches, priced as OpenAI's web search tool.
    ingested = read_steps([str(CODEX / "codemie-0.125-norepeats-019e1625.jsonl")])
    steps = ingested.steps
    assert buckets(steps) == (66, 1_126_300, 4_929_536, 0, 0, 9_118, 0)
    session = "019e1625-789d-76c0-80ab-3724b5ddb799"
    per_task = llm(steps).group_by("task_id").len().sort("task_id").rows()
    assert per_task == [(f"{session}/1", 3), (f"{session}/2", 63)]
    tools = dict(steps.filter(pl.col("kind") == "tool").group_by("tool_name").len().rows())
    assert tools == {"exec_command": 43, "write_stdin": 54, "apply_patch": 3,
                     "update_plan": 2, "openai_web_search": 3}
    assert ingested.accounting.lines_skipped == 0
    # pricing.yaml gpt-5.5, per 1M: input 5, cache read 0.5, output 30 (no prompt passes
    # the 272k long-context threshold; the largest is 131,573):
    #   1,126,300 x 5   = 5,631,500
    #   4,929,536 x 0.5 = 2,464,768
    #       9,118 x 30  =   273,540   -> $8.369808; web searches 3 x $0.01 = $0.03
    costs = priced(steps)
    assert round(costs["llm_cost_usd"].sum(), 9) == 8.369808
    assert round(costs["tool_cost_usd"].sum(), 9) == 0.03
    assert costs.filter(pl.col("kind") == "tool")["tool_cost_usd"].null_count() == 0


def test_the_model_changes_with_the_event_own_model():
    # ccusage's fixture: turn_context says gpt-5.2-codex; the second event names gpt-5.3-codex.
    steps = read_steps([str(CODEX / "ccusage-minimal.jsonl")]).steps
    assert llm(steps)["model"].to_list() == ["gpt-5.2-codex", "gpt-5.3-codex"]
    # 1,000 - 250 and 2,500 - 500 uncached; cached 250 + 500; output 125 + 300
    assert buckets(steps) == (2, 2_750, 750, 0, 0, 425, 0)


def test_a_rollout_with_no_usage_is_unknown_never_zero():
    # Codex Desktop, no turn_context and no token_count: 3 prompts (user messages, no turn
    # events), 38 function calls. Each prompt gets one request of unknown usage and model.
    path = str(CODEX / "codemie-desktop-nousage-019e1695.jsonl")
    ingested = read_steps([path])
    steps = ingested.steps
    calls = llm(steps)
    assert calls.height == 3
    for column in ("model", "input_tokens", "cache_read_tokens", "output_tokens",
                   "reasoning_tokens"):
        assert calls[column].null_count() == 3
    assert calls["name"].unique().to_list() == ["no usage data"]
    assert steps["task_id"].n_unique() == 3
    assert steps.filter(pl.col("kind") == "tool").height == 38
    notes = ingested.accounting.notes
    assert notes["no usage data: Codex CLI rollout with no token counts; its usage is unknown "
                 "and its prompts unpriced"].count == 3
    costs = priced(steps).filter(pl.col("kind") == "llm")
    assert costs["llm_cost_usd"].null_count() == 3
    assert costs["unpriced_reason"].unique().to_list() == [
        "no model and no token counts recorded"]


def test_tasks_by_session():
    steps = read_steps([str(CODEX / "codemie-0.125-norepeats-019e1625.jsonl")],
                       task_key="session").steps
    assert steps["task_id"].unique().to_list() == ["019e1625-789d-76c0-80ab-3724b5ddb799"]


# Hand-written rollouts


def meta(session: str = "s1", **extra: object) -> dict[str, object]:
    return {"timestamp": "2026-03-01T10:00:00Z", "type": "session_meta",
            "payload": {"id": session, "cwd": "/repo", **extra}}


def turn(model: str = "gpt-5.2-codex", turn_id: str = "t1", at: str = "10:00:01"
         ) -> dict[str, object]:
    return {"timestamp": f"2026-03-01T{at}Z", "type": "turn_context",
            "payload": {"turn_id": turn_id, "model": model, "cwd": "/repo"}}


def event(kind: str, at: str = "10:00:02", **payload: object) -> dict[str, object]:
    return {"timestamp": f"2026-03-01T{at}Z", "type": "event_msg",
            "payload": {"type": kind, **payload}}


def usage(prompt: int, cached: int, output: int, reasoning: int = 0) -> dict[str, int]:
    return {"input_tokens": prompt, "cached_input_tokens": cached, "output_tokens": output,
            "reasoning_output_tokens": reasoning, "total_tokens": prompt + output}


def tokens(last: dict[str, int] | None, total: dict[str, int] | None, at: str = "10:00:03",
           **info: object) -> dict[str, object]:
    body: dict[str, object] = dict(info)
    if last is not None:
        body["last_token_usage"] = last
    if total is not None:
        body["total_token_usage"] = total
    return event("token_count", at, info=body)


def test_a_user_message_during_a_turn_steers_it(write_jsonl):
    path = write_jsonl([
        meta(), turn(),
        event("user_message", message="first"),  # outside a turn, then its turn starts
        event("task_started", turn_id="t1"),
        tokens(usage(100, 0, 10), usage(100, 0, 10)),
        event("user_message", message="and also this"),  # steers the running turn
        tokens(usage(120, 100, 5), usage(220, 100, 15)),
        event("task_complete", turn_id="t1"),
        event("task_started", turn_id="t2"),
        event("user_message", message="second"),
        tokens(usage(150, 120, 7), usage(370, 220, 22)),
        event("task_complete", turn_id="t2"),
    ], name="rollout-2026-03-01T10-00-00-s1.jsonl")
    steps = read_steps([str(path)]).steps
    assert steps["task_id"].to_list() == ["s1/1", "s1/1", "s1/2"]


def test_usage_without_a_model_is_unpriced(write_jsonl):
    # A token_count before any turn_context, with no info.model: its model is unknown.
    path = write_jsonl([meta(), tokens(usage(100, 0, 10), usage(100, 0, 10)),
                        turn(), tokens(usage(200, 100, 10), usage(300, 100, 20))])
    ingested = read_steps([str(path)])
    assert llm(ingested.steps)["model"].to_list() == [None, "gpt-5.2-codex"]
    note = ingested.accounting.notes[
        "Codex CLI usage without a model (no turn_context before it): unpriced"]
    assert (note.count, note.examples) == (1, [(str(path), 2)])
    costs = priced(ingested.steps).filter(pl.col("kind") == "llm")
    assert costs["unpriced_reason"].to_list() == ["no model recorded", None]
    # the priced one: 100 uncached x 1.75 + 100 cached x 0.175 + 10 x 14 = 332.5 per 1M
    assert round(costs["llm_cost_usd"].drop_nulls().sum(), 10) == 0.0003325


def test_a_missing_last_token_usage_is_the_change_in_the_running_total(write_jsonl):
    path = write_jsonl([meta(), turn(), tokens(None, usage(100, 0, 10)),
                        tokens(None, usage(300, 80, 25))])
    ingested = read_steps([str(path)])
    calls = llm(ingested.steps)
    # 100 - 0 and (300 - 100) - 80 uncached; cached 0 and 80; output 10 and 15
    assert calls["input_tokens"].to_list() == [100, 120]
    assert calls["cache_read_tokens"].to_list() == [0, 80]
    assert calls["output_tokens"].to_list() == [10, 15]
    assert ingested.accounting.notes[
        "Codex CLI token_count without last_token_usage: the request's usage is the change "
        "in the running total"].count == 2


def test_requests_that_do_not_add_up_to_the_running_total_are_noted(write_jsonl):
    # The running total jumps by more than the last request: an event was lost between them.
    path = write_jsonl([meta(), turn(), tokens(usage(100, 0, 10), usage(100, 0, 10)),
                        tokens(usage(200, 0, 20), usage(500, 0, 50))])
    ingested = read_steps([str(path)])
    assert llm(ingested.steps)["input_tokens"].to_list() == [100, 200]
    note = ingested.accounting.notes[
        "Codex CLI requests counted (input 300, output 30) do not add up to the rollout's "
        "running total (input 500, output 50): events lost, or the total restarted"]
    assert note.examples == [(str(path), 4)]


def test_bad_lines_are_named_and_the_lines_around_them_kept(write_jsonl, tmp_path):
    lines = [json.dumps(record) for record in [
        meta(), turn(), tokens(usage(100, 0, 10), usage(100, 0, 10)),
        {"timestamp": "2026-03-01T10:00:04Z", "type": "mystery_record", "payload": {}},
        {"type": "\x1b[31mred", "payload": {}},
        tokens(usage(50, 80, 1), usage(150, 80, 11)),  # cached above the input it is in
        tokens(usage(200, 100, 20), usage(300, 100, 30)),
        [1, 2],
    ]]
    lines.append(json.dumps(tokens(usage(1, 0, 1), usage(301, 100, 31)))[:40])  # cut off
    path = tmp_path / "rollout.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    ingested = read_steps([str(path)])
    assert buckets(ingested.steps) == (2, 200, 100, 0, 0, 30, 0)
    skipped = {reason: tally.examples for reason, tally in ingested.accounting.skipped.items()}
    display = str(path)
    assert skipped == {
        "Codex CLI record: unknown record type 'mystery_record'": [(display, 4)],
        "Codex CLI record: unknown record type (not a name)": [(display, 5)],
        "Codex CLI record: cached_input_tokens (80) exceed input_tokens (50) that include "
        "them": [(display, 6)],
        "Codex CLI record: not a JSON object": [(display, 8)],
        TRUNCATED: [(display, 9)],
    }
    assert ingested.accounting.balanced()


def test_a_file_that_is_neither_is_not_taken_for_a_rollout(write_jsonl):
    # Records with a type and a payload, but a task id: native steps, not a rollout.
    native = write_jsonl([{"task_id": "t", "type": "event_msg", "payload": {},
                           "model": "gpt-4o", "input_tokens": 5}], name="steps.jsonl")
    assert read_steps([str(native)]).accounting.formats == {"agentcost JSONL": 1}
    # A type that is a list (no record type at all): named, never a traceback.
    odd = write_jsonl([{"type": ["event_msg"], "payload": {}}], name="odd.jsonl")
    assert read_steps([str(odd)]).accounting.skipped["missing task_id"].count == 1
    # A rollout's first line, then lines of another log: each is named, none is a step.
    mixed = write_jsonl([meta(), {"type": "assistant", "message": {"usage": {}}},
                         {"sessionId": "x", "payload": "y"}, {"type": "event_msg"}],
                        name="mixed.jsonl")
    ingested = read_steps([str(mixed)])
    assert ingested.steps.height == 0
    assert {reason: tally.count for reason, tally in ingested.accounting.skipped.items()} == {
        "Codex CLI record: unknown record type 'assistant'": 1,
        "Codex CLI record: unknown record type (none)": 1,
        "Codex CLI record: event_msg without a payload object": 1}


def test_tool_calls_are_steps_with_their_arguments(write_jsonl):
    path = write_jsonl([
        meta(), turn(), event("task_started", turn_id="t1"),
        {"timestamp": "2026-03-01T10:00:02Z", "type": "response_item",
         "payload": {"type": "function_call", "name": "exec_command",
                     "arguments": "{\"workdir\": \"/repo\", \"cmd\": \"ls\"}", "call_id": "c1"}},
        {"timestamp": "2026-03-01T10:00:02Z", "type": "response_item",
         "payload": {"type": "function_call", "name": "js", "namespace": "mcp__node_repl__",
                     "arguments": "{}", "call_id": "c2"}},
        {"timestamp": "2026-03-01T10:00:02Z", "type": "response_item",
         "payload": {"type": "custom_tool_call", "name": "apply_patch",
                     "input": "*** Begin Patch", "call_id": "c3"}},
        {"timestamp": "2026-03-01T10:00:02Z", "type": "response_item",
         "payload": {"type": "web_search_call", "action": {"type": "search", "query": "q"}}},
        tokens(usage(100, 0, 10), usage(100, 0, 10)),
    ])
    tools = read_steps([str(path)]).steps.filter(pl.col("kind") == "tool")
    assert tools.select("tool_name", "tool_args", "span_id").rows() == [
        ("exec_command", '{"cmd":"ls","workdir":"/repo"}', "c1"),
        ("mcp__node_repl__js", "{}", "c2"),
        ("apply_patch", '"*** Begin Patch"', "c3"),
        ("openai_web_search", '{"query":"q","type":"search"}', None)]
    costs = priced(read_steps([str(path)]).steps).filter(pl.col("kind") == "tool")
    # exec_command and apply_patch run locally ($0); the MCP tool is not in the table;
    # a web search is $10 per 1k.
    assert costs["tool_cost_usd"].to_list() == [0.0, None, 0.0, 0.01]


# Forks and sub-agents: a rollout that replays its parent's records first.

PARENT = "019c0000-0000-7000-8000-000000000001"  # UUID v7 ids: their first 48 bits are ms
CHILD = "019c0000-1000-7000-8000-000000000002"
OLD_TURN = "019c0000-0500-7000-8000-000000000003"  # made before the child
OWN_TURN = "019c0000-2000-7000-8000-000000000004"  # made after it


def child_rollout() -> list[dict[str, object]]:
    spawn = {"subagent": {"thread_spawn": {"parent_thread_id": PARENT, "depth": 1,
                                           "agent_role": "explorer"}}}
    return [
        meta(CHILD, forked_from_id=PARENT, source=spawn),
        meta(PARENT),  # the parent's records, replayed
        event("user_message", message="parent prompt, copied"),
        turn("gpt-5.5", OLD_TURN),
        tokens(usage(1_000, 400, 100), usage(1_000, 400, 100)),
        turn("gpt-5.5", OWN_TURN, at="10:05:00"),  # the child's own turn
        tokens(usage(1_000, 400, 100), usage(1_000, 400, 100), at="10:05:01"),  # replayed
        tokens(usage(250, 50, 20), usage(1_250, 450, 120), at="10:05:02"),
    ]


def parent_rollout() -> list[dict[str, object]]:
    return [meta(PARENT), turn("gpt-5.5", OLD_TURN),
            event("task_started", at="10:00:00", turn_id="p1"),
            tokens(usage(1_000, 400, 100), usage(1_000, 400, 100), at="10:00:05"),
            event("task_complete", at="10:01:00", turn_id="p1"),
            event("task_started", at="10:04:00", turn_id="p2"),
            event("task_complete", at="10:09:00", turn_id="p2")]


def test_a_sub_agent_counts_only_its_own_requests_in_the_prompt_that_spawned_it(
        write_jsonl, tmp_path):
    # The parent's rollout in the same day folder: its second prompt (10:04) was running
    # when the sub-agent's first request came (10:05:02).
    day = tmp_path / "2026" / "03" / "01"
    day.mkdir(parents=True)
    parent = day / f"rollout-2026-03-01T10-00-00-{PARENT}.jsonl"
    parent.write_text("\n".join(json.dumps(r) for r in parent_rollout()) + "\n")
    child = day / f"rollout-2026-03-01T10-04-30-{CHILD}.jsonl"
    child.write_text("\n".join(json.dumps(r) for r in child_rollout()) + "\n")
    ingested = read_steps([str(child)])
    steps = ingested.steps
    # 250 - 50 uncached, 50 cached, 20 output; the replayed 1,000 / 400 / 100 not again
    assert buckets(steps) == (1, 200, 50, 0, 0, 20, 0)
    assert steps.select("task_id", "session_id", "name").rows() == [
        (f"{PARENT}/2", PARENT, "explorer")]
    assert ingested.accounting.notes[
        "Codex CLI forked rollout: records replayed from the parent session, billed there, "
        "not counted again"].count == 5
    both = read_steps([str(parent), str(child)]).steps
    assert buckets(both) == (2, 800, 450, 0, 0, 120, 0)
    assert sorted(both["task_id"].to_list()) == [f"{PARENT}/1", f"{PARENT}/2"]


def test_a_sub_agent_whose_parent_is_not_found_is_a_task_of_its_own(tmp_path):
    child = tmp_path / f"rollout-2026-03-01T10-04-30-{CHILD}.jsonl"
    child.write_text("\n".join(json.dumps(r) for r in child_rollout()) + "\n")
    ingested = read_steps([str(child)])
    assert ingested.steps["task_id"].to_list() == [f"{PARENT}/{CHILD}"]
    assert any("parent session's rollout" in what for what in ingested.accounting.notes)
    assert read_steps([str(child)], task_key="session").steps["task_id"].to_list() == [PARENT]


def test_repeats_in_the_real_rollout_match_its_running_total():
    # After the repeats and the null are left out, the requests add up to the last running
    # total: input 298,373 = uncached + cached.
    steps = read_steps([str(CODEX / "rollout-small.jsonl")]).steps
    calls = llm(steps)
    assert calls["input_tokens"].sum() + calls["cache_read_tokens"].sum() == 298_373


def test_the_reader_is_named_in_the_report(run_cli):
    result = run_cli("report", str(CODEX / "rollout-small.jsonl"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["lines"]["formats"] == {LABEL: 1}
    assert document["summary"]["tokens"]["input"] == 59_525
