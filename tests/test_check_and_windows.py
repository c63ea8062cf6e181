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
    assert run_cli("check", str(unpriced), "--max-total", "1").exit_code == 6  # nothing priced


def test_check_without_a_threshold_is_a_usage_error(run_cli, write_jsonl):
    path = tasks_log(write_jsonl, [10_000])
    result = run_cli("check", str(path))
    assert result.exit_code == 2
    assert "no threshold to check" in result.stderr


def test_check_with_no_step_in_its_window_fails_unless_allowed(run_cli, write_jsonl):
    """Logs that stopped a day ago: --since 24h holds no step, so --max-total 0 cannot fire;
    the check says so and exits 6, unless --allow-empty."""
    path = tasks_log(write_jsonl, [10_000] * 3, day="2026-01-01")
    empty = run_cli("check", str(path), "--since", "24h", "--max-total", "0")
    assert empty.exit_code == 6
    assert "no step to check" in empty.stdout
    assert run_cli("check", str(path), "--since", "24h", "--max-total", "0",
                   "--allow-empty").exit_code == 0
    # The same log without the window: $0.30 is above $0, the threshold fires.
    assert run_cli("check", str(path), "--max-total", "0").exit_code == 4


def test_check_fails_on_skipped_lines_unless_told_how_many_may_go(run_cli, write_jsonl):
    """99 lines whose token count is text ($0.25 each if read) and one good line: exit 5,
    the reason on stderr; allowed by a count or a share, the good line is checked."""
    records = [{"task_id": f"t{i}", "model": "gpt-4o", "input_tokens": "100000"}
               for i in range(99)]
    records.append({"task_id": "ok", "model": "gpt-4o", "input_tokens": 1000})
    path = write_jsonl(records, name="mostly-bad.jsonl")
    failed = run_cli("check", str(path), "--max-total", "1")
    assert failed.exit_code == 5
    assert failed.stdout.strip() == ("agentcost check: 99 lines or spans skipped, more than "
                                     "the 0 allowed (--max-skipped): the figures would leave "
                                     "them out")
    assert "99 x field input_tokens: expected a number, got text" in failed.stderr
    assert run_cli("check", str(path), "--max-total", "1", "--max-skipped", "98"
                   ).exit_code == 5
    assert run_cli("check", str(path), "--max-total", "1", "--max-skipped", "99"
                   ).exit_code == 0
    assert run_cli("check", str(path), "--max-total", "1", "--max-skipped", "98.9%"
                   ).exit_code == 5  # 98.9% of 100 lines read is 98 (rounded down)
    assert run_cli("check", str(path), "--max-total", "1", "--max-skipped", "99%"
                   ).exit_code == 0
    assert run_cli("check", str(path), "--max-total", "1", "--max-skipped", "lots"
                   ).exit_code == 2


def test_a_log_and_its_copy_pass_a_check_that_allows_no_skipped_line(run_cli, write_jsonl):
    """Lines that only repeat earlier ones lose no data: they do not count as skipped."""
    first = tasks_log(write_jsonl, [10_000] * 2)
    copy = first.with_name("copy.jsonl")
    copy.write_bytes(first.read_bytes())
    assert run_cli("check", str(first), str(copy), "--max-total", "1").exit_code == 0


def test_baseline_without_a_drift_threshold_is_warned_about(run_cli, write_jsonl, tmp_path):
    path = tasks_log(write_jsonl, [10_000])
    baseline = tmp_path / "before.json"
    baseline.write_text(run_cli("report", str(path), "-f", "json").stdout)
    result = run_cli("check", str(path), "--max-total", "1", "--baseline", str(baseline))
    assert result.exit_code == 0
    assert "--baseline is read only for --max-p90-drift; ignored" in result.stderr


