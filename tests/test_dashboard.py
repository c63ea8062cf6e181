"""Dashboard panels on a small log, against hand-computed figures."""

from __future__ import annotations

import json

import pytest

from agentcost.analysis.dashboard import histogram, nice_edges, top_share
from tests.conftest import SAMPLES


def report_of(run_cli, path, *extra):
    result = run_cli("report", str(path), "-f", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_spend_rate_and_projections(run_cli, write_jsonl):
    # gpt-4o output at $10/1M: 10,000 tokens = $0.10. Ten steps, one every 30 minutes, from
    # 00:00 to 04:30, each lasting 0 s: the window is 4.5 h.
    path = write_jsonl([
        {"task_id": f"t{i}", "model": "gpt-4o", "output_tokens": 10_000 * (i + 1),
         "timestamp": f"2026-11-27T{i // 2:02d}:{30 * (i % 2):02d}:00Z", "duration_s": 0}
        for i in range(10)
    ])
    board = report_of(run_cli, path)["dashboard"]
    rate = board["spend_rate"]
    total = sum(0.1 * (i + 1) for i in range(10))  # $5.50
    assert rate["window_hours"] == pytest.approx(4.5)
    assert rate["per_hour_usd"] == pytest.approx(total / 4.5)
    # The last hour is [03:30, 04:30]: steps at 03:30, 04:00, 04:30 = $0.80 + $0.90 + $1.00
    assert rate["last_hour_usd"] == pytest.approx(2.7)
    assert rate["tasks_last_hour"] == 3
    assert rate["projected_day_usd"] == pytest.approx(2.7 * 24)
    assert rate["projected_month_usd"] == pytest.approx(2.7 * 24 * 30)


def test_histogram_concentration_and_positions(run_cli, write_jsonl):
    # 20 tasks: 18 of 3 steps at $0.01 a step ($0.03 a task), 2 runaways of 10 steps ($0.10).
    records = []
    for task in range(20):
        for step in range(1, (10 if task < 2 else 3) + 1):
            records.append({"task_id": f"t{task:02d}", "step_number": step, "model": "gpt-4o",
                            "output_tokens": 1_000})
    board = report_of(run_cli, write_jsonl(records), "--by", "model")["dashboard"]
    bins = {(b["above_usd"], b["up_to_usd"]): b["tasks"] for b in board["histogram"]}
    assert bins == {(0.0, 0.05): 18, (0.05, 0.1): 2}  # edges on the 1-2-5 series
    # top 1% of 20 tasks = 1 task ($0.10 of $0.74); top 10% = 2 tasks ($0.20)
    assert board["top_1_percent"] == {"tasks": 1, "share": pytest.approx(0.1 / 0.74, abs=1e-6)}
    assert board["top_10_percent"] == {"tasks": 2,
                                       "share": pytest.approx(0.2 / 0.74, abs=1e-6)}
    positions = {row["position"]: row for row in board["by_step_position"]}
    assert positions[1]["steps"] == 20 and positions[4]["steps"] == 2
    assert positions[1]["mean_cost_usd"] == pytest.approx(0.01)
    [row] = board["breakdown"]["rows"]
    assert row == {"model": "gpt-4o", "steps": 74, "tasks": 20, "unpriced_steps": 0,
                   "cost_usd": pytest.approx(0.74), "share": pytest.approx(1.0)}


def test_breakdown_by_day_is_in_time_order(run_cli, write_jsonl):
    path = write_jsonl([
        {"task_id": "a", "model": "gpt-4o", "output_tokens": 1_000,
         "timestamp": "2026-11-27T10:00:00Z"},
        {"task_id": "b", "model": "gpt-4o", "output_tokens": 5_000,
         "timestamp": "2026-11-26T10:00:00Z"},
    ])
    rows = report_of(run_cli, path, "--by", "day")["dashboard"]["breakdown"]["rows"]
    assert [r["day"] for r in rows] == ["2026-11-26", "2026-11-27"]
    assert [r["cost_usd"] for r in rows] == pytest.approx([0.05, 0.01])


def test_bins_and_shares_by_hand():
    assert nice_edges(0.003, 0.04) == [0.0, 0.005, 0.01, 0.02, 0.05]
    bins = histogram([0.004, 0.01, 0.011, 0.05])
    assert [(b.low, b.high, b.tasks) for b in bins] == [
        (0.0, 0.005, 1), (0.005, 0.01, 1), (0.01, 0.02, 1), (0.02, 0.05, 1)]
    assert top_share([1.0, 1.0, 2.0], 10) == (1, 0.5)


def test_step_position_means_leave_out_steps_whose_cost_is_unknown(run_cli, write_jsonl):
    """An unpriced step's cost is unknown, not zero: it is counted among the steps at its
    position but left out of their mean; a position with no priced step has no mean."""
    records = [
        # position 1: two priced steps ($0.01, $0.03) and one on a model no table knows
        {"task_id": "a", "step_number": 1, "model": "gpt-4o", "output_tokens": 1_000},
        {"task_id": "b", "step_number": 1, "model": "gpt-4o", "output_tokens": 3_000},
        {"task_id": "c", "step_number": 1, "model": "not-a-model", "output_tokens": 9_000},
        # position 2: only a step with a priced call and an unpriced tool
        {"task_id": "a", "step_number": 2, "model": "gpt-4o", "output_tokens": 1_000,
         "tool_name": "not_a_tool"},
    ]
    board = report_of(run_cli, write_jsonl(records))["dashboard"]
    positions = {row["position"]: row for row in board["by_step_position"]}
    assert positions[1]["steps"] == 3 and positions[1]["priced_steps"] == 2
    assert positions[1]["mean_cost_usd"] == pytest.approx(0.02)
    assert positions[2]["steps"] == 1 and positions[2]["priced_steps"] == 0
    assert positions[2]["mean_cost_usd"] is None


def test_a_breakdown_row_with_unpriced_steps_is_marked(run_cli, write_jsonl):
    path = write_jsonl([
        {"task_id": "a", "workflow": "coding", "model": "gpt-4o", "output_tokens": 1_000,
         "tool_name": "not_a_tool"},
        {"task_id": "b", "workflow": "research", "model": "gpt-4o", "output_tokens": 1_000},
    ])
    rows = {r["workflow"]: r for r in
            report_of(run_cli, path, "--by", "workflow")["dashboard"]["breakdown"]["rows"]}
    assert rows["coding"]["unpriced_steps"] == 1 and rows["research"]["unpriced_steps"] == 0
    table = run_cli("report", str(path), "--by", "workflow", "--no-color").stdout
    assert "coding *" in table and "research *" not in table
    assert "*: has unpriced steps, excluded from its cost" in table.replace("\n", " ")


def test_a_window_under_an_hour_has_no_rate_and_no_projection(run_cli, write_jsonl):
    # Two steps ten minutes apart, gpt-4o output at $10/1M: 10,000 tokens = $0.10 each, $0.20
    # over a 10-minute window. An hourly rate ($1.20) and a day at "the last hour's" cost
    # ($4.80) would contradict each other; neither is shown, the spend over the window is.
    path = write_jsonl([
        {"task_id": f"t{i}", "model": "gpt-4o", "output_tokens": 10_000,
         "timestamp": f"2026-11-27T10:{10 * i:02d}:00Z", "duration_s": 0} for i in range(2)])
    rate = report_of(run_cli, path)["dashboard"]["spend_rate"]
    assert rate["window_hours"] == pytest.approx(10 / 60, abs=1e-6)
    assert rate["window_cost_usd"] == pytest.approx(0.2)
    assert (rate["per_hour_usd"], rate["last_hour_usd"], rate["projected_day_usd"],
            rate["projected_month_usd"]) == (None, None, None, None)
    text = run_cli("report", str(path), "--no-color").stdout
    panel = text.split("Spend rate\n")[1].split("\n\n")[0].splitlines()
    assert panel == ["$0.20 over the 10m window, across 2 tasks",
                     "The window is shorter than an hour: no hourly rate, no projection"]


def test_by_tool_accounts_for_every_step(run_cli, write_jsonl):
    # gpt-4o output at $10/1M and web_search at $0.005 a call (the shipped table):
    #   t1: an LLM step of 10,000 output tokens ($0.10), then a web_search call ($0.005)
    #   t2: an LLM step of 20,000 output tokens ($0.20) that also calls web_search ($0.005)
    # By tool: web_search = $0.005 + $0.205 = $0.21 over 2 steps; (no tool) = $0.10; total
    # $0.31.
    path = write_jsonl([
        {"task_id": "t1", "step": 1, "model": "gpt-4o", "output_tokens": 10_000},
        {"task_id": "t1", "step": 2, "tool_name": "web_search"},
        {"task_id": "t2", "step": 1, "model": "gpt-4o", "output_tokens": 20_000,
         "tool_name": "web_search"},
    ])
    document = report_of(run_cli, path, "--by", "tool")
    rows = document["dashboard"]["breakdown"]["rows"]
    assert [(r["tool"], r["steps"], r["tasks"], r["cost_usd"]) for r in rows] == [
        ("web_search", 2, 2, pytest.approx(0.21)), ("(no tool)", 1, 1, pytest.approx(0.10))]
    assert sum(r["cost_usd"] for r in rows) == pytest.approx(
        document["summary"]["cost_usd"]["total"])
    assert [r["share"] for r in rows] == [pytest.approx(0.21 / 0.31), pytest.approx(0.1 / 0.31)]


def test_each_section_title_has_one_meaning(run_cli):
    # --by model adds the total cost by model (tools and compute included) beside the LLM cost
    # by model: two figures, two titles.
    text = run_cli("report", str(SAMPLES / "research_agent.jsonl"), "--by", "model",
                   "--no-color").stdout
    titles = [line.rstrip() for line in text.splitlines()
              if line.startswith(("LLM cost by", "Tool cost by", "Total cost by", "Cost by"))]
    assert titles == ["LLM cost by model", "Tool cost by tool", "Cost by step position",
                      "Total cost by model"]
    # gpt-4o: $0.129 of LLM calls; with the 5 tool calls' $0.013, $0.142 in total.
    llm = text.split("LLM cost by model")[1].split("\n\n")[0]
    total = text.split("Total cost by model")[1].split("\n\n")[0]
    assert "$0.129" in llm and "$0.142" in total


def test_by_agent_and_by_workflow_differ_where_steps_record_both(run_cli, write_jsonl):
    # gpt-4o output at $10/1M: 10,000 tokens = $0.10. Task t1 is the research workflow run by
    # a planner ($0.10) and a writer ($0.20); t2 records only its agent, the writer ($0.30),
    # which then stands for its workflow too; t3 records neither ($0.40).
    path = write_jsonl([
        {"task_id": "t1", "model": "gpt-4o", "output_tokens": 10_000, "workflow": "research",
         "agent": "planner"},
        {"task_id": "t1", "model": "gpt-4o", "output_tokens": 20_000, "workflow": "research",
         "agent": "writer"},
        {"task_id": "t2", "model": "gpt-4o", "output_tokens": 30_000, "agent_name": "writer"},
        {"task_id": "t3", "model": "gpt-4o", "output_tokens": 40_000},
    ])

    def rows(by):
        breakdown = report_of(run_cli, path, "--by", by)["dashboard"]["breakdown"]["rows"]
        return [(r[by], r["steps"], r["tasks"], round(r["cost_usd"], 6)) for r in breakdown]

    assert rows("agent") == [("writer", 2, 2, 0.5), ("(none)", 1, 1, 0.4),
                             ("planner", 1, 1, 0.1)]
    assert rows("workflow") == [("(none)", 1, 1, 0.4), ("research", 2, 1, 0.3),
                                ("writer", 1, 1, 0.3)]
