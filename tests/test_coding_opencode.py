"""OpenCode: its SQLite database read by step-finish parts, the real database's truth exactly,
sub-agents under the prompt that started them, and bad input counted and named."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import agentcost
from agentcost.errors import InputError
from agentcost.ingest.read import read_steps
from tests.conftest import REAL_TRACES

REAL = REAL_TRACES / "opencode" / "stunning-memory-opencode.db"
SESSION = "ses_04ca851f7ffevKrKMHW3RsPK1U"
MODEL = "monkeycode-basic/deepseek-v4-flash"


def llm(path: Path | str, **options: Any) -> pl.DataFrame:
    return read_steps([str(path)], **options).steps.filter(pl.col("kind") == "llm")


def test_the_real_database_gives_its_truth():
    ingested = read_steps([str(REAL)])
    steps = ingested.steps
    requests = steps.filter(pl.col("kind") == "llm")
    # 27 assistant messages: 26 step-finish parts, and a zero-token placeholder without
    # finish that is no request
    assert requests.height == 26
    assert requests["input_tokens"].sum() == 5_387
    assert requests["cache_read_tokens"].sum() == 622_720
    assert requests["cache_write_5m_tokens"].sum() == 0
    assert requests["output_tokens"].sum() == 4_814
    assert requests["reasoning_tokens"].sum() == 0
    assert requests["model"].unique().to_list() == [MODEL]
    assert requests["reported_cost_usd"].null_count() == 26  # OpenCode's 0: unknown
    per_prompt = requests.group_by("task_id").len()
    order = {f"{SESSION}/{n}": n for n in range(1, 9)}
    assert [count for _, count in sorted(per_prompt.iter_rows(), key=lambda r: order[r[0]])] \
        == [4, 3, 3, 4, 3, 2, 3, 4]
    assert steps.filter(pl.col("kind") == "tool").height == 21
    assert steps["project"].unique().to_list() == ["/workspace"]
    assert steps["workflow"].unique().to_list() == ["opencode"]
    accounting = ingested.accounting
    assert list(accounting.formats) == ["OpenCode database (SQLite)"]
    assert [note for note in accounting.notes] == [
        "OpenCode assistant message with no tokens and no finish (a placeholder): not a "
        "request"]
    assert accounting.balanced() and accounting.records_lost == 0


def test_a_custom_providers_model_is_unpriced_never_free():
    report = agentcost.report(str(REAL))
    assert report.summary.unpriced_steps == 26
    assert report.summary.llm_cost_usd == 0
    assert report.summary.reported_cost_usd is None


def test_the_real_database_priced_by_hand(write_prices):
    # Priced as DeepSeek's own deepseek-v4-flash (input $0.30, output $1.20, cache read
    # $0.006 per 1M): 5,387 x 0.30 + 4,814 x 1.20 + 622,720 x 0.006
    # = 1,616.1 + 5,776.8 + 3,736.32 = 11,129.22 per 1M = $0.01112922.
    prices = write_prices(f"extends: default\nmodels:\n  {MODEL}:\n    input: 0.3\n"
                          "    output: 1.2\n    cache_read: 0.006\n")
    report = agentcost.report(str(REAL), prices=prices)
    assert report.summary.total_cost_usd == pytest.approx(0.01112922, abs=1e-12)
    assert report.summary.unpriced_steps == 0 and report.summary.unpriced_tool_calls == 0


def test_found_in_a_directory_and_read_from_gzip(tmp_path):
    folder = tmp_path / "opencode"
    folder.mkdir()
    shutil.copy(REAL, folder / "opencode.db")
    (folder / "unrelated.db").write_bytes(b"not read")  # only OpenCode's names are looked at
    assert llm(folder)["output_tokens"].sum() == 4_814
    packed = tmp_path / "opencode.db.gz"
    packed.write_bytes(gzip.compress(REAL.read_bytes()))
    assert llm(packed)["output_tokens"].sum() == 4_814


def test_another_sqlite_database_is_not_read(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as database:
        database.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(InputError, match="not a trace: binary data"):
        read_steps([str(other)])
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"task_id": "t", "model": "gpt-4o", "input_tokens": 1}\n')
    ingested = read_steps([str(other), str(trace)])
    assert ingested.steps.height == 1
    (reason,) = ingested.accounting.skipped
    assert reason.startswith("not a trace: binary data")


SCHEMA = """
CREATE TABLE `session` (`id` text PRIMARY KEY, `parent_id` text, `directory` text NOT NULL,
  `time_created` integer NOT NULL);
CREATE TABLE `message` (`id` text PRIMARY KEY, `session_id` text NOT NULL,
  `time_created` integer NOT NULL, `data` text NOT NULL);
CREATE TABLE `part` (`id` text PRIMARY KEY, `message_id` text NOT NULL,
  `session_id` text NOT NULL, `time_created` integer NOT NULL, `data` text NOT NULL);
