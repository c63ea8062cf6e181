"""Tool caching: a call's answer is stored for the tool's TTL from the call that fetched it; a call
with the same tool and arguments in that time, in any task, is a hit and costs nothing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from agentcost.money import exact_partial, rounded_money
from agentcost.renderers.text import agreeing
from agentcost.simulation.replay import ORDER_COLUMN, Replay
from agentcost.simulation.scenario import CacheRule, Scenario
from agentcost.simulation.strategies.base import (
    Applied,
    Baseline,
    Strategy,
    Tally,
    Touched,
    counted,
    matches,
    sums,
)


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
    unmatched: tuple[str, ...] = ()  # the rules (tool patterns) that matched no tool call

    def detail(self) -> str:
        return "cache hits"

    def warnings(self) -> list[str]:
        return [f"cache rule {tool} matched no tool call: no tool called in these steps "
                "matches it, or an earlier rule took its calls" for tool in self.unmatched]

    def caveats(self) -> list[str]:
        return [f"{tool.no_args:,} of {tool.calls:,} {tool.tool_name} "
                f"{agreeing(tool.calls, 'call', 'calls')} "
                f"{agreeing(tool.no_args, 'carries', 'carry')} no arguments: "
                + agreeing(tool.no_args, "it cannot be simulated and counts as a miss.",
                           "they cannot be simulated and count as misses.")
                for tool in self.per_tool if tool.no_args > 0]


def cache_keys(priced: pl.DataFrame, rules: tuple[CacheRule, ...]) -> pl.DataFrame:
    """Each step's tool call as the cache sees it: `_ttl` (the first matching rule's), `_rule`
    (which rule), and `_keyed` (a call with arguments and a time: the calls a cache replays)."""
    ttl: pl.Expr = pl.lit(None, pl.Float64())
    rule_index: pl.Expr = pl.lit(None, pl.Int32())
    for index, rule in reversed(list(enumerate(rules))):
        matched = matches("tool_name", rule.tool)
        ttl = pl.when(matched).then(pl.lit(rule.ttl_seconds)).otherwise(ttl)
        rule_index = pl.when(matched).then(pl.lit(index, pl.Int32())).otherwise(rule_index)
    cached = pl.col("tool_name").is_not_null() & ttl.is_not_null()
    return priced.with_columns(
        ttl.alias("_ttl"), rule_index.alias("_rule"),
        (cached & pl.col("tool_args").is_not_null() & pl.col("start_time").is_not_null())
        .alias("_keyed"))


def keyed_calls(priced: pl.DataFrame, rules: tuple[CacheRule, ...]) -> pl.DataFrame:
    """The calls a cache replays (`cache_keys`), with what `fetches` reads: the input for
    finding hits, whole or partitioned by tool and arguments."""
    return (cache_keys(priced, rules).filter(pl.col("_keyed"))
            .select("tool_name", "tool_args", "start_time", "_ttl", ORDER_COLUMN))


def hits_among(keyed: pl.DataFrame) -> pl.Series:
    """The `_row` of each hit among `keyed_calls` (every call of each of their keys)."""
    fetched = fetches(keyed)
    return keyed.filter(~pl.col(ORDER_COLUMN).is_in(fetched.implode()))[ORDER_COLUMN]


def cache(priced: pl.DataFrame, rules: tuple[CacheRule, ...], hits: pl.Series | None = None
          ) -> tuple[pl.DataFrame, pl.Series, Tally]:
    """Replay every tool call of the log in time order, across tasks. A call's key is its tool
    and its canonical arguments. A call fetches and stores its answer, which serves the calls
    with the same key up to the tool's TTL after that fetch (the first rule that matches the
    tool sets it): those are hits, whose tool cost goes, and their compute time too when the
    step is only the tool call. The first call after the entry expired fetches again and
    stores a new entry. Calls without recorded arguments, or without a time, cannot be
    simulated: they count as misses, and those without arguments are counted apart.

    `hits`: the `_row` of every hit, found over all the run's calls when `priced` is a
    partition of it (else found here). Returns the table with the hits at no cost, the `_row`
    of each hit in it, and the tally of what it touched."""
    calls = cache_keys(priced, rules)
    if hits is None:
        hits = hits_among(keyed_calls(priced, rules))
    is_hit = pl.col("_keyed") & pl.col(ORDER_COLUMN).is_in(hits.implode())
    # What a hit saves: its tool fee, and its compute when the step is only the tool call.
    saved = pl.sum_horizontal(pl.col("tool_cost_usd"),
                              pl.when(pl.col("kind") == "tool").then(pl.col("compute_cost_usd")))
    cached = calls.filter(pl.col("tool_name").is_not_null() & pl.col("_ttl").is_not_null())
    per_tool = cached.group_by(pl.col("tool_name").cast(pl.String)).agg(
        pl.len().alias("calls"), pl.col("tool_args").is_null().sum().alias("no_args"),
        is_hit.sum().alias("hits"), exact_partial(pl.when(is_hit).then(saved)).alias("saved"))
    hit = calls.filter(is_hit)
    tally = {"per_tool": per_tool.cast({"calls": pl.Int64, "no_args": pl.Int64,
                                        "hits": pl.Int64}),
             "rules": cached.select(pl.col("_rule").unique()),
             "hits": counted(steps=hit.height, tasks=hit["task_id"].n_unique())}
    result = zero_hits(calls, is_hit).drop("_ttl", "_rule", "_keyed")
    return result, hit[ORDER_COLUMN], tally


def cache_figures(tally: Tally, rules: tuple[CacheRule, ...]) -> CachingTouched:
    """What caching touched, from every partition's tally."""
    per_tool = (tally["per_tool"].group_by("tool_name")
                .agg(pl.col("calls", "no_args", "hits").sum(), pl.col("saved"))
                .sort("tool_name"))
    used = set(tally["rules"]["_rule"].drop_nulls().to_list())
    hits = sums(tally, "hits")
    return CachingTouched(hits["steps"], hits["tasks"], tuple(
        ToolHits(str(tool), int(calls_made), int(no_args), int(hit_count),
                 rounded_money(saved))
        for tool, calls_made, no_args, hit_count, saved in per_tool.iter_rows()),
        unmatched=tuple(rule.tool for index, rule in enumerate(rules) if index not in used))


