"""Savings detected automatically: one detector per strategy, each proposing scenarios from a
survey of the report's steps (labels, tools, the median task), measured by playing them with
the `simulate` engine on the executor that ran the report, and naming the command that
measures the same figure (the same inputs, window, price table and reading)."""

from __future__ import annotations

import datetime as dt
import glob
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from agentcost.money import EXACT, MONEY_DECIMALS, exact_partial, rounded_money
from agentcost.pricing.resolve import resolve_model
from agentcost.pricing.table import PriceTable
from agentcost.renderers.text import agreeing, plural
from agentcost.simulation.engine import Measure
from agentcost.simulation.replay import Replay
from agentcost.simulation.scenario import CacheRule, Compression, Route, Scenario
from agentcost.simulation.strategies import BUDGET, CACHING, COMPRESSION, ROUTING
from agentcost.simulation.strategies.base import Tally
from agentcost.simulation.strategies.budget import RUNAWAY_MULTIPLE
from agentcost.simulation.strategies.caching import CachingTouched

if TYPE_CHECKING:
    from agentcost.engine.protocol import Executor, ReadRequest
    from agentcost.engine.simulated import SimulateRun
    from agentcost.simulation.engine import Measured, SweepPoint

# A cheaper sibling, by name: "-mini" of the same model, or a family a size down.
DOWNGRADES = ((re.compile(r"^(.*)$"), r"\1-mini"),
              (re.compile(r"sonnet"), "haiku"), (re.compile(r"opus"), "sonnet"),
              (re.compile(r"-pro\b"), "-flash"), (re.compile(r"^o3$"), "o4-mini"))
TOP_LABELS = 3
CACHE_TTL_SECONDS = 3600
COMPRESS_AFTER, KEEP_LAST = 5, 3


@dataclass(frozen=True)
class Opportunity:
    kind: str  # routing, caching, compression, budget
    what: str
    saving_usd: float
    command: str


def cheaper_sibling(model: str, table: PriceTable) -> str | None:
    resolved = resolve_model(model, table).model
    if resolved is None:
        return None
    current = table.models[resolved].current
    for pattern, replacement in DOWNGRADES:
        candidate = pattern.sub(replacement, resolved, count=1)
        target = resolve_model(candidate, table).model if candidate != resolved else None
        if target and target != resolved:
            prices = table.models[target].current
            if prices.input < current.input and 0 < prices.output < current.output:
                return target
    return None



@dataclass(frozen=True)
class Reproduction:
    """What each printed `agentcost simulate` command needs, besides its strategy, to measure
    the very steps the report priced: the inputs, the report's window as absolute times (a
    span back from now, like 24h, would have moved), the price table when it is not the
    shipped one, and how the inputs were read and made into tasks, when not the defaults."""

    inputs: tuple[str, ...]
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    prices: str | None = None
    input_format: str = "auto"
    task_key: str = "trace"

    def command(self, *strategy: str) -> str:
        words = ["agentcost", "simulate", *self.inputs, *strategy]
        for flag, value in (("--since", self.since), ("--until", self.until)):
            if value is not None:
                words += [flag, value.isoformat()]
        if self.prices is not None:
            words += ["--prices", self.prices]
        if self.input_format != "auto":
            words += ["--input-format", self.input_format]
        if self.task_key != "trace":
            words += ["--task-key", self.task_key]
        return shlex.join(words)


@dataclass(frozen=True, eq=False)
class Survey:
    """What the detectors look at, over every step of the window priced at computed cost: the
    LLM calls by label and model (calls, cost), the tools called with recorded arguments, the
    total; and the price table (for cheaper models), what the commands they print need, and
    the median task's cost."""

    labels: pl.DataFrame  # name, model, calls, cost: costliest first
    tools: list[str]
    total_usd: float
    table: PriceTable
    reproduction: Reproduction
    median_task_usd: float


