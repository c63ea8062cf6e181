"""Budgets: each task stops at the step at which its cumulative cost reaches the per-task budget,
and/or after a number of steps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from agentcost.money import EXACT, exact_partial, exact_sum, rounded_money
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
from agentcost.simulation.strategies.base import (
    Applied,
    Baseline,
    Strategy,
    Tally,
    Touched,
    counted,
    sums,
)
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


def task_costs(priced: pl.DataFrame) -> pl.DataFrame:
    """`_task`, each task's cost (its priced part, rounded as every money sum is) and whether
    a step of it is unpriced: what tells runaways (over 5x the median task) apart."""
    return priced.group_by(TASK_COLUMN).agg(
        exact_sum(pl.col("total_cost_usd")).alias("cost"),
        has_unpriced_part().any().alias("unpriced"))


def runaway_line(costs: pl.DataFrame) -> float | None:
    """5x the median task: nearest-rank P50 of the tasks priced whole, as the report's (a task
    whose priced part alone is above the line is a runaway). None without a task priced whole:
    no median to measure against, so no task is known to run away."""
    whole = costs.filter(~pl.col("unpriced"))["cost"].sort().to_list()
    return RUNAWAY_MULTIPLE * nearest_rank(whole, 50) if whole else None


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


def saved_usd(marked: pl.DataFrame) -> Decimal:
    """The cost of the steps cut, exact."""
    return Decimal(marked.select(
        exact_partial(pl.when(~pl.col("_keep")).then(pl.col("total_cost_usd")))).item() or 0)


def cut_tally(marked: pl.DataFrame, costs: pl.DataFrame) -> Tally:
    """What a cut touched in one partition: each task cut, with its recorded cost (`costs`:
    `task_costs` of the recorded steps) and the cost of its steps cut, and the steps cut.
    `cut_figures` reads it with every task's recorded cost beside it, as "recorded"."""
    cut = (marked.filter(~pl.col("_keep")).group_by(TASK_COLUMN)
           .agg(exact_partial(pl.col("total_cost_usd")).alias("saved"))
           .join(costs, on=TASK_COLUMN, how="left"))
    return {"cut": cut.select("cost", "saved"),
            "steps": counted(steps=int((~marked["_keep"]).sum()))}


def cut_figures(tally: Tally) -> BudgetTouched:
    """What the cut touched, from every partition's `cut_tally`: runaways are the tasks whose
    recorded cost is over 5x the median task's."""
    line = runaway_line(tally["recorded"])
    runaway = pl.lit(False) if line is None else pl.col("cost") > line
    cut = tally["cut"]

    def saved_on(tasks: pl.DataFrame) -> float:
        return rounded_money(tasks["saved"])

    return BudgetTouched(
        sums(tally, "steps")["steps"], cut.height,
        runaway_tasks=0 if line is None else tally["recorded"].filter(runaway).height,
        runaways_cut=cut.filter(runaway).height,
        normal_tasks_cut=cut.filter(~runaway).height,
        saved_on_runaways_usd=saved_on(cut.filter(runaway)),
        saved_on_normal_usd=saved_on(cut.filter(~runaway)),
        saved_usd=saved_on(cut),
        tasks_partly_unpriced=sums(tally, "partly")["tasks"] if "partly" in tally else 0,
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
        costs = task_costs(replay.recorded)
        tally = {"recorded": costs.select("cost", "unpriced"), **cut_tally(marked, costs)}
        if scenario.budget_usd is not None:
            partly = replay.priced.filter(has_unpriced_part())[TASK_COLUMN].n_unique()
            tally["partly"] = counted(tasks=partly)
        dropped = marked.filter(~pl.col("_keep"))[ORDER_COLUMN]
        kept = replay.priced.filter(~pl.col(ORDER_COLUMN).is_in(dropped.implode()))
        return Applied(replay, replay.with_prices(kept, rows_removed=dropped.len() > 0), tally)

    def touched(self, tally: Tally, scenario: Scenario) -> BudgetTouched:
        return cut_figures(tally)

    def alone(self, applied: Applied[BudgetTouched], scenario: Scenario,
              baseline: Baseline) -> Decimal:
        marked = mark_cut(baseline.replay.priced, scenario.budget_usd, scenario.max_steps)
        return baseline.total - saved_usd(marked)
