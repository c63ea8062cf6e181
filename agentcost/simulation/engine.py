"""Replay recorded steps under a scenario: baseline, each strategy alone, and the strategies
combined in a stated order (routing, tool caching, history compression, budgets), as a waterfall
because savings compound rather than add. Steps priced on one side only are left out of both
(simulation/comparable.py), so a saving is only ever taken over steps priced on both sides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from agentcost.money import EXACT, MONEY_DECIMALS
from agentcost.pricing.cost import has_unpriced_part, price_steps
from agentcost.pricing.table import PriceTable
from agentcost.renderers.text import plural
from agentcost.simulation.comparable import leaving_out, one_sided
from agentcost.simulation.replay import TASK_COLUMN, TOKEN_COLUMNS, Replay
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.strategies import STRATEGIES
from agentcost.simulation.strategies.base import Baseline, Strategy, Touched
from agentcost.simulation.strategies.budget import cut_figures, mark_cut, runaway_tasks
from agentcost.stats import nearest_rank


@dataclass(frozen=True)
class UnpricedSteps:
    """Steps left out of a total, by what could not be priced and why."""

    what: str  # the model, or "tool NAME"
    reason: str
    steps: int
    tokens: int


@dataclass(frozen=True)
class Outcome:
    """Totals over the priced parts of the steps; the unpriced steps are counted apart, and the
    percentiles are over the tasks priced whole (`tasks_left_out` are not)."""

    total_usd: float
    llm_usd: float
    tool_usd: float
    compute_usd: float
    steps: int
    tasks: int
    percentiles: dict[int, float]
    unpriced_steps: int
    unpriced_tokens: int = 0
    unpriced: tuple[UnpricedSteps, ...] = ()
    tasks_left_out: int = 0  # with an unpriced step: not in the percentiles


@dataclass(frozen=True)
class Stage:
    """The running total after a strategy of the waterfall, and the steps it excludes."""

    strategy: str
    total_usd: float
    unpriced_steps: int
    unpriced_tokens: int


@dataclass
class Simulation:
    scenario: Scenario
    baseline: Outcome
    result: Outcome
    waterfall: list[Stage] = field(default_factory=list)
    alone: list[tuple[str, float]] = field(default_factory=list)  # (strategy, total with it)
    touched: dict[str, Touched] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)
    # Settings that acted on nothing: for the caller to show (stderr, for the command line).
    warnings: list[str] = field(default_factory=list)
    left_out_steps: int = 0  # priced on one side only, so left out of both


MONEY = ("total_cost_usd", "llm_cost_usd", "tool_cost_usd", "compute_cost_usd")
SIMULATED_COLUMNS = (
    "task_id", "step", "start_time", "duration_s", "kind", "name", "model", "service_tier",
    "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
    "output_tokens", "reasoning_tokens", "tool_name", "tool_args", "reported_cost_usd",
    "reported_tool_cost_usd", "workflow",
)
TOKENS = pl.sum_horizontal(pl.col(column).fill_null(0) for column in TOKEN_COLUMNS)


def outcome(priced: pl.DataFrame) -> Outcome:
    """Totals and the per-task distribution, from one pass: sums per task (exact), then the
    totals from those few rows, rounded as every money sum is."""
    per_task = priced.group_by(TASK_COLUMN).agg(
        *(pl.col(name).cast(EXACT).sum() for name in MONEY),
        pl.len().alias("steps"),
        has_unpriced_part().sum().alias("unpriced"),
        pl.when(has_unpriced_part()).then(TOKENS).sum().alias("unpriced_tokens"),
    )
    totals = per_task.select(
        *(pl.col(name).sum().cast(pl.Float64).round(MONEY_DECIMALS) for name in MONEY),
        pl.col("steps").sum(), pl.len(), pl.col("unpriced").sum(),
        pl.col("unpriced_tokens").sum()).row(0)
    # Over the tasks priced whole, as the report's: an unpriced step's cost is unknown.
    whole = per_task.filter(pl.col("unpriced") == 0)
    costs = whole["total_cost_usd"].cast(pl.Float64).sort().to_list()
    percentiles = {p: nearest_rank(costs, p) for p in (50, 90, 99)} if costs else {}
    return Outcome(float(totals[0] or 0.0), float(totals[1] or 0.0), float(totals[2] or 0.0),
                   float(totals[3] or 0.0), int(totals[4] or 0), int(totals[5]), percentiles,
                   int(totals[6] or 0), int(totals[7] or 0), unpriced_steps(priced),
                   tasks_left_out=per_task.height - whole.height)


def unpriced_steps(priced: pl.DataFrame) -> tuple[UnpricedSteps, ...]:
    """The steps with a part that has no price, by model (or tool) and reason, most first."""
    llm = pl.col("unpriced_reason").is_not_null()
    what = (pl.when(llm).then(pl.col("model").cast(pl.String).fill_null("(no model)"))
            .otherwise(pl.format("tool {}", pl.col("tool_name").cast(pl.String))))
    reason = pl.when(llm).then(pl.col("unpriced_reason")).otherwise(
        pl.lit("no price for the tool call"))
    groups = (priced.filter(has_unpriced_part())
              .group_by(what.alias("what"), reason.alias("reason"))
              .agg(pl.len().alias("steps"), TOKENS.sum().alias("tokens"))
              .sort(["steps", "what", "reason"], descending=[True, False, False]))
    return tuple(UnpricedSteps(str(w), str(r), int(s), int(t)) for w, r, s, t in groups.iter_rows())


def unpriced_totals(priced: pl.DataFrame) -> tuple[int, int]:
    """How many steps a total over `priced` excludes in part, and their tokens."""
    steps, tokens = priced.select(has_unpriced_part().sum(),
                                  pl.when(has_unpriced_part()).then(TOKENS).sum()).row(0)
    return int(steps or 0), int(tokens or 0)


def stages_of(scenario: Scenario) -> list[str]:
    """The stages `simulate` goes through, named as it tells them."""
    return ["pricing"] + [strategy.name for strategy in STRATEGIES if strategy.enabled(scenario)]


@dataclass(frozen=True, eq=False)
class Played:
    """A scenario played on a baseline: the baseline as compared (steps priced on one side
    only left out), the state after every strategy, and what each stage did."""

    baseline: Replay
    after: Replay
    waterfall: list[Stage]
    alone: list[tuple[str, float]]
    touched: dict[str, Touched]
    left_out_steps: int = 0

    @property
    def saving_usd(self) -> float:
        return round(self.baseline.total_usd - self.after.total_usd, MONEY_DECIMALS)


def play(replay: Replay, scenario: Scenario, *,
         on_stage: Callable[[str], None] | None = None) -> Played:
    """The enabled strategies applied one at a time, in the order of STRATEGIES, to the priced
    baseline `replay`, and each alone. When some steps end up priced on one side only, they
    are left out of the baseline and every stage, and the strategies played again."""
    enabled = [strategy for strategy in STRATEGIES if strategy.enabled(scenario)]
    played = _play(replay, scenario, enabled, on_stage)
    left = one_sided(replay.priced, played.after.priced)
    if not left.height:
        return played
    again = _play(leaving_out(replay, left), scenario, enabled, None)
    return replace(again, left_out_steps=left.height)


def _play(replay: Replay, scenario: Scenario, enabled: list[Strategy[Any]],
          on_stage: Callable[[str], None] | None) -> Played:
    baseline = Baseline(replay, replay.total_usd)
    after, waterfall, alone, touched = replay, [], [], {}
    for strategy in enabled:
        if on_stage is not None:
            on_stage(strategy.name)
        applied = strategy.apply(after, scenario)
        touched[strategy.name] = applied.touched
        waterfall.append(Stage(strategy.name, applied.after.total_usd,
                               *unpriced_totals(applied.after.priced)))
        alone.append((strategy.name, strategy.alone(applied, scenario, baseline)))
        after = applied.after
    return Played(replay, after, waterfall, alone, touched)


def simulate(steps: pl.DataFrame, table: PriceTable, scenario: Scenario, *,
             cost_mode: str = "computed", on_stage: Callable[[str], None] | None = None
             ) -> Simulation:
    """Baseline, the waterfall (the enabled strategies added one at a time, in the order of
    STRATEGIES) and each strategy alone, with what each touched. `on_stage` hears of each
    stage (of `stages_of(scenario)`) as it starts."""
    if on_stage is not None:
        on_stage("pricing")
    played = play(_replay(steps, table, cost_mode), scenario, on_stage=on_stage)
    before = outcome(played.baseline.priced)
    result = before if played.after is played.baseline else outcome(played.after.priced)
    enabled = [strategy for strategy in STRATEGIES if strategy.enabled(scenario)]
    caveats = [strategy.caveat for strategy in enabled] + [
        caveat for touched in played.touched.values() for caveat in touched.caveats()]
    if played.left_out_steps:
        caveats.append(
            f"{plural(played.left_out_steps, 'step')} priced on one side only (the scenario "
            "cannot price it, or it was unpriced as recorded; listed with the unpriced steps) "
            f"{'is' if played.left_out_steps == 1 else 'are'} left out of both totals: the "
            "saving is over the steps priced on both sides.")
    return Simulation(scenario, before, result, played.waterfall, played.alone, played.touched,
                      caveats, [warning for touched in played.touched.values()
                                for warning in touched.warnings()], played.left_out_steps)


def _replay(steps: pl.DataFrame, table: PriceTable, cost_mode: str) -> Replay:
    def price(frame: pl.DataFrame) -> pl.DataFrame:
        return price_steps(frame.lazy(), table, cost_mode=cost_mode).collect()

    # Only what pricing and the strategies read: each stage copies the rows it keeps, and a
    # column nobody reads (even one of nulls) would be copied with them.
    return Replay.start(steps.select(c for c in SIMULATED_COLUMNS if c in steps.columns),
                        table, price)


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