def survey_tally(replay: Replay) -> Tally:
    """One partition's share of the survey, from its baseline (priced at computed cost)."""
    priced = replay.priced
    calls = priced.filter(pl.col("kind").cast(pl.String).is_in(["llm", "embedding"])
                          & pl.col("name").is_not_null())
    labels = (calls.group_by(pl.col("name").cast(pl.String), pl.col("model").cast(pl.String))
              .agg(pl.len().cast(pl.Int64).alias("calls"),
                   exact_partial(pl.col("llm_cost_usd")).alias("cost")))
    tools = (priced.filter(pl.col("tool_name").is_not_null() & pl.col("tool_args").is_not_null())
             .select(pl.col("tool_name").cast(pl.String).unique()))
    return {"labels": labels, "tools": tools,
            "total": pl.DataFrame({"total": pl.Series([replay.total], dtype=EXACT)})}


def survey_of(tally: Tally, table: PriceTable, reproduction: Reproduction,
              median_task_usd: float) -> Survey:
    """The survey every partition's tally makes together."""
    labels = (tally["labels"].group_by("name", "model")
              # The partitions' exact sums added, then rounded as every money sum is.
              .agg(pl.col("calls").sum(),
                   pl.col("cost").sum().cast(pl.Float64).round(MONEY_DECIMALS))
              .sort(["cost", "name", "model"], descending=[True, False, False]))
    return Survey(labels, sorted(set(tally["tools"]["tool_name"].to_list())),
                  rounded_money(tally["total"]["total"]), table, reproduction, median_task_usd)


# What a proposal is, as an opportunity, from what was measured (None: no saving there).
Judge = Callable[["Measured | None", "SweepPoint | None"], "Opportunity | None"]


@dataclass(frozen=True)
class Proposal:
    """A saving to measure: a scenario to play (or a budget to sweep), and its judge."""

    measure: Measure | None
    budget: float | None
    judged: Judge


def find_opportunities(executor: Executor, read: ReadRequest, table: PriceTable,
                       reproduction: Reproduction, median_task_usd: float, *,
                       window_start: dt.datetime | None = None,
                       window_end: dt.datetime | None = None) -> list[Opportunity]:
    """Each saving is measured by the `simulate` engine on the steps `read` gives in the
    window, as the command printed beside it measures it on the same inputs: a survey of the
    steps first, then every proposal played together, on the executor's partitions."""
    from agentcost.engine.simulated import SimulateRequest

    def simulated(measures: list[Measure], budgets: list[float], survey: bool
                  ) -> SimulateRun:
        return executor.simulate(SimulateRequest(read, table, "computed", window_start,
                                                 window_end, (), budgets, survey=survey,
                                                 measures=measures))

    surveyed = simulated([], [], True)
    if not surveyed.survey:  # no step in the window
        return []
    survey = survey_of(surveyed.survey, table, reproduction, median_task_usd)
    proposals = [each for propose in DETECTORS for each in propose(survey)]
    if not proposals:
        return []
    run = simulated([each.measure for each in proposals if each.measure is not None],
                    [each.budget for each in proposals if each.budget is not None], False)
    measured, points = iter(run.measured), iter(run.budget_sweep)
    found: list[Opportunity] = []
    for proposal in proposals:
        figures = next(measured) if proposal.measure is not None else None
        point = next(points) if proposal.budget is not None else None
        opportunity = proposal.judged(figures, point)
        if opportunity is not None:
            found.append(opportunity)
    routed = [each for each in found if each.kind == ROUTING.name][:TOP_LABELS]
    found = [each for each in found if each.kind != ROUTING.name] + routed
    return sorted(found, key=lambda o: (-o.saving_usd, o.kind, o.what))


def routing_proposals(survey: Survey) -> list[Proposal]:
    """The costliest labels that run on one model with a cheaper sibling, each routed alone
    (the first TOP_LABELS that save)."""
    # A label that runs on several models is left out: `--route LABEL=MODEL` would move all
    # of them, and the estimate would not be what the command checks.
    models = survey.labels.group_by("name").agg(pl.len().alias("models"))
    single_model = models.filter(pl.col("models") == 1)["name"]
    by_label = survey.labels.filter(pl.col("name").is_in(single_model.implode()))
    total = survey.total_usd
    proposals = []
    for label, model, count, cost in by_label.head(TOP_LABELS * 3).iter_rows():
        target = cheaper_sibling(model, survey.table) if model else None
        if not target:
            continue
        pattern = glob.escape(label)  # routes and cache rules take globs: match this one name
        share = float(cost or 0.0) / total if total else 0.0
        what = (f"step {label!r} runs {plural(count, 'call')} on {model} ({100 * share:.1f}% "
                f"of spend); on {target} the same tokens would cost less")
        command = survey.reproduction.command("--route", f"{pattern}={target}")
        # Routing changes only the steps it routes: its saving over them is its saving.
        measure = Measure(Scenario(routes=(Route(pattern, target),)), label)
        proposals.append(Proposal(measure, None, _when_saving(ROUTING.name, what, command)))
    return proposals


