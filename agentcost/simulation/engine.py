"""Replay recorded steps under a scenario: baseline, each strategy alone, and the strategies
combined in a stated order (routing, tool caching, history compression, budgets), as a waterfall
because savings compound rather than add. Steps priced on one side only are left out of both
(simulation/comparable.py), so a saving is only ever taken over steps priced on both sides.

A simulation is played on whole tasks: `share` plays it on one partition of a run's steps (all
of them, for one process) and gives exact partial sums and tallies; `finish` puts the
partitions' shares together into the figures one pass over every step would give, byte for
byte. What crosses tasks is found over the whole run before: the tool-cache hits
(`caching.hits_among`, by tool and arguments) and, at the finish, the median task that tells
a budget's runaways."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import polars as pl

from agentcost.engine.quantiles import nearest_ranks
from agentcost.money import EXACT, MONEY_DECIMALS, rounded_money
from agentcost.pricing.cost import has_unpriced_part, price_steps
from agentcost.pricing.table import PriceTable
from agentcost.renderers.text import plural
from agentcost.simulation.comparable import leaving_out, one_sided
from agentcost.simulation.replay import POSITION, TASK_COLUMN, TOKEN_COLUMNS, Replay
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.strategies import STRATEGIES
from agentcost.simulation.strategies.base import (
    Baseline,
    Strategy,
    Tally,
    Touched,
    tallies_together,
)
from agentcost.simulation.strategies.budget import (
    cut_figures,
    cut_tally,
    mark_cut,
    task_costs,
)


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


@dataclass(frozen=True)
class OutcomeShare:
    """One partition's share of an outcome: money as exact partial sums (in MONEY's order),
    counts, the unpriced steps by what and why, and the cost of each task priced whole."""

    money: tuple[Decimal, ...]
    steps: int
    tasks: int
    unpriced_steps: int
    unpriced_tokens: int
    unpriced: pl.DataFrame  # what, reason, steps, tokens
    whole_costs: pl.Series
    tasks_left_out: int


def outcome_share(priced: pl.DataFrame) -> OutcomeShare:
    """Sums per task (exact), then the partition's totals from those few rows."""
    per_task = priced.group_by(TASK_COLUMN).agg(
        *(pl.col(name).cast(EXACT).sum() for name in MONEY),
        pl.len().alias("steps"),
        has_unpriced_part().sum().alias("unpriced"),
        pl.when(has_unpriced_part()).then(TOKENS).sum().alias("unpriced_tokens"),
    )
    totals = per_task.select(*(pl.col(name).sum() for name in MONEY), pl.col("steps").sum(),
                             pl.col("unpriced").sum(), pl.col("unpriced_tokens").sum()).row(0)
    # Over the tasks priced whole, as the report's: an unpriced step's cost is unknown.
    whole = per_task.filter(pl.col("unpriced") == 0)
    return OutcomeShare(tuple(Decimal(value or 0) for value in totals[:4]), int(totals[4] or 0),
                        per_task.height, int(totals[5] or 0), int(totals[6] or 0),
                        unpriced_groups(priced), whole["total_cost_usd"].cast(pl.Float64),
                        per_task.height - whole.height)


def outcome_of(shares: Sequence[OutcomeShare]) -> Outcome:
    """The outcome of every partition's share: money rounded once, the percentiles over every
    task priced whole (exact nearest ranks, engine/quantiles.py)."""
    money = [rounded_money(share.money[index] for share in shares)
             for index in range(len(MONEY))]
    unpriced = (pl.concat([share.unpriced for share in shares], how="vertical")
                .group_by("what", "reason").agg(pl.col("steps", "tokens").sum())
                .sort(["steps", "what", "reason"], descending=[True, False, False]))
    percentiles = nearest_ranks(lambda: (share.whole_costs for share in shares), (50, 90, 99))
    return Outcome(money[0], money[1], money[2], money[3], sum(share.steps for share in shares),
                   sum(share.tasks for share in shares),
                   {int(p): value for p, value in percentiles.items()},
                   sum(share.unpriced_steps for share in shares),
                   sum(share.unpriced_tokens for share in shares),
                   tuple(UnpricedSteps(str(w), str(r), int(n), int(t))
                         for w, r, n, t in unpriced.iter_rows()),
                   tasks_left_out=sum(share.tasks_left_out for share in shares))


def unpriced_groups(priced: pl.DataFrame) -> pl.DataFrame:
    """The steps with a part that has no price, by model (or tool) and reason."""
    llm = pl.col("unpriced_reason").is_not_null()
    what = (pl.when(llm).then(pl.col("model").cast(pl.String).fill_null("(no model)"))
            .otherwise(pl.format("tool {}", pl.col("tool_name").cast(pl.String))))
    reason = pl.when(llm).then(pl.col("unpriced_reason")).otherwise(
        pl.lit("no price for the tool call"))
    return (priced.filter(has_unpriced_part())
            .group_by(what.alias("what"), reason.alias("reason"))
            .agg(pl.len().cast(pl.Int64).alias("steps"), TOKENS.sum().cast(pl.Int64)
                 .alias("tokens")))


