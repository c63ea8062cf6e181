"""Replay recorded steps under a scenario: baseline, each strategy alone, and the strategies
combined in a stated order (routing, tool caching, history compression, budgets), as a waterfall
because savings compound rather than add."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from agentcost.money import EXACT, exact_sum
from agentcost.pricing.cost import has_unpriced_part, price_steps
from agentcost.pricing.table import PriceTable
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.strategies import (
    RUNAWAY_MULTIPLE,
    TASK_COLUMN,
    Touched,
    apply_budget,
    apply_cache,
    apply_compression,
    apply_routes,
    number_steps,
    zero_hits,
)
from agentcost.stats import nearest_rank

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


def reprice_changed(priced: pl.DataFrame, steps: pl.DataFrame, marker: str,
                    price: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """`priced` with the rows `marker` flags in `steps` priced again."""
    return replace_rows(priced, steps.filter(pl.col(marker)).drop(marker), price)


def replace_rows(priced: pl.DataFrame, changed: pl.DataFrame,
                 price: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """`priced` with `changed` priced in place of the rows with the same `_row` (new rows, such
    as summary calls, are added): a strategy that changes a tenth of the steps reprices a
    tenth."""
    return swap_rows(priced, price(changed))


def swap_rows(priced: pl.DataFrame, repriced: pl.DataFrame) -> pl.DataFrame:
    """`priced` with `repriced` in place of the rows with the same `_row`."""
    kept = priced.filter(~pl.col("_row").is_in(repriced["_row"].implode()))
    return pl.concat([kept, repriced], how="vertical")


def total_of(priced: pl.DataFrame) -> float:
    return float(priced.select(exact_sum(pl.col("total_cost_usd"))).item() or 0.0)


def runaway_tasks(priced: pl.DataFrame) -> pl.Series:
    """Tasks costing more than 5x the median task (nearest-rank P50)."""
    per_task = priced.group_by(TASK_COLUMN).agg(
        exact_sum(pl.col("total_cost_usd")).alias("cost"))
    costs = per_task["cost"].sort().to_list()
    median = nearest_rank(costs, 50) if costs else 0.0
    return per_task.filter(pl.col("cost") > RUNAWAY_MULTIPLE * median)[TASK_COLUMN]


def simulate(steps: pl.DataFrame, table: PriceTable, scenario: Scenario, *,
             cost_mode: str = "computed") -> Simulation:
    """Baseline, the waterfall (strategies added one at a time in ORDER) and each strategy
    alone. Only routing and compression change what is priced; caching and budgets act on
    priced steps, so each stage reprices only when it has to."""
    def price(frame: pl.DataFrame) -> pl.DataFrame:
        return price_steps(frame.lazy(), table, cost_mode=cost_mode).collect()

    # Only what pricing and the strategies read: each stage copies the rows it keeps, and a
    # column nobody reads (even one of nulls) would be copied with them.
    steps = number_steps(steps.select(c for c in SIMULATED_COLUMNS if c in steps.columns))
    baseline_priced = price(steps)
    baseline = outcome(baseline_priced)
    strategies = enabled_strategies(scenario)
    simulation = Simulation(scenario, baseline, baseline)
    if not strategies:
        return simulation
    runaways = runaway_tasks(baseline_priced)
    current, priced = steps, baseline_priced
    alone: dict[str, float] = {}
    for strategy in strategies:
        if strategy == "routing":
            current, simulation.touched["routing"] = apply_routes(current, scenario.routes)
            priced = reprice_changed(priced, current, "_routed", price)
            current = current.drop("_routed")
        elif strategy == "caching":
            before = total_of(priced)
            priced, simulation.touched["caching"] = apply_cache(priced, scenario.cache)
            # Caching only zeroes tool and compute costs of the hits, and nothing before it in
            # the order (routing) changes those: its saving alone is the same.
            alone["caching"] = baseline.total_usd - (before - total_of(priced))
        elif strategy == "compression" and scenario.compression is not None:
            changed, simulation.touched["compression"] = apply_compression(
                current, scenario.compression)
            repriced = price(changed)
            priced = swap_rows(priced, repriced)
            caching = simulation.touched.get("caching")
            if caching is not None:  # repriced rows that were cache hits stay hits
                hit_rows = caching.details["hit_rows"]
                assert isinstance(hit_rows, pl.Series)
                priced = zero_hits(priced, pl.col("_row").is_in(hit_rows.implode()))
            routing = simulation.touched.get("routing")
            if routing is not None and routing.steps:  # compression alone sees other models
                repriced = price(apply_compression(steps, scenario.compression)[0])
            alone["compression"] = total_of(swap_rows(baseline_priced, repriced))
        elif strategy == "budget":
            priced, simulation.touched["budget"] = apply_budget(
                priced, scenario.budget_usd, scenario.max_steps, runaways)
            _, cut = apply_budget(baseline_priced, scenario.budget_usd, scenario.max_steps,
                                  runaways, keep_rows=False)
            alone["budget"] = baseline.total_usd - float(cut.details["saved_usd"])  # type: ignore[arg-type]
        stage_total = total_of(priced)  # distributions only for the baseline and the result
        simulation.waterfall.append((strategy, stage_total))
        alone.setdefault(strategy, stage_total)  # the first stage is its strategy alone
    simulation.result = outcome(priced)
    simulation.alone = [(strategy, alone[strategy]) for strategy in strategies]
    simulation.caveats = [CAVEATS[strategy] for strategy in strategies]
    routing = simulation.touched.get("routing")
    unmatched = routing.details["unmatched"] if routing else []
    assert isinstance(unmatched, list)
    for route in unmatched:
        simulation.caveats.append(
            f"Route {route} routed no step: no LLM step matches it, or an earlier route took "
            "them all.")
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
    narrow = steps.select(c for c in SIMULATED_COLUMNS if c in steps.columns)
    priced = price_steps(number_steps(narrow).lazy(), table, cost_mode=cost_mode).collect()
    runaways = runaway_tasks(priced)
    points = []
    for budget in sorted(budgets):
        _, touched = apply_budget(priced, budget, None, runaways, keep_rows=False)
        details = touched.details
        points.append(SweepPoint(
            budget, touched.tasks, int(details["runaways_cut"]),  # type: ignore[call-overload]
            int(details["runaway_tasks"]), int(details["normal_tasks_cut"]),  # type: ignore[call-overload]
            float(details["saved_usd"])))  # type: ignore[arg-type]
    return points
