"""Budgets: each task stops at the step at which its cumulative cost reaches the per-task budget,
and/or after a number of steps."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from agentcost.money import EXACT, exact_sum
from agentcost.pricing.cost import has_unpriced_part
from agentcost.renderers.text import money, plural
from agentcost.simulation import sorted_groups as groups
from agentcost.simulation.replay import (
    ORDER_COLUMN,
    TASK_COLUMN,
    WITHIN_TASK,
    Replay,
    is_recorded,
)
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.strategies.base import Applied, Baseline, Strategy, Touched
from agentcost.stats import nearest_rank

RUNAWAY_MULTIPLE = 5.0  # a task costing more than 5 x the median task is a runaway


@dataclass(frozen=True)
class BudgetTouched(Touched):
    runaway_tasks: int  # in the baseline, cut or not
    runaways_cut: int
    normal_tasks_cut: int
    saved_on_runaways_usd: float
    saved_on_normal_usd: float
    saved_usd: float
    # Tasks with a step whose cost is unknown: a budget counts their priced part only.
    tasks_partly_unpriced: int = 0

    def detail(self) -> str:
        return (f"{self.runaways_cut} of {self.runaway_tasks} runaway tasks cut "
                f"(saving {money(self.saved_on_runaways_usd)}), "
                f"{self.normal_tasks_cut} normal tasks cut "
                f"(saving {money(self.saved_on_normal_usd)})")

    def caveats(self) -> list[str]:
        if not self.tasks_partly_unpriced:
            return []
        return [f"{plural(self.tasks_partly_unpriced, 'task')} with unpriced steps: the budget "
                "counts only their priced part, so it may stop them later than it would."]


def runaway_tasks(priced: pl.DataFrame) -> pl.Series:
    """The `_task` of each task costing more than 5x the median task (nearest-rank P50 of the
    tasks priced whole, as the report's; a task whose priced part alone is above the line is a
    runaway)."""
    per_task = priced.group_by(TASK_COLUMN).agg(
        exact_sum(pl.col("total_cost_usd")).alias("cost"),
        has_unpriced_part().any().alias("unpriced"))
    costs = per_task.filter(~pl.col("unpriced"))["cost"].sort().to_list()
    if not costs:  # no median to measure against: no task is known to run away
        return per_task.head(0)[TASK_COLUMN]
    median = nearest_rank(costs, 50)
    return per_task.filter(pl.col("cost") > RUNAWAY_MULTIPLE * median)[TASK_COLUMN]


def mark_cut(priced: pl.DataFrame, budget_usd: float | None, max_steps: int | None
             ) -> pl.DataFrame:
    """`_row`, `_task` and cost of every step, with `_keep`: false from the step after the one
    at which the task's cumulative cost reaches the budget (that step is kept: it is the one
    that crossed), and after `max_steps` steps of the agent's own. A history summary the
    replay added is not an agent step: it goes with the step it serves."""
    # The cut is worked out on the four columns it needs (sorting every column would cost more
    # than the rest), then applied to the steps by their `_row`.
    # Running totals summed exactly: a float running total over a sorted million rows drifts,
    # and a task whose costs add up to the budget exactly must be cut at the same step always.
    cost = pl.col("total_cost_usd").fill_null(0).cast(EXACT)
    # A summary comes just before the step it serves: its agent-step number is that step's.
    added = (~is_recorded()).cast(pl.Int64)
    ordered = priced.select(TASK_COLUMN, *WITHIN_TASK, "total_cost_usd").sort(
        TASK_COLUMN, *WITHIN_TASK).with_columns(
        groups.cumulative_sum(cost, TASK_COLUMN).alias("_cumulative"),
        (groups.cumulative_sum(is_recorded().cast(pl.Int64), TASK_COLUMN) + added)
        .alias("_position"),
    )
    before = (pl.col("_cumulative") - cost).cast(pl.Float64)
    keep = pl.lit(True)
    if budget_usd is not None:
        keep = keep & (before < budget_usd)
    if max_steps is not None:
        keep = keep & (pl.col("_position") <= max_steps)
    return ordered.with_columns(keep.alias("_keep"))


def saved_usd(marked: pl.DataFrame) -> float:
    """The cost of the steps cut."""
    return float(marked.select(
        exact_sum(pl.when(~pl.col("_keep")).then(pl.col("total_cost_usd")))).item())


def cut_figures(marked: pl.DataFrame, runaways: pl.Series) -> BudgetTouched:
    """What the cut touched. `runaways`: the `_task` of tasks whose baseline cost is over 5x
    the median task's."""
    task_costs = marked.group_by(TASK_COLUMN).agg(
        (~pl.col("_keep")).any().alias("cut"),
        exact_sum(pl.when(~pl.col("_keep")).then(pl.col("total_cost_usd"))).alias("saved"))
    runaway = pl.col(TASK_COLUMN).is_in(runaways.implode())
    cut = task_costs.filter(pl.col("cut"))

    def saved_on(tasks: pl.DataFrame) -> float:
        return float(tasks.select(exact_sum(pl.col("saved"))).item())

    return BudgetTouched(
        int((~marked["_keep"]).sum()), cut.height,
        runaway_tasks=runaways.len(),
        runaways_cut=cut.filter(runaway).height,
        normal_tasks_cut=cut.filter(~runaway).height,
        saved_on_runaways_usd=saved_on(cut.filter(runaway)),
        saved_on_normal_usd=saved_on(cut.filter(~runaway)),
        saved_usd=saved_usd(marked),
    )


class Budget(Strategy[BudgetTouched]):
    name = "budget"
    title = "budgets"
    caveat = ("Tasks cut by a budget would not have finished: the saving is money not spent, "
              "not the same work done for less.")

    def enabled(self, scenario: Scenario) -> bool:
        return scenario.budget_usd is not None or scenario.max_steps is not None

    def settings(self, scenario: Scenario) -> list[str]:
        lines = []
        if scenario.budget_usd is not None:
            lines.append(f"budget {money(scenario.budget_usd)} per task")
        if scenario.max_steps is not None:
            lines.append(f"at most {scenario.max_steps} agent steps per task")
        return lines

    def apply(self, replay: Replay, scenario: Scenario) -> Applied[BudgetTouched]:
        marked = mark_cut(replay.priced, scenario.budget_usd, scenario.max_steps)
        touched = cut_figures(marked, runaway_tasks(replay.recorded))
        if scenario.budget_usd is not None:
            partly = replay.priced.filter(has_unpriced_part())[TASK_COLUMN].n_unique()
            touched = replace(touched, tasks_partly_unpriced=partly)
        dropped = marked.filter(~pl.col("_keep"))[ORDER_COLUMN]
        kept = replay.priced.filter(~pl.col(ORDER_COLUMN).is_in(dropped.implode()))
        return Applied(replay, replay.with_prices(kept, rows_removed=touched.steps > 0),
                       touched)

    def alone(self, applied: Applied[BudgetTouched], scenario: Scenario,
              baseline: Baseline) -> float:
        marked = mark_cut(baseline.replay.priced, scenario.budget_usd, scenario.max_steps)
        return baseline.total_usd - saved_usd(marked)