def test_a_report_says_the_window_it_kept_and_what_fell_outside(run_cli, write_jsonl):
    """Ten tasks at hours 00-09: since 06:00 keeps four, six fall outside; one step has no
    time at all."""
    path = tasks_log(write_jsonl, [10_000] * 10)
    with path.open("a") as log:
        log.write('{"task_id": "untimed", "model": "gpt-4o", "output_tokens": 1}\n')
    text = run_cli("report", str(path), "--since", "2026-11-27T06:00:00Z").stdout
    assert ("Kept since 2026-11-27 06:00:00 UTC: 6 steps outside, 1 step without a time "
            "left out") in text
    document = json.loads(run_cli("report", str(path), "--since", "2026-11-27T06:00:00Z",
                                  "-f", "json").stdout)
    assert document["summary"]["window_applied"] == {
        "since": "2026-11-27T06:00:00Z", "until": None, "steps_outside": 6, "steps_untimed": 1}
    assert document["summary"]["steps"] == 4
    everything_outside = run_cli("report", str(path), "--until", "2026-01-01").stdout
    assert "No steps in the window." in everything_outside
    assert "Kept until 2026-01-01 00:00:00 UTC: 10 steps outside" in everything_outside


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


def test_the_json_writer_takes_no_text_for_a_table(monkeypatch):
    """Any string of the document, whatever it holds, is written as that string; tables are
    written where they stand."""
    import polars as pl

    from agentcost.renderers import json_out

    document = {"first": "\u0000table:0", "table": pl.DataFrame({"a": [1, 2]}),
                "second": "\u0000table:0", "empty": pl.DataFrame({"a": []}), "list": [],
                "nested": {"deeper": ["x", {"y": None}]}}
    monkeypatch.setattr(json_out, "report_document", lambda report, tasks: document)
    written = json_out.render_json(None, None)  # type: ignore[arg-type]
    assert json.loads(written) == {
        "first": "\u0000table:0", "table": [{"a": 1}, {"a": 2}], "second": "\u0000table:0",
        "empty": [], "list": [], "nested": {"deeper": ["x", {"y": None}]}}
    plain = {key: value for key, value in document.items()
             if not isinstance(value, pl.DataFrame)}
    monkeypatch.setattr(json_out, "report_document", lambda report, tasks: plain)
    assert json_out.render_json(None, None) == (  # type: ignore[arg-type]
        json.dumps(plain, indent=2, ensure_ascii=False) + "\n").encode()


@pytest.mark.parametrize("args", [
    ("report", "--top", "99999999999999999999"),
    ("report", "--since", "1000000000d"),
    ("report", "--until", "99999999999w"),
    ("check", "--max-total", "inf"),
    ("check", "--max-task-cost", "1e400"),
    ("check", "--max-p90", "nan"),
    ("check", "--max-total", "1", "--max-p90-drift", "nan%", "--baseline", "BASELINE"),
    ("check", "--max-total", "1", "--max-p90-drift", "inf", "--baseline", "BASELINE"),
])
def test_numeric_options_out_of_range_are_usage_errors(run_cli, write_jsonl, args):
    path = tasks_log(write_jsonl, [10_000])
    command, *options = args
    baseline = path.with_name("baseline.json")
    baseline.write_text(run_cli("report", str(path), "-f", "json").stdout)
    result = run_cli(command, str(path), *(str(baseline) if word == "BASELINE" else word
                                           for word in options))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_check_does_not_pass_on_nothing_priced(run_cli, write_jsonl):
    """Every step on a model no table prices: each threshold has nothing to judge, exit 6."""
    path = write_jsonl([{"task_id": f"t{n}", "model": "my-finetune", "input_tokens": 1_000}
                        for n in range(4)])
    for threshold in ("--max-total", "--max-task-cost", "--max-p90"):
        result = run_cli("check", str(path), threshold, "0.01")
        assert result.exit_code == 6, (threshold, result.output)
        assert "nothing priced to check: none of the 4 tasks" in result.stdout
        assert run_cli("check", str(path), threshold, "0.01", "--allow-empty").exit_code == 0
