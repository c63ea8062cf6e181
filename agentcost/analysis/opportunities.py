"""Savings detected automatically, each estimated by replaying the strategy on the recorded steps
(the same engine as `agentcost simulate`) and naming the command that checks it."""

from __future__ import annotations

import glob
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from agentcost.money import exact_sum
from agentcost.pricing.cost import price_steps
from agentcost.pricing.resolve import resolve_model
from agentcost.pricing.table import PriceTable
from agentcost.simulation.scenario import CacheRule, Compression, Route
from agentcost.simulation.strategies import (
    RUNAWAY_MULTIPLE,
    apply_budget,
    apply_cache,
    apply_compression,
    apply_routes,
    number_steps,
)

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


def find_opportunities(steps: pl.DataFrame, table: PriceTable, inputs: Sequence[str],
                       median_task_usd: float) -> list[Opportunity]:
    files = " ".join(shlex.quote(i) for i in inputs)
    steps = number_steps(steps)
    # Priced again from the numbered steps, so that priced and unpriced rows share `_row`.
    priced = price_steps(steps.lazy(), table).collect()
    total = float(priced.select(exact_sum(pl.col("total_cost_usd"))).item() or 0.0)

    def price(frame: pl.DataFrame) -> float:
        return float(price_steps(frame.lazy(), table).collect()
                     .select(exact_sum(pl.col("total_cost_usd"))).item() or 0.0)

    found: list[Opportunity] = []
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
    for label, model, calls, cost in by_label.head(TOP_LABELS * 3).iter_rows():
        target = cheaper_sibling(model, table) if model else None
        if not target or len([o for o in found if o.kind == "routing"]) >= TOP_LABELS:
            continue
        pattern = glob.escape(label)  # routes and cache rules take globs: match this one name
        subset = steps.filter((pl.col("name").cast(pl.String) == label)
                              & (pl.col("model").cast(pl.String) == model))
        routed, _ = apply_routes(subset, (Route(pattern, target),))
        saving = float(cost or 0.0) - _llm_cost(price_steps(routed.drop("_routed").lazy(),
                                                             table).collect())
        if saving > 0:
            share = float(cost or 0.0) / total if total else 0.0
            found.append(Opportunity(
                "routing",
                f"step {label!r} runs {calls:,} calls on {model} ({100 * share:.1f}% of "
                f"spend); on {target} the same tokens would cost less",
                saving,
                f"agentcost simulate {files} --route {shlex.quote(f'{pattern}={target}')}"))
    tools = priced.filter(pl.col("tool_name").is_not_null() & pl.col("tool_args").is_not_null())
    for tool in sorted(tools["tool_name"].cast(pl.String).unique().to_list()):
        _, touched = apply_cache(priced, (CacheRule(glob.escape(tool), CACHE_TTL_SECONDS),))
        per_tool = touched.details["per_tool"]
        assert isinstance(per_tool, pl.DataFrame)
        rows = per_tool.filter(pl.col("tool_name") == tool)
        row = rows.row(0, named=True) if rows.height else {"hits": 0}
        if row["hits"] and (row["saved_usd"] or 0.0) > 0:
            found.append(Opportunity(
                "caching",
                f"{tool}: {row['hits']:,} of {row['calls']:,} calls "
                f"({100 * row['hits'] / row['calls']:.0f}%) repeat a call made within the hour",
                float(row["saved_usd"] or 0.0),
                f"agentcost simulate {files} --cache {shlex.quote(glob.escape(tool))}:1h"))
    changed, touched = apply_compression(steps, Compression(COMPRESS_AFTER, KEEP_LAST))
    if touched.steps:
        before = priced.filter(pl.col("_row").is_in(changed["_row"].drop_nulls().implode()))
        saving = float(before.select(exact_sum(pl.col("total_cost_usd"))).item() or 0.0) \
            - price(changed)
        if saving > 0:
            found.append(Opportunity(
                "compression",
                f"{touched.tasks:,} tasks run past step {COMPRESS_AFTER} with a growing "
                f"context; keeping the last {KEEP_LAST} steps whole and summarising the rest",
                saving,
                f"agentcost simulate {files} --compress-after {COMPRESS_AFTER} "
                f"--keep-last {KEEP_LAST}"))
    budget = round(RUNAWAY_MULTIPLE * median_task_usd, 2)
    if budget > 0:
        runaways = pl.Series("_task", [], pl.Int64)
        kept, cut = apply_budget(priced, budget, None, runaways)
        if cut.tasks:
            saving = total - float(kept.select(exact_sum(pl.col("total_cost_usd"))).item()
                                   or 0.0)
            found.append(Opportunity(
                "budget",
                f"a ${budget:.2f} budget per task (5x the median task) would have stopped "
                f"{cut.tasks:,} tasks",
                saving,
                f"agentcost simulate {files} --budget-sweep "
                f"{budget / 2:.2f},{budget:.2f},{budget * 2:.2f}"))
    return sorted(found, key=lambda o: (-o.saving_usd, o.kind, o.what))


def _llm_cost(priced: pl.DataFrame) -> float:
    return float(priced.select(exact_sum(pl.col("llm_cost_usd"))).item() or 0.0)
