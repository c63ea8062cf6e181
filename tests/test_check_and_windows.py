"""`agentcost check` exit codes, time windows, and drift against an earlier report."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from agentcost.analysis.window import parse_moment
from agentcost.errors import UsageError


def tasks_log(write_jsonl, costs_in_output_tokens, day="2026-11-27"):
    """One task per entry, gpt-4o output at $10/1M: 100,000 tokens cost $1."""
    return write_jsonl([
        {"task_id": f"t{i:02d}", "model": "gpt-4o", "output_tokens": tokens,
         "timestamp": f"{day}T{i % 24:02d}:00:00Z"}
        for i, tokens in enumerate(costs_in_output_tokens)
    ], name=f"log-{day}.jsonl")


def test_check_is_silent_and_zero_when_thresholds_hold(run_cli, write_jsonl):
    path = tasks_log(write_jsonl, [10_000] * 10)  # ten tasks at $0.10
    result = run_cli("check", str(path), "--max-task-cost", "0.10", "--max-total", "1.0",
                     "--max-p90", "0.10", "--fail-on-unpriced")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_check_prints_one_line_per_violation_and_exits_4(run_cli, write_jsonl):
    path = tasks_log(write_jsonl, [10_000] * 9 + [100_000])  # nine at $0.10, one at $1.00
    result = run_cli("check", str(path), "--max-task-cost", "0.50", "--max-total", "1.5",
                     "--max-p90", "0.05")
    assert result.exit_code == 4
    lines = result.stdout.strip().splitlines()
    assert lines == [
        "agentcost check: task cost above $0.50: 1 task (most: t09 at $1.00)",
        "agentcost check: total cost $1.90 is above $1.50",
        "agentcost check: P90 cost per task $0.10 is above $0.05",
    ]
    unpriced = write_jsonl([{"task_id": "a", "model": "mystery", "input_tokens": 5}],
                           name="unpriced.jsonl")
    failed = run_cli("check", str(unpriced), "--fail-on-unpriced")
    assert failed.exit_code == 4
    assert failed.stdout.strip() == "agentcost check: unpriced: 1 LLM step and 0 tool calls"
    assert run_cli("check", str(unpriced)).exit_code == 0


def test_the_costliest_task_over_the_limit_is_named_ties_by_task_id(run_cli, write_jsonl):
    # 300 tasks: 200 over $0.50, 100 of them tied at $3.00 (t02 first by id), in whatever
    # order they group.
    path = tasks_log(write_jsonl, [60_000, 10_000, 300_000, 90_000, 10_000, 300_000] * 50)
    result = run_cli("check", str(path), "--max-task-cost", "0.50")
    assert result.exit_code == 4
    assert result.stdout.strip() == (
        "agentcost check: task cost above $0.50: 200 tasks (most: t02 at $3.00)")


def test_p90_drift_against_a_baseline_report(run_cli, write_jsonl, tmp_path):
    before = tasks_log(write_jsonl, [10_000] * 10, day="2026-11-26")
    baseline = tmp_path / "yesterday.json"
    assert run_cli("report", str(before), "-f", "json", "-o", str(baseline)).exit_code == 0
    after = tasks_log(write_jsonl, [12_500] * 10, day="2026-11-27")  # P90 $0.10 -> $0.125
    rose = run_cli("check", str(after), "--baseline", str(baseline), "--max-p90-drift", "20%")
    assert rose.exit_code == 4
    assert "P90 cost per task rose 25.0% ($0.10 -> $0.125), more than 20%" in rose.stdout
    assert run_cli("check", str(after), "--baseline", str(baseline),
                   "--max-p90-drift", "30%").exit_code == 0
    report = json.loads(run_cli("report", str(after), "--baseline", str(baseline),
                                "-f", "json").stdout)
    drift = {row["what"]: row for row in report["drift"]}
    assert drift["total"]["before_usd"] == pytest.approx(1.0)
    assert drift["total"]["now_usd"] == pytest.approx(1.25)
    assert drift["P90"]["change_percent"] == pytest.approx(25.0)
    assert run_cli("check", str(after), "--max-p90-drift", "20%").exit_code == 2
    damaged = json.loads(baseline.read_text())
    damaged["distribution"]["p90_usd"] = {"oops": 1}
    baseline.write_text(json.dumps(damaged))
    refused = run_cli("check", str(after), "--baseline", str(baseline), "--max-p90-drift", "20%")
    assert refused.exit_code == 1
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert f"{baseline}: the baseline report is damaged" in refused.stderr


def test_since_and_until_use_the_steps_own_times(run_cli, write_jsonl):
    path = tasks_log(write_jsonl, [10_000] * 24)  # one task an hour, 00:00 .. 23:00
    result = run_cli("report", str(path), "-f", "json", "--since", "2026-11-27T06:00:00Z",
                     "--until", "2026-11-27T12:00:00")
    assert json.loads(result.stdout)["summary"]["tasks"] == 6
    assert run_cli("check", str(path), "--since", "2026-11-27T23:00:00Z",
                   "--max-total", "0.1").exit_code == 0
    assert run_cli("check", str(path), "--since", "2026-11-27T22:00:00Z",
                   "--max-total", "0.1").exit_code == 4
    refused = run_cli("report", str(path), "--since", "yesterday-ish")
    assert refused.exit_code == 2
    assert "'--since': 'yesterday-ish' is neither a span" in " ".join(refused.output.split())


def test_relative_moments():
    now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    assert parse_moment("24h", now=now) == dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    assert parse_moment("30m", now=now) == dt.datetime(2026, 11, 28, 11, 30, tzinfo=dt.UTC)
    assert parse_moment("2026-11-27", now=now) == dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    with pytest.raises(UsageError):
        parse_moment("soon", now=now)
