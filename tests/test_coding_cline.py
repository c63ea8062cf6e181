"""Cline, Roo Code and Kilo Code: a task's ui_messages.json, one request per api_req_started, the
real file's truth exactly, and bad input counted and named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import agentcost
from agentcost.ingest.read import read_steps
from tests.conftest import REAL_TRACES

REAL = REAL_TRACES / "cline" / "clinexray-9dbbc27-ui_messages.json"
MODEL = "claude-sonnet-4-5-20250929"


def llm(path: Path | str, **options: Any) -> pl.DataFrame:
    steps = read_steps([str(path)], **options).steps
    return steps.filter(pl.col("kind") == "llm")


def test_the_real_task_gives_its_truth():
    ingested = read_steps([str(REAL)])
    steps = ingested.steps
    requests = steps.filter(pl.col("kind") == "llm")
    assert requests.height == 4
    assert requests["model"].unique().to_list() == [MODEL]
    # tokensIn excludes the cache: 10 + 10 + 10 + 10
    assert requests["input_tokens"].to_list() == [10, 10, 10, 10]
    assert requests["output_tokens"].sum() == 2_488  # 641 + 630 + 856 + 361
    assert requests["cache_write_5m_tokens"].sum() == 28_108  # 12,027 + 632 + 529 + 14,920
    assert requests["cache_read_tokens"].sum() == 24_686  # 0 + 12,027 + 12,659 + 0
    assert requests["reported_cost_usd"].sum() == pytest.approx(0.1502508, abs=1e-12)
    # the task (message 1) and one user_feedback: 2 prompts of 2 requests each
    assert requests.group_by("task_id").len().sort("task_id")["len"].to_list() == [2, 2]
    assert steps.filter(pl.col("kind") == "tool")["tool_name"].to_list() == [
        "newFileCreated", "execute_command"]
    assert steps["workflow"].unique().to_list() == ["cline"]
    assert steps["project"].unique().to_list() == ["D:/Users/obuzunov/Desktop"]
    accounting = ingested.accounting
    assert list(accounting.formats) == ["Cline / Roo Code / Kilo Code task (ui_messages.json)"]
    assert accounting.balanced() and accounting.lines_skipped == 0


def test_the_real_task_priced_by_hand_matches_clines_own_cost():
    # claude-sonnet-4-5-20250929 is claude-sonnet-4-5: $3 input, $15 output, $0.30 cache read,
    # $3.75 5-minute cache write per 1M; no request passes the 200k long-context threshold.
    # 40 x 3 + 2,488 x 15 + 24,686 x 0.30 + 28,108 x 3.75 = 120 + 37,320 + 7,405.8 + 105,405
    # = 150,250.8 per 1M = $0.1502508, the cost Cline itself wrote.
    report = agentcost.report(str(REAL))
    assert report.summary.total_cost_usd == pytest.approx(0.1502508, abs=1e-12)
    assert report.summary.reported_cost_usd == pytest.approx(0.1502508, abs=1e-12)
    assert report.summary.tasks == 2
    assert report.summary.unpriced_steps == 0 and report.summary.unpriced_tool_calls == 0


def test_task_key_session_makes_the_whole_task_one():
    assert llm(REAL, task_key="session")["task_id"].unique().to_list() == [
        "clinexray-9dbbc27-ui_messages"]


def message(ts: int, say: str, text: Any = "", kind: str = "say", **extra: Any) -> dict[str, Any]:
    return {"ts": ts, "type": kind, kind: say,
            "text": text if isinstance(text, str) else json.dumps(text), **extra}


def usage(**fields: Any) -> dict[str, Any]:
    return {"request": "...", **fields}


def write_task(folder: Path, messages: list[Any], metadata: Any = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ui_messages.json"
    path.write_text(json.dumps(messages), encoding="utf-8")
    if metadata is not None:
        (folder / "task_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return path


def test_roo_code_counts_the_cache_inside_tokens_in(tmp_path):
    """Roo Code writes apiProtocol; since 3.30 its tokensIn holds the cache (then uncached =
    tokensIn - reads - writes); a tokensIn smaller than the cache alone is an older Anthropic
    request, which kept them apart."""
    folder = tmp_path / "rooveterinaryinc.roo-cline" / "tasks" / "1764000000000"
    path = write_task(folder, [
        message(1_764_000_000_000, "text", "fix the bug"),
        message(1_764_000_001_000, "api_req_started", usage(
            apiProtocol="anthropic", tokensIn=1_150, tokensOut=20, cacheReads=1_000,
            cacheWrites=100, cost=0.01)),
        message(1_764_000_002_000, "api_req_started", usage(
            apiProtocol="anthropic", tokensIn=7, tokensOut=20, cacheReads=1_000,
            cacheWrites=100, cost=0.01)),
        message(1_764_000_003_000, "api_req_started", usage(
            apiProtocol="openai", tokensIn=500, tokensOut=5, cacheReads=400, cost=0.001)),
    ], metadata={"model_usage": [{"ts": 1_764_000_000_000, "model_id": "gpt-4.1",
                                  "model_provider_id": "openai", "mode": "code"}]})
    requests = llm(path)
    assert requests["input_tokens"].to_list() == [50, 7, 100]
    assert requests["cache_read_tokens"].to_list() == [1_000, 1_000, 400]
    assert requests["workflow"].unique().to_list() == ["roo-code"]
    assert requests["session_id"].unique().to_list() == ["1764000000000"]
    # no modelInfo on Roo's messages: the model task_metadata.json says was in use
    assert requests["model"].unique().to_list() == ["gpt-4.1"]


def test_a_cost_of_zero_is_unknown_and_so_is_a_missing_model(tmp_path):
    path = write_task(tmp_path / "t", [
        message(1_764_000_000_000, "text", "hello"),
        message(1_764_000_001_000, "api_req_started",
                usage(tokensIn=10, tokensOut=5, cacheReads=0, cacheWrites=0, cost=0)),
    ])
    requests = llm(path)
    assert requests["reported_cost_usd"].to_list() == [None]
    assert requests["model"].to_list() == [None]
    report = agentcost.report(str(path))
    assert report.summary.unpriced_steps == 1  # no model: unpriced, never $0


def test_deleted_and_subagent_usage_are_billed_requests(tmp_path):
    path = write_task(tmp_path / "t", [
        message(1, "text", "go", modelInfo={"providerId": "anthropic", "modelId": MODEL}),
        message(2, "deleted_api_reqs", usage(tokensIn=3, tokensOut=4, cacheReads=5,
                                             cacheWrites=6, cost=0.5)),
        message(3, "subagent_usage", usage(tokensIn=30, tokensOut=40, cacheReads=0,
                                           cacheWrites=0, cost=0.25),
                modelInfo={"providerId": "anthropic", "modelId": MODEL}),
    ])
    requests = llm(path)
    assert requests["name"].to_list() == ["deleted requests", "subagents"]
    assert requests["input_tokens"].to_list() == [3, 30]
    assert requests["reported_cost_usd"].to_list() == [0.5, 0.25]


def test_bad_messages_are_named_and_the_others_kept(tmp_path):
    path = write_task(tmp_path / "t", [
        message(1, "text", "go"),
        message(2, "api_req_started", usage(tokensIn="many", tokensOut=1)),
        message(3, "api_req_started", "{not json"),
        "not a message",
        message(5, "api_req_started", usage(tokensIn=1, tokensOut=-1)),
        message(6, "api_req_started", usage(tokensIn=4, tokensOut=2, cacheReads=0,
                                             cacheWrites=0, cost=0.001)),
        message(7, "api_req_started", usage()),  # still running: no usage yet
    ])
    ingested = read_steps([str(path)])
    requests = ingested.steps.filter(pl.col("kind") == "llm")
    assert requests["input_tokens"].to_list() == [4]
    skipped = ingested.accounting.spans_skipped
    assert {reason: (tally.count, [line for _, line in tally.examples])
            for reason, tally in skipped.items()} == {
        "Cline message: api_req_started tokensIn: expected a number, got str": (1, [2]),
        "Cline message: api_req_started text is not a JSON object": (1, [3]),
        "Cline message: not a message object": (1, [4]),
        "Cline message: api_req_started tokensOut: -1 is not a token count": (1, [5]),
    }
    notes = ingested.accounting.notes
    assert [tally.examples[0][1] for tally in notes.values()] == [7]
    assert ingested.accounting.records_lost == 4


def test_a_task_file_cut_short_is_skipped_whole_and_the_others_read(tmp_path):
    good = write_task(tmp_path / "a", [message(1, "text", "go"), message(2, "api_req_started",
                      usage(tokensIn=4, tokensOut=2, cacheReads=0, cacheWrites=0))])
    cut = tmp_path / "b" / "ui_messages.json"
    cut.parent.mkdir()
    cut.write_text(good.read_text()[:-20], encoding="utf-8")  # the agent still writing it
    ingested = read_steps([str(good), str(cut)])
    assert ingested.steps.filter(pl.col("kind") == "llm").height == 1
    (reason, tally), = ingested.accounting.skipped.items()
    assert reason.startswith("not valid JSON") and reason.endswith("the file is left unread")
    assert tally.examples == [(str(cut), 1)]
    assert ingested.accounting.balanced()
