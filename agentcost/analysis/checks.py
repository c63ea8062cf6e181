"""Cost thresholds for cron jobs: which of them a report crosses, with the figures that did."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from agentcost.analysis.drift import Baseline, drift
from agentcost.analysis.report import UNPRICED, Report, sort_tasks
from agentcost.renderers.text import plural

# What a check could not vouch for, before any threshold: each has an exit code of its own.
NOT_READ = "max_skipped"  # more lines or spans skipped than allowed
NOTHING = "no_steps"  # no step to check (none in the window, or none at all)


@dataclass(frozen=True)
class Thresholds:
    max_task_cost: float | None = None  # USD, any one task
    max_total: float | None = None  # USD, all tasks
    max_p90: float | None = None  # USD, P90 cost per task
    max_p90_drift: float | None = None  # percent rise of P90 against a baseline
    fail_on_unpriced: bool = False
    # Lines and spans skipped for what they hold that a check lets pass: a number, and a
    # percentage of the lines read (the larger of the two is allowed).
    max_skipped: int = 0
    max_skipped_percent: float | None = None
    allow_empty: bool = False  # no step to check passes

    def amounts(self) -> Iterator[tuple[str, float]]:
        for name in ("max_task_cost", "max_total", "max_p90", "max_p90_drift",
                     "max_skipped", "max_skipped_percent"):
            value = getattr(self, name)
            if value is not None:
                yield name, float(value)

    def any_threshold(self) -> bool:
        return self.fail_on_unpriced or any(
            value is not None for value in (self.max_task_cost, self.max_total, self.max_p90,
                                             self.max_p90_drift))

    def skipped_allowed(self, records_read: int) -> int:
        """Lines and spans that may be skipped, of `records_read` (lines, and the spans of
        span files: a whole export can be one line)."""
        by_share = (0 if self.max_skipped_percent is None
                    else int(self.max_skipped_percent / 100 * records_read))
        return max(self.max_skipped, by_share)


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
    """What the report could not vouch for (skipped input, no step at all), then each
    threshold crossed. Tasks with unpriced steps are checked on their priced part, a lower
    bound of their cost: P90 is over the tasks priced whole (see `not_checked`)."""
    crossed: list[Crossed] = []
    s, d = report.summary, report.distribution
    accounting = report.accounting
    lost = accounting.records_lost
    allowed = limits.skipped_allowed(accounting.lines_read + accounting.spans_read)
    if lost > allowed:
        crossed.append(Crossed(NOT_READ, allowed, lost))
    if not limits.allow_empty and (s.steps == 0 or _nothing_priced_to_judge(report, limits)):
        crossed.append(Crossed(NOTHING, 0, 0, tasks=s.tasks))
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


def _nothing_priced_to_judge(report: Report, limits: Thresholds) -> bool:
    """Steps there are, but no figure a threshold reads is known: no task priced whole for
    P90 and its drift, no priced part of any task for the costs. Passing would be passing on
    nothing."""
    needs_p90 = limits.max_p90 is not None or limits.max_p90_drift is not None
    needs_costs = limits.max_task_cost is not None or limits.max_total is not None
    nothing_whole = report.distribution is None
    nothing_priced = report.tasks.filter(pl.col("priced") != UNPRICED).is_empty()
    return (needs_p90 and nothing_whole) or (needs_costs and nothing_priced)


def not_checked(report: Report, limits: Thresholds) -> list[str]:
    """What the thresholds could not see: tasks whose cost is not all known, in words."""
    left_out = report.tasks_not_whole
    if not left_out:
        return []
    tasks = f"{plural(left_out, 'task')} with unpriced steps"
    said = []
    if limits.max_p90 is not None or limits.max_p90_drift is not None:
        whole = report.distribution.tasks if report.distribution is not None else 0
        said.append(f"{tasks} not checked against P90 (it is over the {plural(whole, 'task')} "
                    "priced whole)")
    if limits.max_task_cost is not None or limits.max_total is not None:
        said.append(f"{tasks} checked on their priced part only (a lower bound of their cost)")
    return said