def fetches(keyed: pl.DataFrame) -> pl.Series:
    """The `_row` of each call that fetches: the first of its key, then the first after the
    entry it would have used expired, TTL after the fetch that stored it.

    Which calls fetch is a chain per key: from each call, `next` is the first call of its key
    after its TTL ran out, and the fetches are the first call and `next` of each fetch. The
    chain is followed for every key at once by doubling: after round k the fetches found are
    the first 2^k links of each chain, and `next` jumps 2^k links (about log2 of the calls
    rounds, each a gather over the calls)."""
    ordered = keyed.select(
        pl.col(ORDER_COLUMN).alias("_call"), pl.col("tool_name").cast(pl.String), "tool_args",
        # In whole microseconds: a call exactly TTL after the fetch is a hit, every time.
        pl.col("start_time").dt.epoch("us").alias("_at"),
        (pl.col("_ttl") * 1_000_000).round(0).cast(pl.Int64).alias("_ttl"), ORDER_COLUMN,
    ).sort("tool_name", "tool_args", "_at", ORDER_COLUMN).with_row_index("_i")
    first = ((pl.col("tool_name") != pl.col("tool_name").shift(1))
             | (pl.col("tool_args") != pl.col("tool_args").shift(1))).fill_null(True)
    ordered = ordered.with_columns(first.alias("_first")).with_columns(
        pl.col("_first").cum_sum().alias("_key"))  # the key as a number: cheaper to join on
    end = ordered.height  # the chain's end: a call past the last, which leads to itself
    arrivals = (ordered.select("_key", "_at", pl.col("_i").alias("_next"))
                .unique(["_key", "_at"], keep="first", maintain_order=True)
                .sort("_at"))
    expiries = ordered.select("_i", "_key", (pl.col("_at") + pl.col("_ttl")).alias("_expires")
                              ).sort("_expires")
    following = expiries.join_asof(
        arrivals, left_on="_expires", right_on="_at", by="_key", strategy="forward",
        allow_exact_matches=False, check_sortedness=False,
    ).sort("_i")["_next"]
    jump = following.cast(pl.Int64).fill_null(end).append(pl.Series([end], dtype=pl.Int64))
    fetched = ordered["_first"].append(pl.Series([False]))
    while True:
        fetched = fetched.scatter(jump.filter(fetched), True)
        if (jump == end).all():
            break
        jump = jump.gather(jump)
    return ordered.filter(fetched.head(end))["_call"]


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
    caveat = ("A hit is a call with the same tool and arguments within the TTL after the call "
              "that fetched the answer, in any task; tools whose answers change over time may "
              "not be cacheable in practice.")

    def enabled(self, scenario: Scenario) -> bool:
        return bool(scenario.cache)

    def settings(self, scenario: Scenario) -> list[str]:
        return [f"cache {rule.tool} for {rule.ttl_seconds:g} s" for rule in scenario.cache]

    def apply(self, replay: Replay, scenario: Scenario) -> Applied[CachingTouched]:
        priced, hit_rows, tally = cache(replay.priced, scenario.cache, replay.cache_hits)

        def still_hits(fresh: pl.DataFrame) -> pl.DataFrame:
            return zero_hits(fresh, pl.col(ORDER_COLUMN).is_in(hit_rows.implode()))

        return Applied(replay, replay.with_prices(priced, standing=still_hits), tally)

    def touched(self, tally: Tally, scenario: Scenario) -> CachingTouched:
        return cache_figures(tally, scenario.cache)

    def alone(self, applied: Applied[CachingTouched], scenario: Scenario,
              baseline: Baseline) -> Decimal:
        # Caching only zeroes tool and compute costs of the hits, and nothing before it in the
        # order (routing) changes those: its saving alone is the same.
        return baseline.total - (applied.before.total - applied.after.total)