def unpriced_totals(priced: pl.DataFrame) -> tuple[int, int]:
    """How many steps a total over `priced` excludes in part, and their tokens."""
    steps, tokens = priced.select(has_unpriced_part().sum(),
                                  pl.when(has_unpriced_part()).then(TOKENS).sum()).row(0)
    return int(steps or 0), int(tokens or 0)


def stages_of(scenario: Scenario) -> list[str]:
    """The stages `simulate` goes through, named as it tells them."""
    return ["pricing"] + [strategy.name for strategy in STRATEGIES if strategy.enabled(scenario)]


@dataclass(frozen=True)
class StageShare:
    """A partition's running total after a strategy of the waterfall (exact), and the steps
    it excludes."""

    total: Decimal
    unpriced_steps: int
    unpriced_tokens: int


@dataclass(frozen=True, eq=False)
class Played:
    """A scenario played on a baseline: the baseline as compared (steps priced on one side
    only left out), the state after every strategy, and what each stage did."""

    baseline: Replay
    after: Replay
    waterfall: list[tuple[str, StageShare]]
    alone: list[tuple[str, Decimal]]  # (strategy, total with it alone), exact
    tallies: dict[str, Tally]
    left_out_steps: int = 0


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
    baseline = Baseline(replay, replay.total)
    after, waterfall, alone, tallies = replay, [], [], {}
    for strategy in enabled:
        if on_stage is not None:
            on_stage(strategy.name)
        applied = strategy.apply(after, scenario)
        tallies[strategy.name] = applied.tally
        waterfall.append((strategy.name, StageShare(applied.after.total,
                                                    *unpriced_totals(applied.after.priced))))
        alone.append((strategy.name, strategy.alone(applied, scenario, baseline)))
        after = applied.after
    return Played(replay, after, waterfall, alone, tallies)


@dataclass(frozen=True)
class SimulationShare:
    """One partition's share of a simulation (whole tasks): the outcomes before and after
    (None after: no strategy changed a step here), each stage's and each strategy alone's
    exact total, the strategies' tallies, and the steps left out of both sides."""

    baseline: OutcomeShare
    result: OutcomeShare | None
    waterfall: list[tuple[str, StageShare]]
    alone: list[tuple[str, Decimal]]
    tallies: dict[str, Tally]
    left_out_steps: int


def share(replay: Replay, scenario: Scenario, *,
          on_stage: Callable[[str], None] | None = None,
          baseline: OutcomeShare | None = None) -> SimulationShare:
    """The scenario played on the priced baseline `replay` (`baseline_replay`: whole tasks,
    with the run's cache hits when they are a partition of it). `baseline`: the baseline's
    outcome share, when another scenario measured it already."""
    if on_stage is not None:
        on_stage("pricing")
    played = play(replay, scenario, on_stage=on_stage)
    if baseline is None or played.baseline.priced is not replay.priced:  # some left out
        baseline = outcome_share(played.baseline.priced)
    unchanged = played.after is played.baseline
    return SimulationShare(baseline, None if unchanged else outcome_share(played.after.priced),
                           played.waterfall, played.alone, played.tallies,
                           played.left_out_steps)


@dataclass(frozen=True)
class Measure:
    """A scenario of which only the saving and what each strategy touched are wanted (what
    the opportunities measure), played on the steps of one step `label` only when given (a
    route of that label changes no other step)."""

    scenario: Scenario
    label: str | None = None


@dataclass(frozen=True)
class MeasureShare:
    """One partition's share of a measure: the totals before and after, exact, and the
    strategies' tallies."""

    baseline: Decimal
    after: Decimal
    tallies: dict[str, Tally]


@dataclass(frozen=True)
class Measured:
    saving_usd: float
    touched: dict[str, Touched]


def measure_share(replay: Replay, measure: Measure) -> MeasureShare:
    """The measure played on the priced baseline `replay`."""
    if measure.label is not None:
        replay = replay.where(pl.col("name").cast(pl.String) == measure.label)
    played = play(replay, measure.scenario)
    return MeasureShare(played.baseline.total, played.after.total, played.tallies)


def measured(measure: Measure, shares: Sequence[MeasureShare]) -> Measured:
    """The saving (each side rounded, as a simulation's totals are) and what each strategy
    touched, from every partition's share."""
    before = rounded_money(each.baseline for each in shares)
    after = rounded_money(each.after for each in shares)
    enabled = [strategy for strategy in STRATEGIES if strategy.enabled(measure.scenario)]
    return Measured(round(before - after, MONEY_DECIMALS), {
        strategy.name: strategy.touched(
            tallies_together([each.tallies[strategy.name] for each in shares]),
            measure.scenario) for strategy in enabled})


