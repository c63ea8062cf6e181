"""Tool caching: a tool call whose tool and arguments were seen within the tool's TTL before it,
in any task, is a hit and costs nothing."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from agentcost.money import exact_sum
from agentcost.simulation.replay import ORDER_COLUMN, Replay
from agentcost.simulation.scenario import CacheRule, Scenario
from agentcost.simulation.strategies.base import Applied, Baseline, Strategy, Touched, matches


@dataclass(frozen=True)
class ToolHits:
    """One tool's calls under the cache rules."""

    tool_name: str
    calls: int
    no_args: int  # calls without recorded arguments: they cannot be simulated
    hits: int
    saved_usd: float


@dataclass(frozen=True)
class CachingTouched(Touched):
    per_tool: tuple[ToolHits, ...]  # by tool name

    def detail(self) -> str:
        return "cache hits"

    def caveats(self) -> list[str]:
        return [f"{tool.no_args:,} of {tool.calls:,} {tool.tool_name} calls carry no "
                "arguments: they cannot be simulated and count as misses."
                for tool in self.per_tool if tool.no_args > 0]


def cache(priced: pl.DataFrame, rules: tuple[CacheRule, ...]
          ) -> tuple[pl.DataFrame, pl.Series, CachingTouched]:
    """Replay every tool call of the log in time order, across tasks. A call's key is its tool
    and its canonical arguments; a call whose key was seen within the tool's TTL before is a hit:
    its tool cost goes, and so does its compute time when the step is only the tool call.
    Calls without recorded arguments cannot be simulated and are counted apart.

    Returns the table with the hits at no cost, the `_row` of each hit, and what it touched."""
    ttl: pl.Expr = pl.lit(None, pl.Float64())
    for rule in reversed(rules):
        ttl = pl.when(matches("tool_name", rule.tool)).then(pl.lit(rule.ttl_seconds)) \
            .otherwise(ttl)
    calls = priced.with_row_index("_call").with_columns(ttl.alias("_ttl"))
    cached = calls.filter(pl.col("tool_name").is_not_null() & pl.col("_ttl").is_not_null())
    with_args = cached.filter(pl.col("tool_args").is_not_null())
    seconds = pl.col("start_time").dt.epoch("us") / 1e6
    keyed = with_args.sort("start_time", ORDER_COLUMN, nulls_last=False).with_columns(
        (seconds - seconds.shift(1).over("tool_name", "tool_args")).alias("_since_seen"))
    hits = keyed.filter(pl.col("_since_seen").is_not_null()
                        & (pl.col("_since_seen") <= pl.col("_ttl")))["_call"]
    is_hit = pl.col("_call").is_in(hits.implode())
    per_tool = (
        cached.group_by(pl.col("tool_name").cast(pl.String))
        .agg(pl.len().alias("calls"), pl.col("tool_args").is_null().sum().alias("no_args"),
             is_hit.sum().alias("hits"),
             exact_sum(pl.when(is_hit).then(pl.col("tool_cost_usd"))).alias("saved_usd"))
        .sort("tool_name")
    )
    hit = calls.filter(is_hit)
    touched = CachingTouched(hits.len(), hit["task_id"].n_unique(), tuple(
        ToolHits(str(tool), int(calls_made), int(no_args), int(hit_count), float(saved))
        for tool, calls_made, no_args, hit_count, saved in per_tool.iter_rows()))
    result = zero_hits(calls, is_hit).drop("_call", "_ttl")
    return result, hit[ORDER_COLUMN], touched


def zero_hits(priced: pl.DataFrame, is_hit: pl.Expr) -> pl.DataFrame:
    """A cache hit costs no tool call, and no compute when the step is only the tool call."""
    tool_only = pl.col("kind") == "tool"
    return priced.with_columns(
        pl.when(is_hit).then(0.0).otherwise(pl.col("tool_cost_usd")).alias("tool_cost_usd"),
        pl.when(is_hit & tool_only).then(0.0).otherwise(pl.col("compute_cost_usd"))
        .alias("compute_cost_usd"),
        pl.when(is_hit & tool_only).then(0.0).otherwise(pl.col("duration_s"))
        .alias("duration_s"),
    ).with_columns(
        pl.sum_horizontal("llm_cost_usd", "tool_cost_usd", "compute_cost_usd")
        .alias("total_cost_usd")
    )


class Caching(Strategy[CachingTouched]):
    name = "caching"
    title = "tool caching"
    caveat = ("A hit is a call whose tool and arguments were seen within the TTL before it, in "
              "any task; tools whose answers change over time may not be cacheable in practice.")

    def enabled(self, scenario: Scenario) -> bool:
        return bool(scenario.cache)

    def settings(self, scenario: Scenario) -> list[str]:
        return [f"cache {rule.tool} for {rule.ttl_seconds:g} s" for rule in scenario.cache]

    def apply(self, replay: Replay, scenario: Scenario) -> Applied[CachingTouched]:
        priced, hit_rows, touched = cache(replay.priced, scenario.cache)

        def still_hits(fresh: pl.DataFrame) -> pl.DataFrame:
            return zero_hits(fresh, pl.col(ORDER_COLUMN).is_in(hit_rows.implode()))

        return Applied(replay, replay.with_prices(priced, standing=still_hits), touched)

    def alone(self, applied: Applied[CachingTouched], scenario: Scenario,
              baseline: Baseline) -> float:
        # Caching only zeroes tool and compute costs of the hits, and nothing before it in the
        # order (routing) changes those: its saving alone is the same.
        return baseline.total_usd - (applied.before.total_usd - applied.after.total_usd)
