"""Savings detected automatically: one detector per strategy, each estimating a saving by applying
the strategy to the recorded steps (the same code as `agentcost simulate`) and naming the
command that measures it."""

from __future__ import annotations

import glob
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from agentcost.money import exact_sum
from agentcost.pricing.cost import price_steps
from agentcost.pricing.resolve import resolve_model
from agentcost.pricing.table import PriceTable
from agentcost.simulation.replay import ORDER_COLUMN, Replay, total_of
from agentcost.simulation.scenario import CacheRule, Compression, Route, Scenario
from agentcost.simulation.strategies import BUDGET, CACHING, COMPRESSION, ROUTING
from agentcost.simulation.strategies.budget import RUNAWAY_MULTIPLE

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



@dataclass(frozen=True, eq=False)
class Survey:
    """What the detectors look at: the recorded steps priced at computed cost, the price table
    (for cheaper models), the inputs quoted for a shell (for the commands they name), and the
    median task's cost."""

    replay: Replay
    table: PriceTable
    files: str
    median_task_usd: float


def find_opportunities(steps: pl.DataFrame, table: PriceTable, inputs: Sequence[str],
                       median_task_usd: float) -> list[Opportunity]:
    replay = Replay.start(steps, lambda frame: price_steps(frame.lazy(), table).collect())
    survey = Survey(replay, table, " ".join(shlex.quote(i) for i in inputs), median_task_usd)
    found = [opportunity for detect in DETECTORS for opportunity in detect(survey)]
    return sorted(found, key=lambda o: (-o.saving_usd, o.kind, o.what))


def routing_opportunities(survey: Survey) -> list[Opportunity]:
    """The costliest labels that run on one model with a cheaper sibling, each routed alone."""
    priced = survey.replay.priced
    llm = priced.filter((pl.col("kind").cast(pl.String) == "llm")
                        & pl.col("name").is_not_null())
    by_label = (llm.group_by(pl.col("name").cast(pl.String), pl.col("model").cast(pl.String))
                .agg(pl.len().alias("calls"), exact_sum(pl.col("llm_cost_usd")).alias("cost"))
                .sort(["cost", "name", "model"], descending=[True, False, False]))
    # A label that runs on several models is left out: `--route LABEL=MODEL` would move all
    # of them, and the estimate would not be what the command checks.
    single_model = llm.group_by(pl.col("name").cast(pl.String)).agg(
        pl.col("model").n_unique().alias("models")).filter(pl.col("models") == 1)["name"]
    by_label = by_label.filter(pl.col("name").is_in(single_model.implode()))
    total = survey.replay.total_usd
    found: list[Opportunity] = []
    for label, model, calls, cost in by_label.head(TOP_LABELS * 3).iter_rows():
        target = cheaper_sibling(model, survey.table) if model else None
        if not target or len(found) >= TOP_LABELS:
            continue
        pattern = glob.escape(label)  # routes and cache rules take globs: match this one name
        subset = survey.replay.where((pl.col("name").cast(pl.String) == label)
                                     & (pl.col("model").cast(pl.String) == model))
        routed = ROUTING.apply(subset, Scenario(routes=(Route(pattern, target),))).after
        saving = float(cost or 0.0) - float(
            routed.priced.select(exact_sum(pl.col("llm_cost_usd"))).item() or 0.0)
        if saving > 0:
            share = float(cost or 0.0) / total if total else 0.0
            found.append(Opportunity(
                ROUTING.name,
                f"step {label!r} runs {calls:,} calls on {model} ({100 * share:.1f}% of "
                f"spend); on {target} the same tokens would cost less",
                saving,
                f"agentcost simulate {survey.files} "
                f"--route {shlex.quote(f'{pattern}={target}')}"))
    return found


def caching_opportunities(survey: Survey) -> list[Opportunity]:
    """Each tool with recorded arguments, cached alone for an hour."""
    priced = survey.replay.priced
    tools = priced.filter(pl.col("tool_name").is_not_null() & pl.col("tool_args").is_not_null())
    found: list[Opportunity] = []
    for tool in sorted(tools["tool_name"].cast(pl.String).unique().to_list()):
        rule = CacheRule(glob.escape(tool), CACHE_TTL_SECONDS)
        touched = CACHING.apply(survey.replay, Scenario(cache=(rule,))).touched
        row = next((each for each in touched.per_tool if each.tool_name == tool), None)
        if row is not None and row.hits and row.saved_usd > 0:
            found.append(Opportunity(
                CACHING.name,
                f"{tool}: {row.hits:,} of {row.calls:,} calls "
                f"({100 * row.hits / row.calls:.0f}%) repeat a call made within the hour",
                row.saved_usd,
                f"agentcost simulate {survey.files} --cache {shlex.quote(glob.escape(tool))}:1h"))
    return found


def compression_opportunities(survey: Survey) -> list[Opportunity]:
    """History compressed after step 5, keeping the last 3 steps whole."""
    scenario = Scenario(compression=Compression(COMPRESS_AFTER, KEEP_LAST))
    applied = COMPRESSION.apply(survey.replay, scenario)
    if applied.fresh is None:
        return []
    rows = applied.fresh[ORDER_COLUMN].implode()
    before = survey.replay.priced.filter(pl.col(ORDER_COLUMN).is_in(rows))
    saving = total_of(before) - total_of(applied.fresh)
    if saving <= 0:
        return []
    return [Opportunity(
        COMPRESSION.name,
        f"{applied.touched.tasks:,} tasks run past step {COMPRESS_AFTER} with a growing "
        f"context; keeping the last {KEEP_LAST} steps whole and summarising the rest",
        saving,
        f"agentcost simulate {survey.files} --compress-after {COMPRESS_AFTER} "
        f"--keep-last {KEEP_LAST}")]


def budget_opportunities(survey: Survey) -> list[Opportunity]:
    """A per-task budget at 5x the median task, and the tasks it would have stopped."""
    budget = round(RUNAWAY_MULTIPLE * survey.median_task_usd, 2)
    if budget <= 0:
        return []
    applied = BUDGET.apply(survey.replay, Scenario(budget_usd=budget))
    if not applied.touched.tasks:
        return []
    return [Opportunity(
        BUDGET.name,
        f"a ${budget:.2f} budget per task (5x the median task) would have stopped "
        f"{applied.touched.tasks:,} tasks",
        survey.replay.total_usd - applied.after.total_usd,
        f"agentcost simulate {survey.files} --budget-sweep "
        f"{budget / 2:.2f},{budget:.2f},{budget * 2:.2f}")]


DETECTORS: tuple[Callable[[Survey], list[Opportunity]], ...] = (
    routing_opportunities, caching_opportunities, compression_opportunities,
    budget_opportunities)
