"""`agentcost simulate --format html` in a browser: a page per comparison, each scenario's
waterfall drawn as a chart with its figures, scenario names shown as text."""

from __future__ import annotations

import pytest

from agentcost.renderers.text import money
from tests.test_html_report import CHROMIUM, chromium
from tests.test_html_screenshots import Page

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")


def test_simulate_page_draws_each_waterfall(run_cli, write_jsonl, tmp_path):
    # Two tasks of one gpt-4o "summarize" step (1,000 in, 100 out: $0.0025 + $0.001 = $0.0035)
    # and two "plan" steps of 2,000 in ($0.005 each): baseline 2 x $0.0135 = $0.027.
    # Routed to gpt-4o-mini, a summarize step costs $0.00015 + $0.00006 = $0.00021:
    # 2 x ($0.0035 - $0.00021) = $0.00658 off, scenario $0.02042.
    records = [{"task_id": task, "step_number": 1, "step_name": "summarize", "model": "gpt-4o",
                "input_tokens": 1_000, "output_tokens": 100} for task in ("a", "b")]
    records += [{"task_id": task, "step_number": step, "step_name": "plan", "model": "gpt-4o",
                 "input_tokens": 2_000, "output_tokens": 0} for task in ("a", "b")
                for step in (2, 3)]
    trace = write_jsonl(records)
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text("scenarios:\n  '<b>cheap</b>':\n    route: [summarize=gpt-4o-mini]\n"
                         "  capped:\n    budget: 0.006\n", encoding="utf-8")
    page = tmp_path / "simulate.html"
    result = run_cli("simulate", str(trace), "--scenario", str(scenarios), "-f", "html",
                     "-o", str(page))
    assert result.exit_code == 0, result.stderr
    assert "<b>cheap" not in page.read_text(encoding="utf-8")

    seen = Page()
    seen.feed(chromium(tmp_path, "--window-size=1280,900", f"--screenshot={tmp_path}/sim.png",
                       "--dump-dom", page.as_uri()))
    assert seen.title == "agentcost simulate: <b>cheap</b>, capped"
    chart = seen.ids["chart-waterfall"]
    assert chart.tags["rect"] == 3  # baseline, routing, scenario
    assert chart.by_class["count"] == [money(0.027), money(-0.00658), money(0.02042)]
    # A budget of $0.006 stops each task at the step that reaches it, its second ($0.0035 +
    # $0.005 = $0.0085): the third is cut, $0.005 off each task, scenario $0.017.
    assert seen.ids["chart-waterfall-2"].by_class["count"] == [
        money(0.027), money(-0.01), money(0.017)]
