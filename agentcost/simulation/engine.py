"""Replay recorded steps under a scenario: baseline, each strategy alone, and the strategies
combined in a stated order (routing, tool caching, history compression, budgets), as a waterfall
because savings compound rather than add."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from agentcost.money import EXACT
from agentcost.pricing.cost import has_unpriced_part, price_steps
from agentcost.pricing.table import PriceTable
from agentcost.simulation.replay import TASK_COLUMN, Replay
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.strategies import STRATEGIES
from agentcost.simulation.strategies.base import Baseline, Touched
from agentcost.simulation.strategies.budget import cut_figures, mark_cut, runaway_tasks
from agentcost.stats import nearest_rank


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


MONEY = ("total_cost_usd", "llm_cost_usd", "tool_cost_usd", "compute_cost_usd")
SIMULATED_COLUMNS = (
    "task_id", "step", "start_time", "duration_s", "kind", "name", "model", "service_tier",
    "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
    "output_tokens", "reasoning_tokens", "tool_name", "tool_args", "reported_cost_usd",
    "reported_tool_cost_usd", "workflow",
)


def outcome(priced: pl.DataFrame) -> Outcome:
    """Totals and the per-task distribution, from one pass: sums per task (exact), then the
    totals from those few rows."""
    per_task = priced.group_by(TASK_COLUMN).agg(
        *(pl.col(name).cast(EXACT).sum() for name in MONEY),
        pl.len().alias("steps"),
        has_unpriced_part().sum()
        .alias("unpriced"),
    )
    totals = per_task.select(*(pl.col(name).sum().cast(pl.Float64) for name in MONEY),
                             pl.col("steps").sum(), pl.len(), pl.col("unpriced").sum()).row(0)
    costs = per_task["total_cost_usd"].cast(pl.Float64).sort().to_list()
    percentiles = {p: nearest_rank(costs, p) for p in (50, 90, 99)} if costs else {}
    return Outcome(float(totals[0] or 0.0), float(totals[1] or 0.0), float(totals[2] or 0.0),
                   float(totals[3] or 0.0), int(totals[4] or 0), int(totals[5]), percentiles,
                   int(totals[6] or 0))


def stages_of(scenario: Scenario) -> list[str]:
    """The stages `simulate` goes through, named as it tells them."""
    return ["pricing"] + [strategy.name for strategy in STRATEGIES if strategy.enabled(scenario)]


def simulate(steps: pl.DataFrame, table: PriceTable, scenario: Scenario, *,
             cost_mode: str = "computed", on_stage: Callable[[str], None] | None = None
             ) -> Simulation:
    """Baseline, the waterfall (the enabled strategies added one at a time, in the order of
    STRATEGIES) and each strategy alone, with what each touched. `on_stage` hears of each
    stage (of `stages_of(scenario)`) as it starts."""
    def starting(stage: str) -> None:
        if on_stage is not None:
            on_stage(stage)

    starting("pricing")
    replay = _replay(steps, table, cost_mode)
    before = outcome(replay.priced)
    simulation = Simulation(scenario, before, before)
    enabled = [strategy for strategy in STRATEGIES if strategy.enabled(scenario)]
    if not enabled:
        return simulation
    baseline = Baseline(replay, before.total_usd)
    for strategy in enabled:
        starting(strategy.name)
        applied = strategy.apply(replay, scenario)
        simulation.touched[strategy.name] = applied.touched
        simulation.waterfall.append((strategy.name, applied.after.total_usd))
        simulation.alone.append((strategy.name, strategy.alone(applied, scenario, baseline)))
        replay = applied.after
    # Per-task distributions only for the baseline and the result: the stages need totals.
    simulation.result = outcome(replay.priced)
    simulation.caveats = [strategy.caveat for strategy in enabled] + [
        caveat for touched in simulation.touched.values() for caveat in touched.caveats()]
    return simulation


def _replay(steps: pl.DataFrame, table: PriceTable, cost_mode: str) -> Replay:
    def price(frame: pl.DataFrame) -> pl.DataFrame:
        return price_steps(frame.lazy(), table, cost_mode=cost_mode).collect()

    # Only what pricing and the strategies read: each stage copies the rows it keeps, and a
    # column nobody reads (even one of nulls) would be copied with them.
    return Replay.start(steps.select(c for c in SIMULATED_COLUMNS if c in steps.columns), price)


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
    priced = _replay(steps, table, cost_mode).priced
    runaways = runaway_tasks(priced)
    points = []
    for budget in sorted(budgets):
        cut = cut_figures(mark_cut(priced, budget, None), runaways)
        points.append(SweepPoint(budget, cut.tasks, cut.runaways_cut, cut.runaway_tasks,
                                 cut.normal_tasks_cut, cut.saved_usd))
    return points
