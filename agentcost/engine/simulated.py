"""The simulation's plan: plain polars functions every executor runs over its partitions of
whole tasks, as engine/plan.py's are for the report.

1. Only when a scenario caches tool calls: per task partition, `cache_calls` (the calls a
   cache replays); those go to partitions by tool and arguments (`call_bucket`), where
   `hits_in` finds the hits: a call's key decides whether it hits, whatever task made it.
2. Per task partition (settled, engine/plan.settle): `partition_share`: the window, then
   each scenario played (simulation/engine.share, with the hits found in 1) and the budget
   sweep's tallies.
3. Once: `simulated` puts the partitions' shares together (simulation/engine.finish).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import datetime as dt

    from agentcost.engine.protocol import ReadRequest
    from agentcost.ingest.accounting import LineAccounting
    from agentcost.pricing.table import PriceTable
    from agentcost.simulation.engine import (
        Measure,
        Measured,
        MeasureShare,
        Simulation,
        SimulationShare,
        SweepPoint,
    )
    from agentcost.simulation.scenario import Scenario
    from agentcost.simulation.strategies.base import Tally

SCENARIO = "_scenario"  # which of the request's scenarios a tool call is keyed for
CALL_HASH_SEED = 20261208
# Hits per scenario: the `_row` of every cache hit of the run.
Hits = dict[int, pl.Series]


@dataclass(frozen=True)
class SimulateRequest:
    """Scenarios to replay on the steps of a reading, and budgets to sweep. `stage` hears of
    each stage as it starts: its name, its number and how many there are."""

    read: ReadRequest
    table: PriceTable
    cost_mode: str
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    scenarios: Sequence[Scenario]
    budgets: Sequence[float]
    stage: Callable[[str, int, int], None] | None = None
    # What the opportunities ask (analysis/opportunities.py): a survey of the steps, and
    # scenarios measured for their saving alone.
    survey: bool = False
    measures: Sequence[Measure] = ()

    @property
    def played(self) -> list[Scenario]:
        """Every scenario played: the scenarios, then the measures'."""
        return [*self.scenarios, *(measure.scenario for measure in self.measures)]

    @property
    def caching(self) -> list[int]:
        """The scenarios played that cache tool calls, by place among `played`."""
        return [index for index, scenario in enumerate(self.played) if scenario.cache]


@dataclass(frozen=True)
class SimulateRun:
    simulations: tuple[Simulation, ...]
    budget_sweep: tuple[SweepPoint, ...]
    accounting: LineAccounting
    steps_outside: int  # left out by the window
    steps_untimed: int
    survey: Tally | None = None  # when asked for
    measured: tuple[Measured, ...] = ()


@dataclass(frozen=True)
class PartitionShare:
    """A partition's share of every scenario and of the budget sweep, and what the window
    left out of it."""

    simulations: list[SimulationShare]
    sweep: list[Tally]
    outside: int
    untimed: int
    survey: Tally | None = None
    measured: list[MeasureShare] = field(default_factory=list)


def windowed(settled: pl.DataFrame, request: SimulateRequest
             ) -> tuple[pl.DataFrame, int, int]:
    """The partition's steps the window keeps, with what it left out and how many steps
    have no time."""
    from agentcost.analysis.window import window_filter

    steps, window = window_filter(settled, request.window_start, request.window_end)
    return (steps, window.steps_outside if window else 0,
            window.steps_untimed if window else 0)


def cache_calls(settled: pl.DataFrame, request: SimulateRequest) -> pl.DataFrame:
    """The tool calls each caching scenario replays among the partition's steps in the
    window, with the scenario's place (`SCENARIO`)."""
    from agentcost.simulation.replay import number_rows
    from agentcost.simulation.strategies.caching import keyed_calls

    steps = number_rows(windowed(settled, request)[0])
    played = request.played
    return pl.concat([keyed_calls(steps, played[index].cache)
                      .with_columns(pl.lit(index, pl.Int32).alias(SCENARIO))
                      for index in request.caching], how="vertical_relaxed")


def call_bucket(buckets: int) -> pl.Expr:
    """Which of `buckets` partitions a tool call goes to: every call of a key (scenario,
    tool, arguments) to the same one."""
    key = pl.struct(SCENARIO, pl.col("tool_name").cast(pl.String), "tool_args")
    return (key.hash(CALL_HASH_SEED) % buckets).cast(pl.Int32)


