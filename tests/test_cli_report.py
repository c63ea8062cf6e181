"""`agentcost report` end to end: formats, sorting, percentiles, exit codes, untrusted text."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading

import pytest

from tests.conftest import SAMPLES


def costs_log(write_jsonl, costs_in_output_tokens):
    """One task per entry; gpt-4o output tokens at $10/1M, so 100,000 tokens cost $1."""
    return write_jsonl([
        {"task_id": f"task-{i:02d}", "model": "gpt-4o", "output_tokens": tokens,
         "timestamp": f"2026-11-27T10:{i:02d}:00Z"}
        for i, tokens in enumerate(costs_in_output_tokens)
    ])


def test_percentiles_are_nearest_rank_and_flags_use_twice_p50(run_cli, write_jsonl):
    # Ten tasks costing $0.01 .. $0.10, plus one runaway at $1.00.
    tokens = [1_000 * i for i in range(1, 11)] + [100_000]
    result = run_cli("report", str(costs_log(write_jsonl, tokens)), "--format", "json")
    document = json.loads(result.stdout)
    distribution = document["distribution"]
    # n = 11: P50 is rank ceil(5.5) = 6 -> $0.06; P90 rank ceil(9.9) = 10 -> $0.10; P99 -> $1.00
    assert distribution["p50_usd"] == pytest.approx(0.06)
    assert distribution["p90_usd"] == pytest.approx(0.10)
    assert distribution["p99_usd"] == pytest.approx(1.00)
    assert distribution["max_usd"] == pytest.approx(1.00)
    assert distribution["mean_usd"] == pytest.approx((0.55 + 1.0) / 11)
    assert distribution["flag_threshold_usd"] == pytest.approx(0.12)
    flagged = [row["task_id"] for row in document["tasks"]["rows"] if row["flagged"]]
    assert flagged == ["task-10"]


def test_sort_and_top(run_cli, write_jsonl):
    path = costs_log(write_jsonl, [5_000, 1_000, 3_000])
    by_total = run_cli("report", str(path), "--format", "json", "--top", "2")
    rows = json.loads(by_total.stdout)["tasks"]
    assert [r["task_id"] for r in rows["rows"]] == ["task-00", "task-02"]
    assert (rows["shown"], rows["total"]) == (2, 3)
    by_name = run_cli("report", str(path), "--format", "json", "--sort", "task")
    assert [r["task_id"] for r in json.loads(by_name.stdout)["tasks"]["rows"]] == [
        "task-00", "task-01", "task-02"]


def test_equal_totals_tie_on_task_id_however_the_floats_add_up(run_cli, write_jsonl,
                                                               write_prices):
    # In floats 0.1 + 0.2 = 0.30000000000000004 > 0.3: summed exactly, both tasks cost $0.30
    # and the tie is broken by task id, whatever order the additions happened in.
    prices = write_prices("extends: default\ntools:\n  a:\n    per_call: 0.1\n"
                          "  b:\n    per_call: 0.2\n  c:\n    per_call: 0.3\n")
    path = write_jsonl([{"task_id": "two-calls", "tool_name": "a"},
                        {"task_id": "two-calls", "tool_name": "b"},
                        {"task_id": "one-call", "tool_name": "c"}])
    result = run_cli("report", str(path), "--prices", str(prices), "--format", "json")
    rows = json.loads(result.stdout)["tasks"]["rows"]
    assert [(r["task_id"], r["total_cost_usd"]) for r in rows] == [("one-call", 0.3),
                                                                  ("two-calls", 0.3)]


def test_decimal_points_line_up_in_the_terminal_table(run_cli, write_jsonl):
    # $12.34 (cents from a dollar up), $0.50 and $0.01237 (three significant digits below a
    # dollar: $0.0124): the units digits share a column, so magnitudes compare at a glance.
    path = costs_log(write_jsonl, [1_234_000, 50_000, 1_237])
    table = run_cli("report", str(path), "--no-color").stdout
    rows = [line for line in table.splitlines() if line.startswith("task-0")]
    assert len(rows) == 3
    points = {line.split("│")[4].index(".") for line in rows}
    assert len(points) == 1, rows
    assert [line.split("│")[4].strip() for line in rows] == ["$12.34", "$0.50", "$0.0124"]


def test_json_holds_everything_the_table_shows(run_cli):
    result = run_cli("report", str(SAMPLES / "agents.jsonl"), "--format", "json")
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    assert set(document) >= {"summary", "distribution", "tasks", "by_model", "by_tool",
                             "unpriced", "lines"}
    summary = document["summary"]
    total = sum(row["total_cost_usd"] for row in document["tasks"]["rows"])
    assert total == pytest.approx(summary["cost_usd"]["total"], rel=1e-12)
    by_model = sum(row["llm_cost_usd"] for row in document["by_model"])
    assert by_model == pytest.approx(summary["cost_usd"]["llm"], rel=1e-12)
    by_tool = sum(row["tool_cost_usd"] for row in document["by_tool"])
    assert by_tool == pytest.approx(summary["cost_usd"]["tool"], rel=1e-12)
    assert document["lines"]["read"] == document["lines"]["used"] == summary["steps"]
    assert [t["tool_name"] for t in document["unpriced"]["tools"]] == ["run_tests"]


def test_untrusted_text_cannot_inject(run_cli, write_jsonl):
    evil = ["[red]x[/red]", "\x1b[2J\x1b]0;pwned\x07", "=HYPERLINK(\"http://e\")",
            "<script>alert(1)</script>", "a|b`c`**d**", "\u202etxt.exe"]
    path = write_jsonl([{"task_id": task, "model": "gpt-4o", "output_tokens": 10}
                        for task in evil])
    table = run_cli("report", str(path), "--color")
    assert "[red]x[/red]" in table.stdout
    assert "\x1b[2J" not in table.stdout and "\x07" not in table.stdout
    assert "\\x1b[2J" in table.stdout
    csv_text = run_cli("report", str(path), "--format", "csv").stdout
    task_ids = [row["task_id"] for row in csv.DictReader(io.StringIO(csv_text))]
    assert "'=HYPERLINK(\"http://e\")" in task_ids
    assert not any(task.startswith(("=", "+", "-", "@")) for task in task_ids)
    markdown = run_cli("report", str(path), "--format", "markdown").stdout
    assert "<script>" not in markdown and "&lt;script>" in markdown
    assert "a\\|b\\`c\\`\\*\\*d\\*\\*" in markdown
    page = run_cli("report", str(path), "--format", "html").stdout
    assert "<script>alert" not in page and "\x1b" not in page and "\u202e" not in page
    assert "\\u202etxt.exe" in page and "\\x1b[2J" in page


def test_output_file_is_written_whole(run_cli, tmp_path):
    target = tmp_path / "report.json"
    result = run_cli("report", str(SAMPLES / "research_agent.jsonl"), "--format", "json",
                     "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(target.read_text())["summary"]["steps"] == 10
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_or_device_is_written_in_place_not_replaced(run_cli, tmp_path):
    """`-o /dev/null` or a FIFO must receive the report; renaming a temporary file over it
    would put a regular file where the device or pipe was."""
    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = run_cli("report", str(SAMPLES / "research_agent.jsonl"), "--format", "json",
                     "-o", str(pipe))
    reader.join(timeout=30)
    assert result.exit_code == 0
    assert json.loads(received[0])["summary"]["steps"] == 10
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_an_interrupted_write_leaves_the_old_report_and_no_temporary_file(tmp_path,
                                                                         monkeypatch):
    from agentcost.renderers import output

    report = tmp_path / "report.json"
    report.write_text("yesterday's report")

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        output.write_output("today's report", report)
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]
    assert report.read_text() == "yesterday's report"


def test_a_symlinked_output_keeps_its_link(run_cli, tmp_path):
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    result = run_cli("report", str(SAMPLES / "research_agent.jsonl"), "--format", "json",
                     "-o", str(link))
    assert result.exit_code == 0
    assert link.is_symlink()
    assert json.loads(real.read_text())["summary"]["steps"] == 10


def test_stdin(run_cli):
    text = (SAMPLES / "research_agent.jsonl").read_text()
    result = run_cli("report", "-", "--format", "json", input=text)
    assert json.loads(result.stdout)["summary"]["cost_usd"]["total"] == pytest.approx(0.142)


def test_exit_codes(run_cli, write_jsonl, tmp_path, write_prices):
    good = str(SAMPLES / "research_agent.jsonl")
    assert run_cli("report", good).exit_code == 0
    assert run_cli("report", good, "--strict").exit_code == 0
    unpriced = write_jsonl([{"task_id": "a", "model": "no-such-model", "input_tokens": 5}])
    result = run_cli("report", str(unpriced), "--strict")
    assert result.exit_code == 3
    assert "unpriced" in result.stderr
    skipped = write_jsonl([{"task_id": "a", "model": "gpt-4o", "input_tokens": 5}, "{bad"],
                          name="skipped.jsonl")
    assert run_cli("report", str(skipped)).exit_code == 0
    assert run_cli("report", str(skipped), "--strict").exit_code == 3
    # A span list whose second span is not an object: the first is read, the run fails --strict.
    span = {"name": "chat", "context": {"trace_id": "0x" + "a" * 32, "span_id": "0x" + "1" * 16},
            "attributes": {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 5,
                           "gen_ai.usage.output_tokens": 1}}
    bad_span = tmp_path / "spans.json"
    bad_span.write_text(json.dumps([span, 42]))
    assert run_cli("report", str(bad_span)).exit_code == 0
    assert run_cli("report", str(bad_span), "--strict").exit_code == 3
    all_bad = write_jsonl(["{bad", "[]"], name="bad.jsonl")
    result = run_cli("report", str(all_bad))
    assert result.exit_code == 1
    assert "no usable line" in result.stderr and "bad.jsonl:1" in result.stderr
    missing = run_cli("report", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    # A name that holds a terminal escape is shown, not obeyed.
    escaping = run_cli("report", str(tmp_path / "\x1b[31mnope.jsonl"))
    assert escaping.exit_code == 1 and "\\x1b[31mnope.jsonl" in escaping.stderr
    assert "\x1b" not in escaping.stderr
    bad_prices = write_prices("models:\n  m:\n    input: -1\n    output: 1\n")
    result = run_cli("report", good, "--prices", str(bad_prices))
    assert result.exit_code == 1 and f"{bad_prices}:3:" in result.stderr
    assert run_cli("report", good, "--format", "pdf").exit_code == 2
    assert run_cli("report", good, "--top", "0").exit_code == 2


def test_empty_input_says_so(run_cli, write_jsonl, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = run_cli("report", str(empty))
    assert result.exit_code == 0
    assert "No steps in the input." in result.stdout
    assert "the input is empty" in result.stderr


def test_help_does_not_import_polars():
    code = ("import sys; from agentcost.cli import app; "
            "print(any(m.split('.')[0] in ('polars', 'tiktoken') for m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True)
    assert completed.stdout.strip() == "False"


def test_schema_command_publishes_the_format(run_cli):
    schema = json.loads(run_cli("schema").stdout)
    properties = schema["properties"]
    for field in ("task_id", "step_number", "llm_input_tokens", "llm_output_tokens",
                  "llm_cost_usd", "tool_name", "tool_cost_usd", "compute_time_seconds", "step",
                  "input_tokens", "prompt_tokens", "output_tokens", "completion_tokens",
                  "cached_input_tokens", "cache_read_tokens", "model", "tool", "tool_args",
                  "timestamp", "user", "workflow"):
        assert field in properties, field
    assert properties["input_tokens"]["minimum"] == 0


@pytest.mark.parametrize(("value", "shown"), [
    (0.3365, "$0.337"),         # the float is a hair under ...5: its decimal rounds up
    (0.409128, "$0.409"),       # below a dollar: three significant digits
    (0.0597, "$0.0597"),
    (0.000323, "$0.000323"),
    (0.009996, "$0.01"),        # rounds up to a cent: trailing zeros past the cents dropped
    (0.5, "$0.50"),             # never fewer than two decimals
    (0.9996, "$1.00"),          # rounds up to a dollar: cents
    (66.408, "$66.41"),         # from a dollar up: cents
    (12.345, "$12.35"),
    (1234.565, "$1,234.57"),
    (0.0, "$0.00"),
    (-1e-17, "$0.00"),          # float noise, zero at the ten places costs are kept to
    (-0.0000001, "-$0.0000001"),
    (-0.5, "-$0.50"),
])
def test_money_rounds_half_up_as_a_hand_calculation_does(value, shown):
    from agentcost.renderers.text import money

    assert money(value) == shown


def test_a_shown_total_is_the_sum_of_its_shown_parts(run_cli):
    """task-0000225 of the sample costs $0.3035725 of LLM and $0.033 of tools: shown to three
    significant digits, $0.304 + $0.033 = $0.337, its total $0.3365725."""
    result = run_cli("report", str(SAMPLES / "agents.jsonl"), "--top", "50", "--no-color")
    row = next(line for line in result.stdout.splitlines() if line.startswith("task-0000225"))
    assert [cell.strip() for cell in row.split("│")][4:7] == ["$0.304", "$0.033", "$0.337"]


@pytest.mark.parametrize("wrapped", [False, True])
def test_ctrl_c_while_starting_up_exits_130_without_a_traceback(monkeypatch, wrapped):
    """A Ctrl-C that lands while a class is being made at import time reaches us wrapped in a
    RuntimeError; plain or wrapped, it is an interruption, exit code 130."""
    import agentcost.cli
    from agentcost.__main__ import EXIT_INTERRUPTED, run

    def interrupted() -> None:
        if not wrapped:
            raise KeyboardInterrupt
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as cause:
            raise RuntimeError("Error calling __set_name__") from cause

    def exit_now(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(sys, "argv", ["agentcost", "--version"])
    monkeypatch.setattr(agentcost.cli, "main", interrupted)
    monkeypatch.setattr(os, "_exit", exit_now)
    with pytest.raises(SystemExit) as ended:
        run()
    assert ended.value.code == EXIT_INTERRUPTED == 130


def test_a_runtime_error_of_our_own_is_not_taken_for_ctrl_c(monkeypatch):
    import agentcost.cli
    from agentcost.__main__ import run

    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(sys, "argv", ["agentcost", "--version"])
    monkeypatch.setattr(agentcost.cli, "main", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        run()
