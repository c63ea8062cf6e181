"""Savings detected automatically: one detector per strategy, each measuring a saving by playing
the strategy on the report's steps with the `simulate` engine, and naming the command that
measures the same figure (the same inputs, window, price table and reading)."""

from __future__ import annotations

import datetime as dt
import glob
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from agentcost.money import exact_sum
from agentcost.pricing.cost import price_steps
from agentcost.pricing.resolve import resolve_model
from agentcost.pricing.table import PriceTable
from agentcost.renderers.text import agreeing, plural
from agentcost.simulation.engine import play
from agentcost.simulation.replay import Replay
from agentcost.simulation.scenario import CacheRule, Compression, Route, Scenario
from agentcost.simulation.strategies import BUDGET, CACHING, COMPRESSION, ROUTING
from agentcost.simulation.strategies.budget import RUNAWAY_MULTIPLE
from agentcost.simulation.strategies.caching import CachingTouched

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
    """What the detectors look at: the recorded steps priced at computed cost, the price table
    (for cheaper models), what the commands they print need, and the median task's cost."""

    replay: Replay
    table: PriceTable
    reproduction: Reproduction
    median_task_usd: float


def find_opportunities(steps: pl.DataFrame, table: PriceTable, reproduction: Reproduction,
                       median_task_usd: float) -> list[Opportunity]:
    """Each saving is measured by the `simulate` engine on `steps` (the report's, in its
    window), as the command printed beside it measures it on the same inputs."""
    replay = Replay.start(steps, table, lambda frame: price_steps(frame.lazy(), table).collect())
    survey = Survey(replay, table, reproduction, median_task_usd)
    found = [opportunity for detect in DETECTORS for opportunity in detect(survey)]
    return sorted(found, key=lambda o: (-o.saving_usd, o.kind, o.what))


def routing_opportunities(survey: Survey) -> list[Opportunity]:
    """The costliest labels that run on one model with a cheaper sibling, each routed alone."""
    priced = survey.replay.priced
    calls = priced.filter(pl.col("kind").cast(pl.String).is_in(["llm", "embedding"])
                          & pl.col("name").is_not_null())
    by_label = (calls.group_by(pl.col("name").cast(pl.String), pl.col("model").cast(pl.String))
                .agg(pl.len().alias("calls"), exact_sum(pl.col("llm_cost_usd")).alias("cost"))
                .sort(["cost", "name", "model"], descending=[True, False, False]))
    # A label that runs on several models is left out: `--route LABEL=MODEL` would move all
    # of them, and the estimate would not be what the command checks.
    single_model = calls.group_by(pl.col("name").cast(pl.String)).agg(
        pl.col("model").n_unique().alias("models")).filter(pl.col("models") == 1)["name"]
    by_label = by_label.filter(pl.col("name").is_in(single_model.implode()))
    total = survey.replay.total_usd
    found: list[Opportunity] = []
    for label, model, count, cost in by_label.head(TOP_LABELS * 3).iter_rows():
        target = cheaper_sibling(model, survey.table) if model else None
        if not target or len(found) >= TOP_LABELS:
            continue
        pattern = glob.escape(label)  # routes and cache rules take globs: match this one name
        # Routing changes only the steps it routes: its saving over them is its saving.
        subset = survey.replay.where(pl.col("name").cast(pl.String) == label)
        saving = play(subset, Scenario(routes=(Route(pattern, target),))).saving_usd
        if saving > 0:
            share = float(cost or 0.0) / total if total else 0.0
            found.append(Opportunity(
                ROUTING.name,
                f"step {label!r} runs {plural(count, 'call')} on {model} ({100 * share:.1f}% of "
                f"spend); on {target} the same tokens would cost less",
                saving, survey.reproduction.command("--route", f"{pattern}={target}")))
    return found


def caching_opportunities(survey: Survey) -> list[Opportunity]:
    """Each tool with recorded arguments, cached alone for an hour."""
    priced = survey.replay.priced
    tools = priced.filter(pl.col("tool_name").is_not_null() & pl.col("tool_args").is_not_null())
    found: list[Opportunity] = []
    for tool in sorted(tools["tool_name"].cast(pl.String).unique().to_list()):
        rule = CacheRule(glob.escape(tool), CACHE_TTL_SECONDS)
        played = play(survey.replay, Scenario(cache=(rule,)))
        touched = played.touched[CACHING.name]
        assert isinstance(touched, CachingTouched)
        row = next((each for each in touched.per_tool if each.tool_name == tool), None)
        if row is not None and row.hits and played.saving_usd > 0:
            found.append(Opportunity(
                CACHING.name,
                f"{tool}: {row.hits:,} of {plural(row.calls, 'call')} "
                f"({100 * row.hits / row.calls:.0f}%) repeat a call made within the hour",
                played.saving_usd,
                survey.reproduction.command("--cache", f"{glob.escape(tool)}:1h")))
    return found


def compression_opportunities(survey: Survey) -> list[Opportunity]:
    """History compressed after step 5, keeping the last 3 steps whole."""
    played = play(survey.replay,
                  Scenario(compression=Compression(COMPRESS_AFTER, KEEP_LAST)))
    touched = played.touched[COMPRESSION.name]
    if not touched.steps or played.saving_usd <= 0:
        return []
    return [Opportunity(
        COMPRESSION.name,
        f"{plural(touched.tasks, 'task')} {agreeing(touched.tasks, 'runs', 'run')} past step "
        f"{COMPRESS_AFTER} with a growing "
        f"context; keeping the last {KEEP_LAST} steps whole and summarising the rest",
        played.saving_usd,
        survey.reproduction.command("--compress-after", str(COMPRESS_AFTER),
                                    "--keep-last", str(KEEP_LAST)))]


def budget_opportunities(survey: Survey) -> list[Opportunity]:
    """A per-task budget at 5x the median task, and the tasks it would have stopped."""
    budget = round(RUNAWAY_MULTIPLE * survey.median_task_usd, 2)
    if budget <= 0:
        return []
    scenario = Scenario(budget_usd=budget)
    touched = BUDGET.touched(BUDGET.apply(survey.replay, scenario).tally, scenario)
    if not touched.tasks:
        return []
    return [Opportunity(
        BUDGET.name,
        f"a ${budget:.2f} budget per task (5x the median task) would have stopped "
        f"{plural(touched.tasks, 'task')}",
        touched.saved_usd,  # what the sweep's line for this budget measures
        survey.reproduction.command(
            "--budget-sweep", f"{budget / 2:.2f},{budget:.2f},{budget * 2:.2f}"))]


DETECTORS: tuple[Callable[[Survey], list[Opportunity]], ...] = (
    routing_opportunities, caching_opportunities, compression_opportunities,
    budget_opportunities)
