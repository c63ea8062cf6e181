"""GitHub Copilot CLI: events.jsonl, outputs per request, input from the shutdown rollup spread
over each run's requests, the real file's truth exactly, and bad input counted and named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import agentcost
from agentcost.ingest.read import read_steps
from tests.conftest import REAL_TRACES

REAL = REAL_TRACES / "copilot-cli" / "vct-events-96ef38f0.jsonl"
SESSION = "96ef38f0-9d09-45c3-8124-6448c36090ed"
SPREAD = ("GitHub Copilot CLI input and cache tokens: one total per model at exit, spread "
          "evenly over that run's requests")


def llm(path: Path | str, **options: Any) -> pl.DataFrame:
    return read_steps([str(path)], **options).steps.filter(pl.col("kind") == "llm")


def test_the_real_session_gives_its_truth():
    ingested = read_steps([str(REAL)])
    steps = ingested.steps
    requests = steps.filter(pl.col("kind") == "llm")
    assert requests.height == 6
    assert requests["output_tokens"].to_list() == [311, 170, 141, 153, 1_379, 694]
    # inputTokens 186,809 hold the cache reads 151,738: 35,071 uncached, over 6 requests
    # (5,845 each, the first one more); 151,738 = 6 x 25,289 + 4
    assert requests["input_tokens"].to_list() == [5_846, 5_845, 5_845, 5_845, 5_845, 5_845]
    assert requests["cache_read_tokens"].to_list() == [25_290] * 4 + [25_289] * 2
    assert requests["input_tokens"].sum() + requests["cache_read_tokens"].sum() == 186_809
    assert requests["cache_write_5m_tokens"].sum() == 0
    # reasoning is inside output (completion tokens): not billed again
    assert requests["reasoning_tokens"].sum() == 0
    assert requests["model"].unique().to_list() == ["claude-sonnet-4.6"]
    assert requests["reported_cost_usd"].null_count() == 6  # premium requests are not USD
    assert requests.group_by("task_id").len().sort("task_id")["len"].to_list() == [5, 1]
    assert requests["task_id"].unique().sort().to_list() == [f"{SESSION}/1", f"{SESSION}/2"]
    assert steps.filter(pl.col("kind") == "tool").height == 13
    assert steps["project"].unique().to_list() == ["/home/wei/repo/VibeCodingTracker"]
    assert steps["git_branch"].unique().to_list() == ["refactor/gemini-copilot-new-formats"]
    assert steps["workflow"].unique().to_list() == ["copilot-cli"]
    notes = {note: tally.count for note, tally in ingested.accounting.notes.items()}
    assert notes == {
        "GitHub Copilot CLI reasoning tokens, counted inside output": 1_024,
        "GitHub Copilot CLI premium requests (its billing unit, not USD)": 2,
        SPREAD: 6,
    }
    assert ingested.accounting.balanced() and ingested.accounting.lines_skipped == 0


def test_the_real_session_priced_by_hand():
    # claude-sonnet-4.6 is claude-sonnet-4-6: $3 input, $15 output, $0.30 cache read per 1M.
    # Whole session: 35,071 x 3 + 2,848 x 15 + 151,738 x 0.30 = 105,213 + 42,720 + 45,521.4
    # = 193,454.4 per 1M = $0.1934544.
    # Prompt 2 (its one request): 5,845 x 3 + 694 x 15 + 25,289 x 0.30 = 17,535 + 10,410
    # + 7,586.7 = $0.0355317; prompt 1 the rest, $0.1579227.
    report = agentcost.report(str(REAL))
    assert report.summary.total_cost_usd == pytest.approx(0.1934544, abs=1e-12)
    costs = dict(report.tasks.select("task_id", "total_cost_usd").iter_rows())
    assert costs[f"{SESSION}/2"] == pytest.approx(0.0355317, abs=1e-12)
    assert costs[f"{SESSION}/1"] == pytest.approx(0.1579227, abs=1e-12)
    assert report.summary.unpriced_steps == 0


def event(kind: str, data: dict[str, Any], second: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "data": data, "id": f"e{second}", "parentId": None,
            "timestamp": f"2026-04-23T17:00:{second:02d}.000Z", **extra}


def shutdown(second: int, input_tokens: int, output: int, reads: int, count: int,
             model: str = "claude-sonnet-4.6") -> dict[str, Any]:
    return event("session.shutdown", {"shutdownType": "routine", "modelMetrics": {model: {
        "requests": {"count": count, "cost": 1},
        "usage": {"inputTokens": input_tokens, "outputTokens": output,
                  "cacheReadTokens": reads, "cacheWriteTokens": 0}}}}, second)


def reply(second: int, output: int, request: str) -> dict[str, Any]:
    return event("assistant.message", {"messageId": f"m{second}", "outputTokens": output,
                                       "requestId": request}, second)


def start(second: int) -> dict[str, Any]:
    return event("session.start", {"sessionId": "s1", "selectedModel": "claude-sonnet-4.6",
                                   "context": {"cwd": "/repo", "branch": "main"}}, second)


def prompt(second: int) -> dict[str, Any]:
    return event("user.message", {"content": "do it"}, second)


def write(tmp_path: Path, records: list[Any], end: str = "\n") -> Path:
    path = tmp_path / "s1" / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records)
                    + end, encoding="utf-8")
    return path


def test_a_resumed_session_takes_each_runs_difference(tmp_path):
    """Each shutdown counts the runs before it too: the second run's usage is the second
    rollup less the first."""
    path = write(tmp_path, [
        start(0), prompt(1), reply(2, 10, "r1"), reply(3, 20, "r2"),
        shutdown(4, 1_000, 30, 600, 2),
        event("session.resume", {"context": {"cwd": "/repo", "branch": "main"}}, 5),
        prompt(6), reply(7, 5, "r3"),
        shutdown(8, 1_500, 35, 800, 3),  # cumulative: this run 500 in (200 cached), 5 out
    ])
    requests = llm(path)
    assert requests["input_tokens"].to_list() == [200, 200, 300]  # (1,000 - 600) / 2; 500 - 200
    assert requests["cache_read_tokens"].to_list() == [300, 300, 200]
    assert requests["output_tokens"].to_list() == [10, 20, 5]
    assert requests["task_id"].to_list() == ["s1/1", "s1/1", "s1/2"]


def test_rollups_of_each_run_alone_are_taken_as_they_are(tmp_path):
    path = write(tmp_path, [
        start(0), prompt(1), reply(2, 10, "r1"), shutdown(3, 100, 10, 40, 1),
        event("session.resume", {}, 4), prompt(5), reply(6, 7, "r2"),
        shutdown(7, 90, 7, 30, 1),  # this run's own: its output is the run's 7
    ])
    assert llm(path)["input_tokens"].to_list() == [60, 60]


def test_requests_after_the_last_shutdown_have_unknown_input_never_zero(tmp_path):
    path = write(tmp_path, [start(0), prompt(1), reply(2, 10, "r1")])
    requests = llm(path)
    assert requests["input_tokens"].to_list() == [None]
    assert requests["output_tokens"].to_list() == [10]
    report = agentcost.report(str(path))
    assert report.summary.unpriced_steps == 1
    assert report.summary.total_cost_usd == 0


def test_chunks_of_one_response_are_one_request_and_subagent_prompts_are_not_tasks(tmp_path):
    path = write(tmp_path, [
        start(0), prompt(1), reply(2, 40, "r1"), reply(3, 40, "r1"),
        event("user.message", {"content": "sub-task"}, 4, agentId="a1"),
        event("assistant.message", {"messageId": "m5", "outputTokens": 3, "requestId": "r2"},
              5, agentId="a1"),
        shutdown(6, 100, 43, 0, 2),
    ])
    requests = llm(path)
    assert requests["output_tokens"].to_list() == [40, 3]
    assert requests["name"].to_list() == ["main", "subagent"]
    assert requests["task_id"].unique().to_list() == ["s1/1"]


def test_bad_lines_are_named_and_the_others_kept(tmp_path):
    path = write(tmp_path, [
        start(0), prompt(1),
        event("assistant.dreaming", {}, 2),
        event("assistant.message", {"outputTokens": "lots", "requestId": "x"}, 3),
        reply(4, 10, "r1"),
        event("tool.execution_start", {"arguments": {}}, 5),
        shutdown(6, 100, 10, 20, 1),
        '{"type": "assistant.message", "data": {"outputTok',  # cut off: still being written
    ], end="")
    ingested = read_steps([str(path)])
    requests = ingested.steps.filter(pl.col("kind") == "llm")
    assert requests["input_tokens"].to_list() == [80]
    skipped = {reason: [line for _, line in tally.examples]
               for reason, tally in ingested.accounting.skipped.items()}
    assert skipped == {
        "unknown Copilot CLI record type 'assistant.dreaming'": [3],
        "Copilot CLI assistant.message: outputTokens: expected a number, got str": [4],
        "Copilot CLI tool.execution_start: tool call without a toolName": [6],
        "truncated line (file ends mid-record)": [8],
    }
    assert ingested.accounting.balanced()


def test_a_broken_rollup_leaves_the_input_unknown(tmp_path):
    path = write(tmp_path, [
        start(0), prompt(1), reply(2, 10, "r1"),
        event("session.shutdown", {"modelMetrics": {"m": {"usage": {"inputTokens": -1}}}}, 3),
    ])
    ingested = read_steps([str(path)])
    assert ingested.steps["input_tokens"].to_list() == [None]
    assert list(ingested.accounting.skipped) == [
        "Copilot CLI session.shutdown: inputTokens: -1 is not a token count"]
