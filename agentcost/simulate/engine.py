"""Replay recorded steps under a scenario: baseline, each strategy alone, and the strategies
combined in a stated order (routing, tool caching, history compression, budgets), as a waterfall
because savings compound rather than add."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from agentcost.analysis.report import nearest_rank
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import PriceTable
from agentcost.simulate.scenario import Scenario
from agentcost.simulate.strategies import (
    RUNAWAY_MULTIPLE,
    Touched,
    apply_budget,
    apply_cache,
    apply_compression,
    apply_routes,
    exact_sum,
)

ORDER = ("routing", "caching", "compression", "budget")
CAVEATS = {
    "routing": "Routed steps are repriced with the same tokens (times any step inflation); a "
               "cheaper model may need more steps or fail tasks: the result is only as good as "
               "the inflation factor.",
    "caching": "A hit is a call whose tool and arguments were seen within the TTL before it, in "
               "any task; tools whose answers change over time may not be cacheable in practice.",
    "compression": "Context growth is inferred from prompt growth between consecutive LLM steps; "
                   "the summary's effect on later answers is not modelled.",
    "budget": "Tasks cut by a budget would not have finished: the saving is money not spent, not "
              "the same work done for less.",
}


@dataclass(frozen=True)
class Outcome:
    total_usd: float
    llm_usd: float
    tool_usd: float
    compute_usd: float
    steps: int
    tasks: int
    percentiles: dict[int, float]
    unpriced_steps: int


@dataclass
class Simulation:
    scenario: Scenario
    baseline: Outcome
    result: Outcome
    waterfall: list[tuple[str, float]] = field(default_factory=list)  # (strategy, total after)
    alone: list[tuple[str, float]] = field(default_factory=list)  # (strategy, total with it)
    touched: dict[str, Touched] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)


def enabled_strategies(scenario: Scenario) -> list[str]:
    present = {
        "routing": bool(scenario.routes),
        "caching": bool(scenario.cache),
        "compression": scenario.compression is not None,
        "budget": scenario.budget_usd is not None or scenario.max_steps is not None,
    }
    return [name for name in ORDER if present[name]]


def outcome(priced: pl.DataFrame) -> Outcome:
    totals = priced.select(
        exact_sum(pl.col("total_cost_usd")), exact_sum(pl.col("llm_cost_usd")),
        exact_sum(pl.col("tool_cost_usd")), exact_sum(pl.col("compute_cost_usd")), pl.len(),
        pl.col("task_id").n_unique(),
        (pl.col("unpriced_reason").is_not_null() | pl.col("tool_unpriced")).sum(),
    ).row(0)
    per_task = priced.group_by("task_id").agg(exact_sum(pl.col("total_cost_usd")))
    costs = per_task["total_cost_usd"].sort().to_list()
    percentiles = {p: nearest_rank(costs, p) for p in (50, 90, 99)} if costs else {}
    return Outcome(float(totals[0] or 0.0), float(totals[1] or 0.0), float(totals[2] or 0.0),
                   float(totals[3] or 0.0), int(totals[4]), int(totals[5]), percentiles,
                   int(totals[6]))


def runaway_tasks(priced: pl.DataFrame) -> pl.Series:
    """Tasks costing more than 5x the median task (nearest-rank P50)."""
    per_task = priced.group_by("task_id").agg(exact_sum(pl.col("total_cost_usd")).alias("cost"))
    costs = per_task["cost"].sort().to_list()
    median = nearest_rank(costs, 50) if costs else 0.0
    return per_task.filter(pl.col("cost") > RUNAWAY_MULTIPLE * median)["task_id"]


def replay(steps: pl.DataFrame, table: PriceTable, scenario: Scenario, strategies: list[str],
           *, runaways: pl.Series, cost_mode: str = "computed"
           ) -> tuple[pl.DataFrame, dict[str, Touched]]:
    """The steps priced with `strategies` applied. Routing and compression change what is
    priced; caching and budgets act on the priced steps."""
    touched: dict[str, Touched] = {}
    if "routing" in strategies:
        steps, touched["routing"] = apply_routes(steps, scenario.routes)
    if "compression" in strategies and scenario.compression is not None:
        steps, touched["compression"] = apply_compression(steps, scenario.compression)
    priced = price_steps(steps.lazy(), table, cost_mode=cost_mode).collect()
    if "caching" in strategies:
        priced, touched["caching"] = apply_cache(priced, scenario.cache)
    if "budget" in strategies:
        priced, touched["budget"] = apply_budget(priced, scenario.budget_usd,
                                                 scenario.max_steps, runaways)
    return priced, touched


def simulate(steps: pl.DataFrame, table: PriceTable, scenario: Scenario, *,
             cost_mode: str = "computed") -> Simulation:
    baseline_priced = price_steps(steps.lazy(), table, cost_mode=cost_mode).collect()
    baseline = outcome(baseline_priced)
    runaways = runaway_tasks(baseline_priced)
    strategies = enabled_strategies(scenario)
    if not strategies:
        return Simulation(scenario, baseline, baseline)
    simulation = Simulation(scenario, baseline, baseline)
    for depth in range(1, len(strategies) + 1):
        priced, touched = replay(steps, table, scenario, strategies[:depth],
                                 runaways=runaways, cost_mode=cost_mode)
        step_outcome = outcome(priced)
        simulation.waterfall.append((strategies[depth - 1], step_outcome.total_usd))
        simulation.result = step_outcome
        simulation.touched = touched
    for strategy in strategies:
        if len(strategies) == 1:
            simulation.alone.append((strategy, simulation.result.total_usd))
            continue
        priced, _ = replay(steps, table, scenario, [strategy], runaways=runaways,
                           cost_mode=cost_mode)
        simulation.alone.append((strategy, outcome(priced).total_usd))
    simulation.caveats = [CAVEATS[strategy] for strategy in strategies]
    caching = simulation.touched.get("caching")
    if caching is not None:
        per_tool = caching.details["per_tool"]
        assert isinstance(per_tool, pl.DataFrame)
        blind = per_tool.filter(pl.col("no_args") > 0)
        for tool, calls, no_args in blind.select("tool_name", "calls", "no_args").iter_rows():
            simulation.caveats.append(
                f"{no_args:,} of {calls:,} {tool} calls carry no arguments: they cannot be "
                "simulated and count as misses.")
    return simulation


@dataclass(frozen=True)
class SweepPoint:
    budget_usd: float
    tasks_cut: int
    runaways_cut: int
    runaway_tasks: int
    normal_tasks_cut: int
    saving_usd: float


def budget_sweep(steps: pl.DataFrame, table: PriceTable, budgets: list[float], *,
                 cost_mode: str = "computed") -> list[SweepPoint]:
    """For each budget alone: how many tasks it cuts, runaways (over 5x the median task) and
    normal ones, and the money not spent. Priced once; cut once per budget."""
    priced = price_steps(steps.lazy(), table, cost_mode=cost_mode).collect()
    base = outcome(priced)
    runaways = runaway_tasks(priced)
    points = []
    for budget in sorted(budgets):
        kept, touched = apply_budget(priced, budget, None, runaways)
        details = touched.details
        points.append(SweepPoint(
            budget, touched.tasks, int(details["runaways_cut"]),  # type: ignore[call-overload]
            int(details["runaway_tasks"]), int(details["normal_tasks_cut"]),  # type: ignore[call-overload]
            base.total_usd - outcome(kept).total_usd))
    return points