"""
T0 = 1_785_420_000_000


def database(path: Path, sessions: list[tuple[str, str | None]],
             messages: list[tuple[str, str, dict[str, Any]]],
             parts: list[tuple[str, str, Any]]) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        for number, (session, parent) in enumerate(sessions):
            db.execute("INSERT INTO session VALUES (?, ?, '/repo', ?)",
                       (session, parent, T0 + number))
        for number, (identifier, session, data) in enumerate(messages):
            db.execute("INSERT INTO message VALUES (?, ?, ?, ?)",
                       (identifier, session, T0 + 1000 * number, json.dumps(data)))
        for number, (identifier, message_id, data) in enumerate(parts):
            session = next(s for m, s, _ in messages if m == message_id)
            db.execute("INSERT INTO part VALUES (?, ?, ?, ?, ?)",
                       (identifier, message_id, session, T0 + 10 * number,
                        data if isinstance(data, str) else json.dumps(data)))
    return path


def finish(input_tokens: int, output: int, reasoning: int = 0, total: int | None = None,
           cost: float = 0.0) -> dict[str, Any]:
    tokens = {"input": input_tokens, "output": output, "reasoning": reasoning,
              "cache": {"read": 0, "write": 0}}
    if total is not None:
        tokens["total"] = total
    return {"type": "step-finish", "reason": "stop", "tokens": tokens, "cost": cost}


def assistant(parent: str, agent: str = "build") -> dict[str, Any]:
    return {"role": "assistant", "parentID": parent, "modelID": "claude-sonnet-4-5",
            "providerID": "anthropic", "agent": agent, "path": {"cwd": "/repo"},
            "tokens": {"input": 0, "output": 0, "reasoning": 0,
                       "cache": {"read": 0, "write": 0}}, "cost": 0}


def test_a_sub_agent_belongs_to_the_prompt_that_started_it(tmp_path):
    path = database(tmp_path / "opencode.db", [("ses_a", None), ("ses_b", "ses_a")], [
        ("msg_1", "ses_a", {"role": "user"}),
        ("msg_2", "ses_a", assistant("msg_1")),
        ("msg_3", "ses_a", {"role": "user"}),
        ("msg_4", "ses_a", assistant("msg_3")),
        ("msg_5", "ses_b", {"role": "user"}),
        ("msg_6", "ses_b", assistant("msg_5", agent="explore")),
    ], [
        ("prt_1", "msg_2", finish(10, 1, cost=0.5)),
        ("prt_2", "msg_4", {"type": "tool", "tool": "task", "callID": "c1",
                            "state": {"status": "completed", "input": {"prompt": "look"},
                                      "metadata": {"sessionId": "ses_b"}}}),
        ("prt_3", "msg_4", finish(20, 2)),
        ("prt_4", "msg_6", finish(30, 3)),
    ])
    steps = read_steps([str(path)]).steps
    requests = steps.filter(pl.col("kind") == "llm")
    assert requests.select("task_id", "name", "input_tokens").rows() == [
        ("ses_a/1", "main", 10), ("ses_a/2", "main", 20), ("ses_a/2", "explore", 30)]
    assert requests["reported_cost_usd"].to_list() == [0.5, None, None]
    assert steps.filter(pl.col("kind") == "tool").select("tool_name", "tool_args").rows() == [
        ("task", '{"prompt":"look"}')]
    assert llm(path, task_key="session")["task_id"].unique().to_list() == ["ses_a"]


def test_reasoning_is_billed_apart_only_where_the_total_says_so(tmp_path):
    path = database(tmp_path / "opencode.db", [("ses_a", None)], [
        ("msg_1", "ses_a", {"role": "user"}),
        ("msg_2", "ses_a", assistant("msg_1")),
    ], [
        ("prt_1", "msg_2", finish(10, 5, reasoning=3, total=18)),  # 10 + 5 + 3: apart
        ("prt_2", "msg_2", finish(10, 5, reasoning=3, total=15)),  # inside output
        ("prt_3", "msg_2", finish(10, 5, reasoning=3)),  # no total: as OpenCode bills it
    ])
    assert llm(path)["reasoning_tokens"].to_list() == [3, 0, 3]


def test_bad_rows_are_named_and_the_others_kept(tmp_path):
    path = database(tmp_path / "opencode.db", [("ses_a", None)], [
        ("msg_1", "ses_a", {"role": "user"}),
        ("msg_2", "ses_a", assistant("msg_1")),
        ("msg_3", "ses_a", {**assistant("msg_1"), "finish": "stop",
                            "tokens": {"input": 7, "output": 1, "reasoning": 0,
                                       "cache": {"read": 0, "write": 0}}}),
    ], [
        ("prt_1", "msg_2", "{broken"),
        ("prt_2", "msg_2", finish(-4, 1)),
        ("prt_3", "msg_2", finish(4, 1)),
    ])
    ingested = read_steps([str(path)])
    requests = ingested.steps.filter(pl.col("kind") == "llm")
    # msg_3 has no step parts but finished: an older build's message, one request
    assert requests["input_tokens"].to_list() == [4, 7]
    skipped = {reason: [line for _, line in tally.examples]
               for reason, tally in ingested.accounting.spans_skipped.items()}
    assert skipped == {"OpenCode part row: data is not valid JSON": [1],
                       "OpenCode part row: tokens.input: -4 is not a token count": [2]}
    assert ingested.accounting.records_lost == 2