def finish(scenario: Scenario, shares: Sequence[SimulationShare]) -> Simulation:
    """The simulation every partition's share makes together."""
    before = outcome_of([each.baseline for each in shares])
    changed = [each.result for each in shares if each.result is not None]
    result = before if not changed else outcome_of(
        [each.baseline if each.result is None else each.result for each in shares])
    enabled = [strategy for strategy in STRATEGIES if strategy.enabled(scenario)]
    waterfall = [Stage(strategy.name,
                       rounded_money(each.waterfall[index][1].total for each in shares),
                       sum(each.waterfall[index][1].unpriced_steps for each in shares),
                       sum(each.waterfall[index][1].unpriced_tokens for each in shares))
                 for index, strategy in enumerate(enabled)]
    alone = [(strategy.name, rounded_money(each.alone[index][1] for each in shares))
             for index, strategy in enumerate(enabled)]
    touched = {strategy.name: strategy.touched(
        tallies_together([each.tallies[strategy.name] for each in shares]), scenario)
        for strategy in enabled}
    left_out = sum(each.left_out_steps for each in shares)
    caveats = [strategy.caveat for strategy in enabled] + [
        caveat for figures in touched.values() for caveat in figures.caveats()]
    if left_out:
        caveats.append(
            f"{plural(left_out, 'step')} priced on one side only (the scenario "
            "cannot price it, or it was unpriced as recorded; listed with the unpriced steps) "
            f"{'is' if left_out == 1 else 'are'} left out of both totals: the "
            "saving is over the steps priced on both sides.")
    return Simulation(scenario, before, result, waterfall, alone, touched, caveats,
                      [warning for figures in touched.values() for warning in figures.warnings()],
                      left_out)


def simulate(steps: pl.DataFrame, table: PriceTable, scenario: Scenario, *,
             cost_mode: str = "computed", on_stage: Callable[[str], None] | None = None
             ) -> Simulation:
    """Baseline, the waterfall (the enabled strategies added one at a time, in the order of
    STRATEGIES) and each strategy alone, with what each touched. `on_stage` hears of each
    stage (of `stages_of(scenario)`) as it starts."""
    return finish(scenario, [share(baseline_replay(steps, table, cost_mode), scenario,
                                   on_stage=on_stage)])


def baseline_replay(steps: pl.DataFrame, table: PriceTable, cost_mode: str) -> Replay:
    """The steps (whole tasks, in input order, with `_order` when they are a partition of a
    run) numbered and priced: the baseline every scenario on them starts from."""
    def price(frame: pl.DataFrame) -> pl.DataFrame:
        return price_steps(frame.lazy(), table, cost_mode=cost_mode).collect()

    # Only what pricing and the strategies read: each stage copies the rows it keeps, and a
    # column nobody reads (even one of nulls) would be copied with them.
    read = (*SIMULATED_COLUMNS, POSITION)
    return Replay.start(steps.select(c for c in read if c in steps.columns), table, price)


@dataclass(frozen=True)
class SweepPoint:
    budget_usd: float
    tasks_cut: int
    runaways_cut: int
    runaway_tasks: int
    normal_tasks_cut: int
    saving_usd: float


def sweep_share(replay: Replay, budgets: Sequence[float]) -> list[Tally]:
    """One partition's share of a budget sweep on its baseline `replay`: for each budget
    alone (in the order given), the tally of its cut, with every task's recorded cost."""
    priced = replay.priced
    costs = task_costs(priced)
    return [{"recorded": costs.select("cost", "unpriced"),
             **cut_tally(mark_cut(priced, budget, None), costs)} for budget in budgets]


def sweep_of(budgets: Sequence[float], shares: Sequence[list[Tally]]) -> list[SweepPoint]:
    """For each budget alone: how many tasks it cuts, runaways (over 5x the median task) and
    normal ones, and the money not spent, from every partition's `sweep_share`."""
    points = []
    for index, budget in enumerate(budgets):
        cut = cut_figures(tallies_together([each[index] for each in shares]))
        points.append(SweepPoint(budget, cut.tasks, cut.runaways_cut, cut.runaway_tasks,
                                 cut.normal_tasks_cut, cut.saved_usd))
    return sorted(points, key=lambda point: point.budget_usd)


def budget_sweep(steps: pl.DataFrame, table: PriceTable, budgets: list[float], *,
                 cost_mode: str = "computed") -> list[SweepPoint]:
    """`sweep_of` the steps all in one partition."""
    return sweep_of(budgets, [sweep_share(baseline_replay(steps, table, cost_mode), budgets)])
