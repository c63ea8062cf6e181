"""Cost thresholds for cron jobs: which of them a report crosses, with the figures that did."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from agentcost.analysis.drift import Baseline, drift
from agentcost.analysis.report import Report, sort_tasks


@dataclass(frozen=True)
class Thresholds:
    max_task_cost: float | None = None  # USD, any one task
    max_total: float | None = None  # USD, all tasks
    max_p90: float | None = None  # USD, P90 cost per task
    max_p90_drift: float | None = None  # percent rise of P90 against a baseline
    fail_on_unpriced: bool = False

    def amounts(self) -> Iterator[tuple[str, float]]:
        for name in ("max_task_cost", "max_total", "max_p90", "max_p90_drift"):
            value = getattr(self, name)
            if value is not None:
                yield name, float(value)


@dataclass(frozen=True)
class Crossed:
    """One threshold crossed: which, its limit, and the figure that crossed it. `tasks` and
    `task_id` say, for max_task_cost, how many tasks crossed and which cost most; `before`
    is the baseline's P90 for max_p90_drift; for fail_on_unpriced, `value` is the unpriced
    steps and `tool_calls` the unpriced tool calls."""

    threshold: str
    limit: float
    value: float
    tasks: int = 0
    task_id: str | None = None
    before: float | None = None
    tool_calls: int = 0


def crossed_thresholds(report: Report, limits: Thresholds, baseline: Baseline | None
                       ) -> list[Crossed]:
    crossed: list[Crossed] = []
    s, d = report.summary, report.distribution
    if limits.max_task_cost is not None:
        over = report.tasks.filter(report.tasks["total_cost_usd"] > limits.max_task_cost)
        if over.height:
            worst = sort_tasks(over, "total_cost_usd", top=1).row(0, named=True)
            crossed.append(Crossed("max_task_cost", limits.max_task_cost,
                                   worst["total_cost_usd"], tasks=over.height,
                                   task_id=worst["task_id"]))
    if limits.max_total is not None and s.total_cost_usd > limits.max_total:
        crossed.append(Crossed("max_total", limits.max_total, s.total_cost_usd))
    if limits.max_p90 is not None and d is not None and d.percentiles[90] > limits.max_p90:
        crossed.append(Crossed("max_p90", limits.max_p90, d.percentiles[90]))
    if limits.max_p90_drift is not None and baseline is not None and d is not None:
        p90 = next((c for c in drift(report, baseline) if c.what == "P90"), None)
        if p90 is not None and p90.percent is not None and p90.percent > limits.max_p90_drift:
            crossed.append(Crossed("max_p90_drift", limits.max_p90_drift, p90.after,
                                   before=p90.before))
    if limits.fail_on_unpriced and (s.unpriced_steps or s.unpriced_tool_calls):
        crossed.append(Crossed("fail_on_unpriced", 0, s.unpriced_steps,
                               tool_calls=s.unpriced_tool_calls))
    return crossed
