"""Unknown is never $0: tasks with unpriced steps stay out of the distribution and what it
decides (flags, P90 checks), and every format marks them."""

from __future__ import annotations

import csv
import io
import json

import pytest

import agentcost

# gpt-4o: $2.50 / 1M input, $10 / 1M output. 100,000 input + 1,000 output = $0.25 + $0.01.
PRICED_TASK_USD = 0.26


@pytest.fixture
def mixed(write_jsonl):
    """Three tasks on gpt-4o at $0.26 each, four on a model no table prices, and one whose
    LLM step is priced ($0.26) and whose tool is not."""
    records = [{"task_id": f"p{n}", "step": 1, "model": "gpt-4o", "input_tokens": 100_000,
                "output_tokens": 1_000, "timestamp": f"2026-12-06T10:0{n}:00Z"}
               for n in range(3)]
    records += [{"task_id": f"u{n}", "step": 1, "model": "my-finetune", "input_tokens": 50_000,
                 "output_tokens": 500, "timestamp": f"2026-12-06T11:0{n}:00Z"}
                for n in range(4)]
    return write_jsonl(records, name="mixed.jsonl")


def test_percentiles_are_over_the_tasks_priced_whole(mixed):
    report = agentcost.report(mixed)
    d = report.distribution
    assert d is not None
    assert (d.tasks, d.left_out) == (3, 4)
    assert d.percentiles == {50: PRICED_TASK_USD, 90: PRICED_TASK_USD, 99: PRICED_TASK_USD}
    assert d.flag_threshold == pytest.approx(2 * PRICED_TASK_USD)
    assert not report.tasks["flagged"].any()
    statuses = dict(report.tasks.select("task_id", "priced").iter_rows())
    assert statuses == {"p0": "whole", "p1": "whole", "p2": "whole", "u0": "unpriced",
                        "u1": "unpriced", "u2": "unpriced", "u3": "unpriced"}
    # Nothing of an unpriced task's cost is known: null, not $0.
    unpriced = report.tasks.filter(report.tasks["task_id"] == "u0").row(0, named=True)
    assert (unpriced["llm_cost_usd"], unpriced["total_cost_usd"]) == (None, None)


def test_the_terminal_says_what_the_distribution_left_out(run_cli, mixed):
    result = run_cli("report", str(mixed), "--no-color")
    text = result.stdout
    assert "3 tasks; nearest-rank percentiles" in text
    assert "4 tasks left out: unpriced steps" in text
    assert "high (red): above 2 x P50 = $0.52" in text
    assert "high\n" not in text  # no row flagged
    u0 = next(line for line in text.splitlines() if line.startswith("u0 "))
    assert u0.split("│")[4].strip() == "unpriced" and u0.split("│")[6].strip() == "unpriced"


def test_check_on_p90_passes_and_says_what_it_did_not_check(run_cli, mixed):
    result = run_cli("check", str(mixed), "--max-p90", "0.30")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert ("4 tasks with unpriced steps not checked against P90 (it is over the 3 tasks "
            "priced whole)") in result.stderr
    assert run_cli("check", str(mixed), "--max-p90", "0.25").exit_code == 4


def test_a_partly_priced_task_is_marked_in_every_format(run_cli, write_jsonl):
    """t1: an LLM step at $0.26 and a tool no table prices: its $0.26 is a lower bound."""
    path = write_jsonl([
        {"task_id": "t1", "step": 1, "model": "gpt-4o", "input_tokens": 100_000,
         "output_tokens": 1_000},
        {"task_id": "t1", "step": 2, "tool_name": "internal_search"},
        {"task_id": "t2", "step": 1, "model": "gpt-4o", "input_tokens": 100_000,
         "output_tokens": 1_000},
    ])
    table = run_cli("report", str(path), "--no-color").stdout
    t1 = next(line for line in table.splitlines() if line.startswith("t1 "))
    cells = [cell.strip() for cell in t1.split("│")]
    assert cells[4:7] == ["$0.26", "unpriced", "$0.26 partial"]
    assert "partial: has unpriced steps, its priced part only" in " ".join(table.split())

    rows = json.loads(run_cli("report", str(path), "-f", "json").stdout)["tasks"]["rows"]
    t1_row = next(row for row in rows if row["task_id"] == "t1")
    assert (t1_row["priced"], t1_row["total_cost_usd"], t1_row["tool_cost_usd"]) == (
        "partial", PRICED_TASK_USD, None)

    spreadsheet = list(csv.DictReader(io.StringIO(
        run_cli("report", str(path), "-f", "csv").stdout)))
    t1_csv = next(row for row in spreadsheet if row["task_id"] == "t1")
    assert (t1_csv["priced"], t1_csv["total_cost_usd"], t1_csv["tool_cost_usd"]) == (
        "partial", "0.26", "")

    markdown = run_cli("report", str(path), "-f", "markdown").stdout
    assert "| $0.26 partial |" in markdown and "| unpriced |" in markdown

    page = run_cli("report", str(path), "-f", "html").stdout
    assert "$0.26 partial" in page and ">unpriced<" in page
    assert "* Totals exclude the unpriced: 0 LLM steps and 1 tool call" in page


def test_an_llm_step_with_neither_model_nor_tokens_is_unpriced(write_jsonl):
    path = write_jsonl([
        {"task_id": "t1", "step": 1, "kind": "llm"},
        {"task_id": "t1", "step": 2, "kind": "tool", "tool_name": "web_search"},
    ])
    report = agentcost.report(path)
    assert report.summary.unpriced_steps == 1
    assert report.unpriced_models.row(0, named=True)["unpriced_reason"] == (
        "no model and no token counts recorded")
    assert report.tasks.row(0, named=True)["priced"] == "partial"


def test_a_phoenix_llm_span_with_neither_model_nor_tokens_is_unpriced(tmp_path):
    spans = [{"name": "ChatModel", "context": {"trace_id": "0x" + "a" * 32,
                                               "span_id": "0x" + "1" * 16},
              "parent_id": None, "start_time": "2026-12-06T10:00:00Z",
              "end_time": "2026-12-06T10:00:01Z",
              "attributes": {"openinference.span.kind": "LLM"}}]
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(spans))
    report = agentcost.report(path)
    assert report.summary.steps == 1
    assert report.summary.unpriced_steps == 1


def test_a_last_hour_of_unpriced_steps_has_no_rate_and_no_projection(run_cli, mixed):
    """The last hour holds only the four my-finetune steps: its cost is unknown, not $0."""
    text = run_cli("report", str(mixed), "--no-color").stdout
    assert "Last hour: unknown, every one of its 4 steps has an unpriced part" in text
    assert "$0.00 a day" not in text
    rate = json.loads(run_cli("report", str(mixed), "-f", "json").stdout)["dashboard"][
        "spend_rate"]
    assert (rate["last_hour_usd"], rate["projected_day_usd"], rate["steps_last_hour"],
            rate["unpriced_steps_last_hour"]) == (None, None, 4, 4)
