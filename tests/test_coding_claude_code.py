"""Claude Code session logs: every real file gives its truth (shared/traces/real/README.md),
and each rule of trace-formats.md 5 and 5.1 holds on lines written to show it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from agentcost import api
from agentcost.errors import InputError
from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.coding import claude_parse
from agentcost.ingest.read import read_steps
from tests.conftest import REAL_TRACES

CLAUDE = REAL_TRACES / "claude-code"
BUCKETS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
           "cache_write_1h_tokens")


def llm_totals(steps: pl.DataFrame, **where: str) -> dict[str, Any]:
    llm = steps.filter(pl.col("kind") == "llm")
    for column, value in where.items():
        llm = llm.filter(pl.col(column).cast(pl.String) == value)
    return {"requests": llm.height, **{bucket: llm[bucket].sum() for bucket in BUCKETS}}


def tasks(steps: pl.DataFrame) -> int:
    return steps["task_id"].n_unique()


# -- the real files ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "truth", "task_count"), [
    # 5 assistant lines are one API response.
    ("short-session.jsonl", {"requests": 1, "input_tokens": 3, "output_tokens": 13,
                             "cache_read_tokens": 11_515, "cache_write_5m_tokens": 0,
                             "cache_write_1h_tokens": 13_835}, 1),
    # 4 responses, the largest usage of each kept. Its prompts are lines 4 and 26 (line 18
    # and 39 are interruptions, 20-22 the /mcp command): 2 tasks.
    ("tool-heavy-session.jsonl", {"requests": 4, "input_tokens": 54, "output_tokens": 212,
                                  "cache_read_tokens": 88_231, "cache_write_5m_tokens": 0,
                                  "cache_write_1h_tokens": 17_696}, 2),
    # Bedrock, no requestId: 172 lines are 67 responses by message.id alone; 1,180,621 written
    # with an explicit ephemeral_5m and 526,412 on lines without cache_creation (5m too).
    ("codemie-bedrock-noreqid-3fe1b6bc.jsonl",
     {"requests": 67, "input_tokens": 15_377, "output_tokens": 34_781,
      "cache_read_tokens": 5_157_884, "cache_write_5m_tokens": 1_707_033,
      "cache_write_1h_tokens": 0}, 8),
    # 16 summary lines, no usage; 12 assistant lines are 5 responses.
    ("codemie-summaries-9eda1058.jsonl",
     {"requests": 5, "input_tokens": 47, "output_tokens": 4_509, "cache_read_tokens": 22_912,
      "cache_write_5m_tokens": 147_267, "cache_write_1h_tokens": 0}, 3),
])
def test_a_real_session_gives_its_truth(name, truth, task_count):
    ingested = read_steps([str(CLAUDE / name)])
    assert llm_totals(ingested.steps) == truth
    assert tasks(ingested.steps) == task_count
    assert ingested.accounting.balanced()
    assert not ingested.accounting.skipped


def test_the_short_session_is_priced_by_hand():
    """claude-opus-4-6 (pricing.yaml): input 5, output 25, cache read 0.5, 1-hour write 10 per
    1M tokens. 3 x 5 + 13 x 25 + 11,515 x 0.5 + 13,835 x 10 = 15 + 325 + 5,757.5 + 138,350
    = 144,447.5 per 1M = $0.1444475. Its Bash and Glob calls run locally: $0."""
    summary = api.report([str(CLAUDE / "short-session.jsonl")]).summary
    assert summary.llm_cost_usd == pytest.approx(0.1444475, abs=1e-12)
    assert (summary.tool_calls, summary.tool_cost_usd, summary.total_cost_usd) == (
        2, 0.0, pytest.approx(0.1444475, abs=1e-12))
    assert (summary.unpriced_steps, summary.unpriced_tool_calls) == (0, 0)


def test_the_subagents_layout_gives_its_truth():
    """2.1.x: the sub-agent's own file under <session>/subagents/; all of it belongs to the
    session's one prompt, and its steps are named after its type (the Task call's
    subagent_type)."""
    steps = read_steps([str(CLAUDE / "codemie-subagents-dir")]).steps
    assert llm_totals(steps, name="main") == {
        "requests": 11, "input_tokens": 537, "output_tokens": 10_099,
        "cache_read_tokens": 223_343, "cache_write_5m_tokens": 157_962,
        "cache_write_1h_tokens": 0}
    assert llm_totals(steps, name="solution-architect") == {
        "requests": 6, "input_tokens": 5_233, "output_tokens": 1_845,
        "cache_read_tokens": 91_980, "cache_write_5m_tokens": 115_531,
        "cache_write_1h_tokens": 0}
    assert steps["task_id"].unique().to_list() == ["e9fb405b-169f-40eb-9396-7e75076f045d/1"]
    assert llm_totals(steps)["requests"] == 17


def test_the_schema_coverage_file_parses_and_gives_its_responses():
    """Not a token truth: no traceback, and its 3 responses with usage are claude-opus-5
    (10 in, 5 out), claude-opus-4-8 (0: five lines share one trimmed id and request id) and
    `<synthetic>` (no billed call)."""
    ingested = read_steps([str(CLAUDE / "agentsessions-schema-coverage-TRIMMED.jsonl")])
    llm = ingested.steps.filter(pl.col("kind") == "llm").sort("model")
    assert llm.select("model", "input_tokens", "output_tokens").rows() == [
        ("claude-opus-4-8", 0, 0), ("claude-opus-5", 10, 5)]
    accounting = ingested.accounting
    assert accounting.balanced() and not accounting.skipped
    assert accounting.notes["API error or <synthetic> message written by Claude Code: no "
                            "billed call"].count == 1


def test_ccusage_minimal_reports_its_costs_beside_ours():
    """3 responses, 2 models, costUSD 0.12 + 0.34 + 0.56 kept as the reported cost. The second
    is fast mode on claude-opus-4 (`speed: "fast"`), which the table lists no fast price for:
    unpriced, not priced at the standard speed."""
    report = api.report([str(CLAUDE / "ccusage-minimal.jsonl")])
    steps = read_steps([str(CLAUDE / "ccusage-minimal.jsonl")]).steps
    assert steps["model"].cast(pl.String).to_list() == [
        "claude-sonnet-4-20250514", "claude-opus-4-20250514", "claude-sonnet-4-20250514"]
    assert steps["service_tier"].cast(pl.String).to_list() == [None, "fast", None]
    assert steps["reported_cost_usd"].to_list() == [0.12, 0.34, 0.56]
    assert report.summary.unpriced_steps == 1
    # claude-sonnet-4: (100 x 3 + 50 x 15 + 10 x 0.3 + 25 x 3.75) + (300 x 3 + 125 x 15
    # + 40 x 0.3) = 1,146.75 + 2,787 = 3,933.75 per 1M.
    assert report.summary.llm_cost_usd == pytest.approx(0.00393375, abs=1e-12)


def test_usage_without_a_model_is_unpriced_not_free():
    report = api.report([str(CLAUDE / "ccusage-no-model.jsonl")])
    assert report.summary.llm_steps == 2
    assert report.summary.unpriced_steps == 2
    assert report.summary.llm_cost_usd == 0.0  # the priced part: nothing is priced
    assert report.summary.input_tokens == 3000  # counted all the same


# -- rules, on lines written to show them ------------------------------------------------------

def line(kind: str, **fields: Any) -> dict[str, Any]:
    record = {"type": kind, "sessionId": "s1", "cwd": "/work/app", "gitBranch": "main",
              "isSidechain": False, "timestamp": "2026-11-02T10:00:00.000Z"}
    record.update(fields)
    return record


def prompt(text: str, at: str, uuid: str) -> dict[str, Any]:
    return line("user", uuid=uuid, timestamp=at, message={"role": "user", "content": text})


def response(message_id: str, at: str, *, model: str = "claude-sonnet-4-5",
             request: str | None = "req", content: list[Any] | None = None,
             **usage: Any) -> dict[str, Any]:
    tokens = {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 0,
              "cache_creation_input_tokens": 0, **usage}
    record = line("assistant", timestamp=at, message={
        "id": message_id, "model": model, "role": "assistant",
        "content": content or [{"type": "text", "text": "ok"}], "usage": tokens})
    if request is not None:
        record["requestId"] = f"{request}-{message_id}"
    return record


def write(path: Path, records: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def test_streamed_lines_keep_the_largest_usage(tmp_path):
    """One response written as three lines, the first two with a partial output."""
    log = write(tmp_path / "s1.jsonl", [
        prompt("fix it", "2026-11-02T10:00:00Z", "u1"),
        response("m1", "2026-11-02T10:00:01Z", output_tokens=1),
        response("m1", "2026-11-02T10:00:02Z", output_tokens=7),
        response("m1", "2026-11-02T10:00:03Z", output_tokens=250),
        response("m1", "2026-11-02T10:00:04Z", output_tokens=3),  # a late partial, smaller
    ])
    ingested = read_steps([str(log)])
    assert llm_totals(ingested.steps)["output_tokens"] == 250
    assert ingested.accounting.lines_used == 5
    assert ingested.accounting.notes[
        "assistant line repeating a response already counted (a line per content block, a "
        "resumed session's copy, a sub-agent's replay): counted once, with its largest "
        "usage"].count == 3


def test_lines_folded_in_every_batch_are_all_counted_and_the_first_named(monkeypatch, tmp_path):
    """Two files, a batch each: a response streamed as 8 lines (7 folded into the largest),
    then one as 4 (3 folded); in the second file, 6 lines (5 folded). 15 folded lines in all;
    the note names the first file's first folded lines: its lines 1, 2, 3, 4, 5 (line 6,
    with 60 output tokens, is the one kept; each later, smaller line is folded too)."""
    def streamed(message_id: str, outputs: list[int]) -> list[dict[str, Any]]:
        return [response(message_id, f"2026-11-02T10:00:{second:02d}Z", output_tokens=tokens)
                for second, tokens in enumerate(outputs)]

    write(tmp_path / "p" / "s1.jsonl", [*streamed("m1", [1, 2, 3, 4, 5, 60, 6, 7]),
                                        *streamed("m2", [1, 2, 30, 3])])
    write(tmp_path / "p" / "s2.jsonl", streamed("m3", [1, 2, 3, 4, 5, 90]))
    monkeypatch.setattr(claude_parse, "BATCH_BYTES", 1)
    ingested = read_steps([str(tmp_path / "p")])
    assert llm_totals(ingested.steps)["output_tokens"] == 60 + 30 + 90
    note = ingested.accounting.notes[
        "assistant line repeating a response already counted (a line per content block, a "
        "resumed session's copy, a sub-agent's replay): counted once, with its largest "
        "usage"]
    assert note.count == 7 + 3 + 5
    assert [line for _, line in note.examples] == [1, 2, 3, 4, 5]
    assert {Path(file).name for file, _ in note.examples} == {"s1.jsonl"}


def test_a_resumed_sessions_copy_in_another_file_counts_once(tmp_path):
    """The resumed session's file starts with a copy of the earlier one (a new session id,
    the same message ids and prompt uuids), then goes on: the copy adds nothing, and its
    copied prompt is the earlier session's (s2's own first prompt is its prompt 1)."""
    earlier = [prompt("first", "2026-11-02T10:00:00Z", "u1"),
               response("m1", "2026-11-02T10:00:01Z", output_tokens=100)]
    copy = [{**record, "sessionId": "s2"} for record in earlier]
    write(tmp_path / "p" / "s1.jsonl", earlier)
    write(tmp_path / "p" / "s2.jsonl", [
        *copy, {**prompt("more", "2026-11-02T11:00:00Z", "u2"), "sessionId": "s2"},
        {**response("m2", "2026-11-02T11:00:01Z", output_tokens=40), "sessionId": "s2"}])
    steps = read_steps([str(tmp_path / "p")]).steps
    assert llm_totals(steps)["requests"] == 2
    assert llm_totals(steps)["output_tokens"] == 140
    assert sorted(steps["task_id"].to_list()) == ["s1/1", "s2/1"]


def test_subagents_beside_the_session_and_inline_belong_to_the_prompt_that_spawned_them(
        tmp_path):
    """2.0.x writes agent-<id>.jsonl beside the session; 1.x writes the sub-agent inline
    (isSidechain). Both spawned by prompt 2: their steps are in task s1/2, counted once."""
    task_call = [{"type": "tool_use", "id": "t1", "name": "Task",
                  "input": {"subagent_type": "Explore", "prompt": "look"}}]
    sub = {"isSidechain": True, "agentId": "a1"}
    write(tmp_path / "p" / "s1.jsonl", [
        prompt("one", "2026-11-02T10:00:00Z", "u1"),
        response("m1", "2026-11-02T10:00:01Z"),
        prompt("two", "2026-11-02T10:05:00Z", "u2"),
        response("m2", "2026-11-02T10:05:01Z", content=task_call),
        {**response("m3", "2026-11-02T10:05:02Z", model="claude-haiku-4-5"), **sub,
         "agentId": "inline"},  # inline sidechain: the prompt before it
        line("user", timestamp="2026-11-02T10:05:30Z", toolUseResult={"agentId": "a1"},
             message={"role": "user", "content": [{"type": "tool_result",
                                                   "tool_use_id": "t1", "content": "done"}]}),
        prompt("three", "2026-11-02T10:09:00Z", "u3"),
        response("m5", "2026-11-02T10:09:01Z"),
    ])
    write(tmp_path / "p" / "agent-a1.jsonl", [
        {**line("user", timestamp="2026-11-02T10:05:01Z", message={
            "role": "user", "content": "look"}), **sub},  # the agent's prompt: no task
        {**response("m4", "2026-11-02T10:05:10Z", model="claude-haiku-4-5"), **sub},
    ])
    steps = read_steps([str(tmp_path / "p")]).steps.filter(pl.col("kind") == "llm")
    by_message = dict(zip(steps["span_id"].to_list(),
                          zip(steps["task_id"].to_list(), steps["name"].cast(pl.String)
                              .to_list(), strict=True), strict=True))
    assert by_message == {"m1": ("s1/1", "main"), "m2": ("s1/2", "main"),
                          "m3": ("s1/2", "subagent"), "m4": ("s1/2", "Explore"),
                          "m5": ("s1/3", "main")}


def test_task_key_session_gives_sessions():
    steps = read_steps([str(CLAUDE / "codemie-bedrock-noreqid-3fe1b6bc.jsonl")],
                       task_key="session").steps
    assert steps["task_id"].unique().to_list() == ["3fe1b6bc-dbd0-4320-b980-4f147befa187"]


def test_cache_writes_web_searches_fast_mode_and_advisor_calls_are_priced(tmp_path):
    """One response of each kind, priced from pricing.yaml by hand:
    - 1h write: claude-sonnet-4-5, input 10 x 3 + output 20 x 15 + 1h write 1,000 x 6
      + 5m write 500 x 3.75 = 30 + 300 + 6,000 + 1,875 = 8,205 per 1M;
    - two web searches at $0.01 (anthropic_web_search) and a web fetch at $0;
    - fast mode on claude-opus-4-6: input 1,000 x 30 + output 100 x 150 = 45,000 per 1M;
    - an advisor call on claude-opus-4-6 inside a claude-sonnet-4-5 response: input 500 x 5
      + output 200 x 25 = 7,500 per 1M, beside the response's own 10 x 3 + 20 x 15 = 330.
    LLM: 8,205 + 330 (search response) + 45,000 + 7,500 + 330 = 61,365 per 1M."""
    write(tmp_path / "s1.jsonl", [
        prompt("go", "2026-11-02T10:00:00Z", "u1"),
        response("m1", "2026-11-02T10:00:01Z", cache_creation_input_tokens=1_500,
                 cache_creation={"ephemeral_5m_input_tokens": 500,
                                 "ephemeral_1h_input_tokens": 1_000}),
        response("m2", "2026-11-02T10:00:02Z",
                 server_tool_use={"web_search_requests": 2, "web_fetch_requests": 1}),
        response("m3", "2026-11-02T10:00:03Z", model="claude-opus-4-6", input_tokens=1_000,
                 output_tokens=100, speed="fast", service_tier="standard"),
        response("m4", "2026-11-02T10:00:04Z", iterations=[
            {"type": "message", "input_tokens": 10, "output_tokens": 20},
            {"type": "advisor_message", "model": "claude-opus-4-6", "input_tokens": 500,
             "output_tokens": 200, "cache_read_input_tokens": 0,
             "cache_creation_input_tokens": 0}]),
    ])
    report = api.report([str(tmp_path / "s1.jsonl")])
    summary = report.summary
    assert (summary.llm_steps, summary.tool_calls) == (5, 3)
    assert summary.llm_cost_usd == pytest.approx(0.061365, abs=1e-12)
    assert summary.tool_cost_usd == pytest.approx(0.02, abs=1e-12)
    assert (summary.cache_write_5m_tokens, summary.cache_write_1h_tokens) == (500, 1_000)
    assert (summary.unpriced_steps, summary.unpriced_tool_calls) == (0, 0)
    steps = read_steps([str(tmp_path / "s1.jsonl")]).steps
    assert steps.filter(pl.col("kind") == "tool")["tool_name"].cast(pl.String).to_list() == [
        "anthropic_web_search", "anthropic_web_search", "anthropic_web_fetch"]
    advisor = steps.filter(pl.col("name") == "advisor")
    assert advisor.select("model", "input_tokens", "output_tokens").rows() == [
        ("claude-opus-4-6", 500, 200)]


def test_tool_use_blocks_become_tool_steps_with_their_input(tmp_path):
    write(tmp_path / "s1.jsonl", [
        prompt("list", "2026-11-02T10:00:00Z", "u1"),
        response("m1", "2026-11-02T10:00:01Z", content=[
            {"type": "tool_use", "id": "t1", "name": "Bash",
             "input": {"command": "ls", "description": "List"}}]),
        response("m1", "2026-11-02T10:00:02Z", content=[
            {"type": "tool_use", "id": "t2", "name": "mcp__github__search",
             "input": {"q": "x"}}]),
    ])
    steps = read_steps([str(tmp_path / "s1.jsonl")]).steps
    tools = steps.filter(pl.col("kind") == "tool")
    assert tools.select("tool_name", "tool_args", "span_id", "task_id").rows() == [
        ("Bash", '{"command":"ls","description":"List"}', "t1", "s1/1"),
        ("mcp__github__search", '{"q":"x"}', "t2", "s1/1")]
    summary = api.report([str(tmp_path / "s1.jsonl")]).summary
    assert summary.unpriced_tool_calls == 1  # an MCP tool the table does not list


def test_no_billed_call_from_synthetic_summary_system_or_api_error_lines(tmp_path):
    write(tmp_path / "s1.jsonl", [
        {"type": "summary", "summary": "earlier", "leafUuid": "l1"},
        line("system", subtype="api_error", error={"status": 529}),
        line("system", subtype="compact_boundary"),
        prompt("go", "2026-11-02T10:00:00Z", "u1"),
        response("m0", "2026-11-02T10:00:01Z", model="<synthetic>", input_tokens=0,
                 output_tokens=0),
        {**response("m1", "2026-11-02T10:00:02Z"), "isApiErrorMessage": True},
        response("m2", "2026-11-02T10:00:03Z"),
    ])
    ingested = read_steps([str(tmp_path / "s1.jsonl")])
    assert llm_totals(ingested.steps)["requests"] == 1
    assert ingested.accounting.lines_used == 7 and not ingested.accounting.skipped


def test_prompts_are_user_lines_that_are_not_results_meta_or_commands(tmp_path):
    write(tmp_path / "s1.jsonl", [
        prompt("real one", "2026-11-02T10:00:00Z", "u1"),
        {**prompt("Caveat: local commands", "2026-11-02T10:01:00Z", "u2"), "isMeta": True},
        prompt("<command-name>/clear</command-name>", "2026-11-02T10:01:01Z", "u3"),
        prompt("<local-command-stdout></local-command-stdout>", "2026-11-02T10:01:02Z", "u4"),
        prompt("[Request interrupted by user]", "2026-11-02T10:01:03Z", "u5"),
        {**prompt("summary of before", "2026-11-02T10:01:04Z", "u6"), "isCompactSummary": True},
        line("user", message={"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}),
        # A custom command runs a prompt: its wrapper starts with <command-message>.
        prompt("<command-message>review is running</command-message>\n"
               "<command-name>/review</command-name>", "2026-11-02T10:02:00Z", "u7"),
        response("m1", "2026-11-02T10:02:01Z"),
    ])
    steps = read_steps([str(tmp_path / "s1.jsonl")]).steps
    assert steps["task_id"].to_list() == ["s1/2"]


# -- bad input ---------------------------------------------------------------------------------

def test_bad_lines_are_named_and_the_good_ones_kept(tmp_path):
    log = tmp_path / "s1.jsonl"
    write(log, [
        prompt("go", "2026-11-02T10:00:00Z", "u1"),
        line("brand-new-record", payload=1),
        "{not json",
        line("assistant", message={"id": "m9", "role": "assistant", "usage": {
            "input_tokens": "lots"}}),
        response("m1", "2026-11-02T10:00:01Z", output_tokens=40),
        response("m2", "2026-11-02T10:00:02Z", input_tokens=-5),
    ])
    with log.open("a") as handle:  # written while the agent still writes: cut mid-record
        handle.write('{"type":"assistant","message":{"id":"m3","usage":{"input_tok')
    ingested = read_steps([str(log)])
    skipped = {reason: (tally.count, tally.examples)
               for reason, tally in ingested.accounting.skipped.items()}
    shown = str(log)
    assert skipped.pop("unknown Claude Code record type 'brand-new-record'") == (
        1, [(shown, 2)])
    assert skipped.pop("not valid JSON") == (1, [(shown, 3)])
    (reason, (count, examples)), = [(r, v) for r, v in skipped.items()
                                     if r.startswith("not a Claude Code record")]
    assert (count, examples) == (1, [(shown, 4)])
    del skipped[reason]
    assert skipped.pop("negative token count") == (1, [(shown, 6)])
    assert skipped.pop(TRUNCATED) == (1, [(shown, 7)])
    assert not skipped
    assert llm_totals(ingested.steps)["output_tokens"] == 40
    assert ingested.accounting.balanced()


def test_a_file_that_is_neither_is_not_read_as_claude_code(tmp_path, write_jsonl):
    other = write_jsonl([{"hello": 1}, {"hello": 2}], name="other.jsonl")
    ingested = read_steps([str(other)])
    assert "Claude Code session log" not in ingested.accounting.formats
    with pytest.raises(InputError, match="read as Claude Code session log"):
        read_steps([str(other)], input_format="claude-code")


def test_a_native_log_with_message_fields_stays_native(write_jsonl):
    log = write_jsonl([{"task_id": "t1", "sessionId": "s", "message": {"role": "user"},
                        "model": "gpt-4o", "input_tokens": 10, "output_tokens": 1}])
    assert read_steps([str(log)]).accounting.formats == {"agentcost JSONL": 1}


def test_qwen_code_records_are_not_taken_for_claude_code(write_jsonl):
    log = write_jsonl([{"uuid": "u", "parentUuid": None, "sessionId": "s", "type": "user",
                        "message": {"role": "user", "parts": [{"text": "hi"}]}}])
    assert "Claude Code session log" not in read_steps([str(log)]).accounting.formats


def test_gzip_and_plain_copies_give_the_same_steps(tmp_path):
    import gzip

    plain = tmp_path / "a" / "s.jsonl"
    plain.parent.mkdir()
    shutil.copy(CLAUDE / "tool-heavy-session.jsonl", plain)
    packed = tmp_path / "b" / "s.jsonl.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    first = read_steps([str(plain)]).steps.drop("source_file")
    second = read_steps([str(packed)]).steps.drop("source_file")
    assert first.equals(second)


def test_batches_come_back_in_file_order(monkeypatch, tmp_path):
    """Files are parsed in batches (on several processes with --jobs): one file a batch
    gives the same steps and the same account of lines as one batch for all."""
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("short-session.jsonl", "tool-heavy-session.jsonl",
                 "codemie-summaries-9eda1058.jsonl"):
        shutil.copy(CLAUDE / name, folder / name)
    together = read_steps([str(folder)])
    monkeypatch.setattr(claude_parse, "BATCH_BYTES", 1)
    apart = read_steps([str(folder)])
    assert together.steps.equals(apart.steps)
    assert together.accounting.notes.keys() == apart.accounting.notes.keys()
    assert [t.count for t in together.accounting.notes.values()] == [
        t.count for t in apart.accounting.notes.values()]


def test_each_step_keeps_its_own_session_whatever_the_files_first_one(monkeypatch, tmp_path):
    """A file's rows leave out the session of its first step (claude_lines.py) and get it
    back; a line of another session, and a line with none (the file's name then), keep
    theirs. Two files of different first sessions, in batches of their own (as they would
    come back from two processes): with --task-key session, each step's task is its line's
    session."""
    write(tmp_path / "p" / "s1.jsonl", [
        response("m1", "2026-11-02T10:00:01Z"),                        # s1, the first
        {**response("m2", "2026-11-02T10:00:02Z"), "sessionId": "s9"},  # another
        {**response("m3", "2026-11-02T10:00:03Z"), "sessionId": None},  # none: s1 by name
        response("m4", "2026-11-02T10:00:04Z", content=[
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]),
    ])
    write(tmp_path / "p" / "agent-a1.jsonl", [
        {**response("m5", "2026-11-02T10:00:05Z"), "sessionId": "s9"},  # s9, the first
        {**response("m6", "2026-11-02T10:00:06Z", content=[
            {"type": "tool_use", "id": "t2", "name": "Read", "input": {}}])},  # s1
        {**response("m7", "2026-11-02T10:00:07Z"), "sessionId": None},  # none: agent-a1
    ])
    monkeypatch.setattr(claude_parse, "BATCH_BYTES", 1)
    steps = read_steps([str(tmp_path / "p")], task_key="session").steps
    assert steps.select("span_id", "session_id", "task_id").rows() == [
        ("m5", "s9", "s9"), ("m6", "s1", "s1"), ("t2", "s1", "s1"),
        ("m7", "agent-a1", "agent-a1"),
        ("m1", "s1", "s1"), ("m2", "s9", "s9"), ("m3", "s1", "s1"), ("m4", "s1", "s1"),
        ("t1", "s1", "s1")]


def test_claude_code_steps_take_their_files_place_among_other_formats(tmp_path, write_jsonl):
    native = write_jsonl([{"task_id": "n1", "model": "gpt-4o", "input_tokens": 1,
                           "output_tokens": 1}], name="b-native.jsonl")
    shutil.copy(CLAUDE / "short-session.jsonl", tmp_path / "a-claude.jsonl")
    shutil.copy(CLAUDE / "ccusage-minimal.jsonl", tmp_path / "c-claude.jsonl")
    steps = read_steps([str(tmp_path)]).steps
    files = steps["source_file"].cast(pl.String).unique(maintain_order=True).to_list()
    assert [Path(name).name for name in files] == ["a-claude.jsonl", native.name,
                                                   "c-claude.jsonl"]


def test_iterations_of_an_unknown_shape_cost_the_advisor_calls_not_the_response(tmp_path):
    write(tmp_path / "s1.jsonl", [
        prompt("go", "2026-11-02T10:00:00Z", "u1"),
        response("m1", "2026-11-02T10:00:01Z", output_tokens=30, iterations={"odd": 1}),
    ])
    ingested = read_steps([str(tmp_path / "s1.jsonl")])
    assert llm_totals(ingested.steps)["output_tokens"] == 30
    assert ingested.accounting.notes["usage.iterations of a shape not known: its advisor "
                                     "calls, if any, left out"].count == 1