def hits_in(calls: pl.DataFrame) -> Hits:
    """The cache hits among every call of some keys, by scenario."""
    from agentcost.simulation.strategies.caching import hits_among

    return {int(index): hits_among(part) for (index,), part
            in calls.partition_by(SCENARIO, as_dict=True, include_key=False).items()}


def hits_together(found: Iterable[Hits], request: SimulateRequest) -> Hits:
    """The hits each key partition found, by scenario: every caching scenario has its own
    (none: no call hits)."""
    gathered: dict[int, list[pl.Series]] = {index: [] for index in request.caching}
    for hits in found:
        for index, rows in hits.items():
            gathered[index].append(rows)
    return {index: pl.concat(rows) if rows else pl.Series("_row", [], pl.Int64)
            for index, rows in gathered.items()}


def partition_share(settled: pl.DataFrame, request: SimulateRequest, hits: Hits | None,
                    stages: Stages | None = None) -> PartitionShare:
    """The partition's share of each scenario and of the sweep. `hits`: the run's cache hits
    by scenario (None: these steps are the whole run, and find their own). `stages`: told of
    each scenario's stages (the whole run in one partition)."""
    from dataclasses import replace

    from agentcost.simulation.engine import (
        baseline_replay,
        measure_share,
        outcome_share,
        share,
        sweep_share,
    )

    steps, outside, untimed = windowed(settled, request)
    # Priced once: every scenario and the sweep start from the same baseline.
    replay = baseline_replay(steps, request.table, request.cost_mode)
    del steps
    baseline = outcome_share(replay.priced) if request.scenarios else None
    named = len(request.scenarios) > 1
    shares = []
    for index, scenario in enumerate(request.scenarios):
        on_stage = None if stages is None else stages.of(scenario.name if named else None)
        hit = None if hits is None else hits.get(index)
        shares.append(share(replace(replay, cache_hits=hit), scenario, on_stage=on_stage,
                            baseline=baseline))
    sweep: list[Tally] = []
    if request.budgets:
        if stages is not None:
            stages.starting("budget sweep")
        sweep = sweep_share(replay, request.budgets)
    survey = None
    if request.survey:
        from agentcost.analysis.opportunities import survey_tally

        survey = survey_tally(replay)
    first = len(request.scenarios)
    measured = [measure_share(replace(replay, cache_hits=None if hits is None
                                      else hits.get(first + index)), measure)
                for index, measure in enumerate(request.measures)]
    return PartitionShare(shares, sweep, outside, untimed, survey, measured)


def simulated(request: SimulateRequest, shares: Sequence[PartitionShare],
              accounting: LineAccounting) -> SimulateRun:
    """The run every partition's share makes together."""
    from agentcost.engine.plan import no_steps
    from agentcost.simulation.engine import finish, measured, sweep_of
    from agentcost.simulation.strategies.base import tallies_together

    if not shares:  # no step in any partition: the simulation of nothing, as one pass gives
        shares = [partition_share(no_steps(), request, None)]

    simulations = tuple(finish(scenario, [each.simulations[index] for each in shares])
                        for index, scenario in enumerate(request.scenarios))
    sweep = (sweep_of(request.budgets, [each.sweep for each in shares])
             if request.budgets else [])
    survey = (tallies_together([each.survey for each in shares if each.survey is not None])
              if request.survey else None)
    measures = tuple(measured(measure, [each.measured[index] for each in shares])
                     for index, measure in enumerate(request.measures))
    return SimulateRun(simulations, tuple(sweep), accounting,
                       sum(each.outside for each in shares),
                       sum(each.untimed for each in shares), survey, measures)


@dataclass
class Stages:
    """Numbers an executor's stages for the request's `stage`."""

    request: SimulateRequest
    total: int
    started: int = field(default=0)

    @classmethod
    def of_scenarios(cls, request: SimulateRequest) -> Stages:
        """Each scenario's stages, then the budget sweep's."""
        from agentcost.simulation.engine import stages_of

        return cls(request, sum(len(stages_of(scenario)) for scenario in request.scenarios)
                   + (1 if request.budgets else 0))

    def starting(self, name: str) -> None:
        self.started += 1
        if self.request.stage is not None:
            self.request.stage(name, self.started, self.total)

    def of(self, scenario: str | None) -> Callable[[str], None]:
        """The stages of one scenario, named after it when there are several."""
        return lambda stage: self.starting(stage if scenario is None else f"{scenario}: {stage}")