def _when_saving(kind: str, what: str, command: str) -> Judge:
    def judged(figures: Measured | None, _: SweepPoint | None) -> Opportunity | None:
        assert figures is not None
        return (Opportunity(kind, what, figures.saving_usd, command)
                if figures.saving_usd > 0 else None)

    return judged


def caching_proposals(survey: Survey) -> list[Proposal]:
    """Each tool with recorded arguments, cached alone for an hour."""
    proposals = []
    for tool in survey.tools:
        rule = CacheRule(glob.escape(tool), CACHE_TTL_SECONDS)
        command = survey.reproduction.command("--cache", f"{glob.escape(tool)}:1h")
        proposals.append(Proposal(Measure(Scenario(cache=(rule,))), None,
                                  _cache_judged(tool, command)))
    return proposals


def _cache_judged(tool: str, command: str) -> Judge:
    def judged(figures: Measured | None, _: SweepPoint | None) -> Opportunity | None:
        assert figures is not None
        touched = figures.touched[CACHING.name]
        assert isinstance(touched, CachingTouched)
        row = next((each for each in touched.per_tool if each.tool_name == tool), None)
        saved = figures.saving_usd
        if row is None or not row.hits or saved <= 0:
            return None
        return Opportunity(CACHING.name,
                           f"{tool}: {row.hits:,} of {plural(row.calls, 'call')} "
                           f"({100 * row.hits / row.calls:.0f}%) repeat a call made within "
                           "the hour", saved, command)

    return judged


def compression_proposals(survey: Survey) -> list[Proposal]:
    """History compressed after step 5, keeping the last 3 steps whole."""
    command = survey.reproduction.command("--compress-after", str(COMPRESS_AFTER),
                                          "--keep-last", str(KEEP_LAST))

    def judged(figures: Measured | None, _: SweepPoint | None) -> Opportunity | None:
        assert figures is not None
        touched = figures.touched[COMPRESSION.name]
        saved = figures.saving_usd
        if not touched.steps or saved <= 0:
            return None
        return Opportunity(
            COMPRESSION.name,
            f"{plural(touched.tasks, 'task')} {agreeing(touched.tasks, 'runs', 'run')} past "
            f"step {COMPRESS_AFTER} with a growing context; keeping the last {KEEP_LAST} "
            "steps whole and summarising the rest", saved, command)

    return [Proposal(Measure(Scenario(compression=Compression(COMPRESS_AFTER, KEEP_LAST))),
                     None, judged)]


def budget_proposals(survey: Survey) -> list[Proposal]:
    """A per-task budget at 5x the median task, and the tasks it would have stopped."""
    budget = round(RUNAWAY_MULTIPLE * survey.median_task_usd, 2)
    if budget <= 0:
        return []
    command = survey.reproduction.command(
        "--budget-sweep", f"{budget / 2:.2f},{budget:.2f},{budget * 2:.2f}")

    def judged(_: Measured | None, point: SweepPoint | None) -> Opportunity | None:
        assert point is not None
        if not point.tasks_cut:
            return None
        return Opportunity(
            BUDGET.name,
            f"a ${budget:.2f} budget per task (5x the median task) would have stopped "
            f"{plural(point.tasks_cut, 'task')}",
            point.saving_usd,  # what the sweep's line for this budget measures
            command)

    return [Proposal(None, budget, judged)]


DETECTORS: tuple[Callable[[Survey], list[Proposal]], ...] = (
    routing_proposals, caching_proposals, compression_proposals, budget_proposals)
