"""Named scenarios side by side, and simulate's CSV and JSON holding every figure the table
shows (waterfall, each strategy alone, the budget sweep), against hand-computed costs."""

from __future__ import annotations

import csv
import io
import json

import pytest

from agentcost import api
from agentcost.renderers.dispatch import render_bytes
from agentcost.simulation.scenario import CacheRule, Route, Scenario

PRICES = """
models:
  big: {input: 3.0, output: 15.0}
  small: {input: 0.2, output: 1.0}
tools:
  web_search: {per_call: 0.01}
"""
T0 = 1_795_000_000
# big: $3 in, $15 out per 1M; small: $0.20 in, $1 out; web_search $0.01 a call.
#   t1: draft on big, 10,000 in + 1,000 out = $0.03 + $0.015 = $0.045; a search: $0.01
#   t2: draft on big, 20,000 in + 2,000 out = $0.06 + $0.03 = $0.09; the same search a
#       minute later: $0.01
#   t3: plan on big, 100,000 in + 10,000 out = $0.30 + $0.15 = $0.45
# Baseline: t1 $0.055, t2 $0.10, t3 $0.45 = $0.605; nearest-rank P50 (rank 2 of 3) $0.10,
# P90 and P99 (rank 3) $0.45.
# mini (draft -> small): t1 $0.002 + $0.001 + $0.01 = $0.013, t2 $0.004 + $0.002 + $0.01 =
#   $0.016: $0.479, saving $0.126 (20.8% of $0.605); P50 $0.016.
# cached (web_search for an hour): t2's search repeats t1's: $0.595, saving $0.01 (1.7%);
#   t2 $0.09 is the P50.
SCENARIOS = (
    Scenario(name="mini", routes=(Route("draft", "small"),)),
    Scenario(name="cached", cache=(CacheRule("web_search", 3_600),)),
)


@pytest.fixture
def comparison(write_jsonl, write_prices):
    def llm(task, name, tokens_in, tokens_out):
        return {"task_id": task, "step_number": 1, "name": name, "model": "big",
                "input_tokens": tokens_in, "output_tokens": tokens_out, "timestamp": T0}

    def search(task, at):
        return {"task_id": task, "step_number": 2, "tool": "web_search",
                "tool_args": {"q": "x"}, "timestamp": T0 + at}

    path = write_jsonl([llm("t1", "draft", 10_000, 1_000), search("t1", 1),
                        llm("t2", "draft", 20_000, 2_000), search("t2", 60),
                        llm("t3", "plan", 100_000, 10_000)])
    # $1 a task cuts nothing (the dearest is $0.45); $0.20 stops t3, whose one step costs more.
    return api.compare([str(path)], SCENARIOS, budgets=(1.0,),
                       prices=str(write_prices(PRICES)))


def trimmed(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines())


def rows_of(text: str, title: str) -> list[list[str]]:
    block = trimmed(text).split(title + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [[cell.strip() for cell in line.split("│")] for line in block if "│" in line]


def test_named_scenarios_side_by_side_in_80_columns(comparison):
    text = render_bytes(comparison, "table", width=80).decode()
    table = trimmed(text).split("Scenarios side by side\n", 1)[1].split("\n\n", 1)[0]
    assert [cell.strip() for cell in table.splitlines()[0].split("┃")] == [
        "", "baseline", "mini", "cached"]
    assert rows_of(text, "Scenarios side by side") == [
        ["total", "$0.605", "$0.479", "$0.595"],
        ["saving", "-", "$0.126", "$0.01"],
        ["of baseline", "-", "20.8%", "1.7%"],
        ["P50", "$0.10", "$0.016", "$0.09"],
        ["P90", "$0.45", "$0.45", "$0.45"],
        ["P99", "$0.45", "$0.45", "$0.45"],
        ["steps", "5", "5", "5"],
    ]
    assert max(len(line) for line in text.splitlines()) <= 80
    # Each scenario's own strategies follow; its totals are not repeated block by block.
    assert "Scenario: mini" in text and "Scenario: cached" in text
    assert "Result" not in text


def test_one_scenario_keeps_its_own_result(comparison):
    single = api.Comparison(comparison.simulations[:1])
    text = render_bytes(single, "table", width=80).decode()
    assert "Scenarios side by side" not in text
    assert "Baseline $0.605  ->  scenario $0.479  (saving $0.126, 20.8%)" in text


def test_markdown_has_the_side_by_side_table(comparison):
    text = render_bytes(comparison, "markdown").decode()
    assert "| total | $0.605 | $0.479 | $0.595 |" in text
    assert "| saving | - | $0.126 | $0.01 |" in text


def test_csv_holds_every_stage_each_strategy_alone_and_the_sweep(comparison):
    rows = list(csv.DictReader(io.StringIO(render_bytes(comparison, "csv").decode())))
    figures = [(r["part"], r["scenario"], r["stage"], r["total_usd"], r["saving_usd"])
               for r in rows]
    assert figures == [
        ("baseline", "mini", "baseline", "0.6050000000", "0.0000000000"),
        ("waterfall", "mini", "routing", "0.4790000000", "0.1260000000"),
        ("alone", "mini", "routing", "0.4790000000", "0.1260000000"),
        ("result", "mini", "result", "0.4790000000", "0.1260000000"),
        ("baseline", "cached", "baseline", "0.6050000000", "0.0000000000"),
        ("waterfall", "cached", "caching", "0.5950000000", "0.0100000000"),
        ("alone", "cached", "caching", "0.5950000000", "0.0100000000"),
        ("result", "cached", "result", "0.5950000000", "0.0100000000"),
        ("budget_sweep", "", "", "", "0.0000000000"),
    ]
    result = rows[3]
    assert (result["steps"], result["tasks"], result["p50_usd"], result["p90_usd"],
            result["p99_usd"]) == ("5", "3", "0.0160000000", "0.4500000000", "0.4500000000")
    sweep = rows[-1]
    assert (sweep["budget_usd"], sweep["tasks_cut"], sweep["runaways_cut"],
            sweep["normal_tasks_cut"]) == ("1.0000000000", "0", "0", "0")
    # A figure a row does not have is an empty cell, never 0.
    assert rows[1]["steps"] == "" and rows[2]["unpriced_steps"] == ""


def test_json_holds_every_scenario_and_the_sweep(comparison):
    document = json.loads(render_bytes(comparison, "json"))
    mini, cached = document["simulations"]
    assert mini["baseline"]["total_usd"] == pytest.approx(0.605)
    assert mini["result"]["total_usd"] == pytest.approx(0.479)
    assert mini["alone"] == [{"strategy": "routing", "total_usd": pytest.approx(0.479)}]
    assert cached["result"]["p50_usd"] == pytest.approx(0.09)
    assert document["budget_sweep"] == [{"budget_usd": 1.0, "tasks_cut": 0, "runaways_cut": 0,
                                         "runaway_tasks": 0, "normal_tasks_cut": 0,
                                         "saving_usd": 0.0}]
