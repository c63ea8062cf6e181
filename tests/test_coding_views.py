"""The views a developer expects of coding agents' logs: cost by week, month, session, project,
branch and agent, and by the 5-hour blocks subscription plans meter by (ccusage's rule)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

import agentcost
from agentcost.analysis.blocks import block_label, block_starts
from tests.conftest import REAL_TRACES

# gpt-4o output is $10 per 1M: 1,000 output tokens = $0.01.
CENT = 1_000


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def steps(rows: list[tuple[str | None, int, str | None, str | None, str | None]]
          ) -> pl.DataFrame:
    """(start time, cents, session, project, git branch) per LLM step; one task a session."""
    return pl.DataFrame({
        "task_id": [row[2] or "t" for row in rows],
        "start_time": [None if row[0] is None else at(row[0]) for row in rows],
        "kind": ["llm"] * len(rows), "model": ["gpt-4o"] * len(rows),
        **{bucket: [0] * len(rows) for bucket in ("input_tokens", "cache_read_tokens",
                                                   "cache_write_5m_tokens",
                                                   "cache_write_1h_tokens", "reasoning_tokens")},
        "output_tokens": [row[1] * CENT for row in rows],
        "session_id": [row[2] for row in rows], "project": [row[3] for row in rows],
        "git_branch": [row[4] for row in rows], "workflow": ["claude-code"] * len(rows),
    }, schema_overrides={"start_time": pl.Datetime("us", "UTC")})


def rows_of(frame: pl.DataFrame, by: str) -> list[tuple[str, int, float]]:
    report = agentcost.report(frame, by=by)
    breakdown = report.dashboard.breakdown if report.dashboard else None
    assert breakdown is not None
    return [(key, count, round(cost, 6)) for key, count, cost
            in breakdown.select(by, "steps", "cost_usd").iter_rows()]


def test_weeks_are_iso_weeks_and_months_calendar_months():
    # 2025-12-28 is a Sunday (ISO week 52 of 2025); Monday 2025-12-29 and 2026-01-01 are in
    # ISO week 1 of 2026.
    frame = steps([("2025-12-28T23:00:00", 1, "s", None, None),
                   ("2025-12-29T01:00:00", 2, "s", None, None),
                   ("2026-01-01T12:00:00", 4, "s", None, None)])
    assert rows_of(frame, "week") == [("2025-W52", 1, 0.01), ("2026-W01", 2, 0.06)]
    assert rows_of(frame, "month") == [("2025-12", 2, 0.03), ("2026-01", 1, 0.04)]


def test_sessions_projects_and_branches():
    frame = steps([("2026-03-01T10:00:00", 5, "s1", "/repo", "main"),
                   ("2026-03-01T10:01:00", 1, "s1", "/repo", "main"),
                   ("2026-03-01T11:00:00", 3, "s2", "/repo", "fix"),
                   ("2026-03-01T12:00:00", 2, "s3", "/other", None)])
    assert rows_of(frame, "session") == [("s1", 2, 0.06), ("s2", 1, 0.03), ("s3", 1, 0.02)]
    assert rows_of(frame, "project") == [("/repo", 3, 0.09), ("/other", 1, 0.02)]
    assert rows_of(frame, "branch") == [("/repo (main)", 2, 0.06), ("/repo (fix)", 1, 0.03),
                                        ("/other", 1, 0.02)]


def test_blocks_follow_ccusages_rule():
    """A block starts at its first request's hour and holds requests up to 5 hours after that
    start, the end included; the first one later starts the next block at its own hour."""
    frame = steps([("2026-03-01T10:30:00", 1, "s", None, None),  # block 10:00-15:00
                   ("2026-03-01T12:00:00", 2, "s", None, None),
                   ("2026-03-01T15:00:00", 4, "s", None, None),  # exactly 15:00: still in
                   ("2026-03-01T16:30:00", 8, "s", None, None),  # block 16:00-21:00
                   ("2026-03-01T21:10:00", 16, "s", None, None),  # after it: 21:00-
                   (None, 32, "s", None, None)])  # no time: in no block
    assert rows_of(frame, "block") == [("(none)", 1, 0.32), ("2026-03-01 10:00", 3, 0.07),
                                       ("2026-03-01 16:00", 1, 0.08),
                                       ("2026-03-01 21:00", 1, 0.16)]


def test_a_tool_call_goes_to_the_block_open_before_it_and_only_requests_open_blocks():
    frame = pl.DataFrame({
        "task_id": ["t", "t", "t"], "kind": ["llm", "tool", "llm"],
        "start_time": [at("2026-03-01T10:30:00"), at("2026-03-01T16:00:00"),
                       at("2026-03-01T18:30:00")]},
        schema_overrides={"start_time": pl.Datetime("us", "UTC")})
    # the tool call at 16:00, after the 10:00 block's end, opens no block: the request at
    # 18:30 opens 18:00
    assert block_label(frame).to_list() == ["2026-03-01 10:00", "2026-03-01 10:00",
                                            "2026-03-01 18:00"]


def test_block_starts_step_a_block_at_a_time():
    hour = 3_600_000_000
    # 0 opens 00:00-05:00, which holds 05:00 itself; 06:30 opens 06:00-11:00; 12:00:00.000059
    # opens 12:00-17:00, which holds 13:00
    times = pl.Series([0, hour * 5, hour * 6 + hour // 2, hour * 12 + 59, hour * 13])
    assert block_starts(times).to_list() == [0, hour * 6, hour * 12]


@pytest.mark.skipif(not REAL_TRACES.is_dir(), reason="needs the shared real traces")
def test_by_agent_is_the_coding_agent():
    report = agentcost.report([str(REAL_TRACES / "cline/clinexray-9dbbc27-ui_messages.json"),
                               str(REAL_TRACES / "copilot-cli/vct-events-96ef38f0.jsonl")],
                              by="agent")
    assert report.dashboard is not None and report.dashboard.breakdown is not None
    # hand-priced in test_coding_copilot.py and test_coding_cline.py
    assert [(agent, round(cost, 7)) for agent, cost in
            report.dashboard.breakdown.select("agent", "cost_usd").iter_rows()] == [
        ("copilot-cli", 0.1934544), ("cline", 0.1502508)]
