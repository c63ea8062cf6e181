"""The HTML report's charts drawn from hand-made reports: the histogram's edges, counts and
percentile markers at their values, the columns of cost over time, and escaped labels."""

from __future__ import annotations

import re

import agentcost
from agentcost.renderers.html_charts import WIDTH, histogram, time_chart
from agentcost.renderers.text import money


def gpt4o_task(task: str, output_tokens: int, hour: int = 10) -> dict[str, object]:
    return {"task_id": task, "model": "gpt-4o", "output_tokens": output_tokens,
            "timestamp": f"2026-11-02T{hour:02d}:15:00Z"}


def test_histogram_marks_each_percentile_at_its_value(write_jsonl):
    # Outputs of 100, 300 and 700 tokens at $10 per 1M: tasks of $0.001, $0.003, $0.007.
    # Edges on the 1-2-5 series: 0, 0.001, 0.002, 0.005, 0.01; tasks per bin 1, 0, 1, 1.
    path = write_jsonl([gpt4o_task("a", 100), gpt4o_task("b", 300), gpt4o_task("c", 700)])
    svg = histogram(agentcost.report(path))
    labels = re.findall(r"text-anchor=\w+>([^<]+)</text>", svg)
    assert labels[:3] == ["1", "1", "1"]  # counts above the three bars holding a task
    assert labels[3:8] == [money(0), money(0.001), money(0.002), money(0.005), money(0.01)]
    # Nearest rank: P50 = the 2nd of 3 = $0.003, P90 = P99 = the 3rd = $0.007. The plot is
    # 860 - 2 x 16 = 828 wide, 207 a bin: $0.003 is a third into bin 2 (0.002 to 0.005),
    # x = 16 + 207 x (2 + 1/3) = 499.0; $0.007 is 0.4 into bin 3, x = 16 + 207 x 3.4 = 719.8.
    assert WIDTH == 860
    markers = re.findall(r"<line class=pct x1='([\d.]+)'", svg)
    assert markers == ["499.0", "719.8", "719.8"]
    assert re.findall(r"class=pct x='[\d.]+' y=\d+ text-anchor=\w+>([^<]+)<", svg) == [
        f"P50 {money(0.003)}", f"P90 {money(0.007)}", f"P99 {money(0.007)}"]


def test_cost_over_time_has_a_column_per_hour_stacked_by_model(write_jsonl):
    # 10:15 gpt-4o $0.001 and gpt-4o-mini 1,000 x $0.60 / 1M = $0.0006; nothing at 11:00;
    # 12:15 gpt-4o $0.002 and an unknown model (unpriced, marked, not drawn).
    path = write_jsonl([
        gpt4o_task("a", 100), {**gpt4o_task("b", 1_000), "model": "gpt-4o-mini"},
        gpt4o_task("c", 200, hour=12), {**gpt4o_task("d", 10, hour=12), "model": "<i>x</i>"},
    ])
    report = agentcost.report(path, charts=True)
    assert report.charts is not None
    svg = time_chart(report.charts)
    columns = re.findall(r"<g><title>([^<]+)</title>", svg)
    assert columns == [f"2026-11-02 10:00: {money(0.0016)}", f"2026-11-02 11:00: {money(0)}",
                       f"2026-11-02 12:00: {money(0.002)}; 1 step with an unpriced part, "
                       "not in the bar"]
    segments = re.findall(r"<rect [^>]*><title>([^<]+)</title>", svg)
    assert segments == [f"gpt-4o: {money(0.001)}", f"gpt-4o-mini: {money(0.0006)}",
                        f"gpt-4o: {money(0.002)}"]
    assert "<i>" not in svg


def test_a_report_without_charts_still_draws_models_and_histogram(write_jsonl):
    path = write_jsonl([gpt4o_task("a", 100), gpt4o_task("b", 300)])
    page = agentcost.render(agentcost.report(path), "html")
    assert "id=chart-models" in page and "id=histogram" in page
    assert "id=chart-time" not in page  # the series were not asked for


def test_chart_labels_from_traces_are_text(run_cli, write_jsonl):
    path = write_jsonl([
        {**gpt4o_task("a", 100), "workflow": "<script>alert(1)</script>",
         "tool_name": "<img src=x onerror=alert(2)>"},
        {**gpt4o_task("b", 100), "workflow": "plain\x1b[2J"},
    ])
    page = run_cli("report", str(path), "-f", "html").stdout
    assert "<script>alert" not in page and "<img" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # in the workflow chart
    assert "&lt;img src=x onerror=alert(2)&gt;" in page  # in the tool chart
    assert "plain\\x1b[2J" in page
