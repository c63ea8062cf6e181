"""Model routing: LLM steps whose label (or model) matches a route are repriced at another model
with the same tokens, times the step inflation that matches them.

A token bucket the target lists no price for is priced as its provider bills it, where that is
known: OpenAI, DeepSeek and Google list no cache-write price because a prompt written to their
cache is billed as ordinary input, so a routed step's cache-write tokens become input tokens.
Any other bucket without a price leaves the step unpriced, and the engine then leaves it out of
the baseline as well."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from agentcost.pricing.resolve import resolve_model
from agentcost.pricing.table import PriceSet, PriceTable
from agentcost.renderers.text import agreeing, count, plural
from agentcost.simulation.replay import TOKEN_COLUMNS, Replay
from agentcost.simulation.scenario import Inflation, Route, Scenario
from agentcost.simulation.strategies.base import (
    Applied,
    Strategy,
    Tally,
    Touched,
    counted,
    matches,
    sums,
)

# Providers that list no cache-write price because they bill a prompt written to their cache as
# ordinary input (automatic prompt caching), as the caveats name them.
WRITES_BILLED_AS_INPUT = {"openai": "OpenAI", "deepseek": "DeepSeek", "google": "Google"}
WRITE_COLUMNS = ("cache_write_5m_tokens", "cache_write_1h_tokens")
WRITES_SCHEMA = {"target": pl.String, "provider": pl.String, "steps": pl.Int64,
                 "tokens": pl.Int64}


@dataclass(frozen=True)
class WritesAsInput:
    """Routed steps whose cache-write tokens were priced as input at `model`."""

    model: str
    provider: str
    steps: int
    tokens: int


@dataclass(frozen=True)
class RoutingTouched(Touched):
    unmatched: tuple[str, ...]  # the routes that routed no step, described
    inflations_unmatched: tuple[str, ...]  # the inflations that matched no routed step
    writes_as_input: tuple[WritesAsInput, ...] = ()

    def detail(self) -> str:
        return "steps repriced"

    def caveats(self) -> list[str]:
        return [f"{rule.model} lists no cache-write price: the {count(rule.tokens)} cache-write "
                f"{agreeing(rule.tokens, 'token', 'tokens')} of "
                f"{plural(rule.steps, 'routed step')} are priced as ordinary input, "
                f"as {rule.provider} bills a prompt written to its cache."
                for rule in self.writes_as_input]

    def warnings(self) -> list[str]:
        return [f"route {route} routed no step: no LLM step matches it, or an earlier route "
                "took them all" for route in self.unmatched] + [
                f"step inflation for {inflation} matched no routed step"
                for inflation in self.inflations_unmatched]


def provider_billing_writes_as_input(target: str, table: PriceTable) -> str | None:
    """The provider, when `target` lists no cache-write price anywhere (no period, tier or
    long-context price) and its provider bills cache writes as ordinary input."""
    resolved = resolve_model(target, table).model
    if resolved is None:
        return None
    model = table.models[resolved]
    provider = WRITES_BILLED_AS_INPUT.get((model.provider or "").lower())
    price_sets = [period.prices for period in model.periods] + [
        period.long_context.prices for period in model.periods if period.long_context] + [
        tier for tier in model.service_tiers.values() if isinstance(tier, PriceSet)]
    if any(prices.cache_write_5m is not None or prices.cache_write_1h is not None
           for prices in price_sets):
        return None
    return provider


def route(steps: pl.DataFrame, routes: tuple[Route, ...], inflations: tuple[Inflation, ...],
          table: PriceTable) -> tuple[pl.DataFrame, Tally]:
    """The LLM steps a route matches (the first route that matches a step wins), at its target
    model with their tokens times the first inflation that matches them, cache writes moved
    to input where the target's provider bills them so: only the rows that change."""
    is_call = pl.col("kind").cast(pl.String).is_in(["llm", "embedding"])
    target: pl.Expr = pl.lit(None, pl.String())
    which: pl.Expr = pl.lit(None, pl.Int32())
    for index, each in reversed(list(enumerate(routes))):
        hit = is_call & matches("model" if each.by_model else "name", each.pattern)
        target = pl.when(hit).then(pl.lit(each.target)).otherwise(target)
        which = pl.when(hit).then(pl.lit(index, pl.Int32())).otherwise(which)
    factor: pl.Expr = pl.lit(1.0)
    inflated_by: pl.Expr = pl.lit(None, pl.Int32())
    for index, inflation in reversed(list(enumerate(inflations))):
        hit = matches("model" if inflation.by_model else "name", inflation.pattern)
        factor = pl.when(hit).then(pl.lit(inflation.factor)).otherwise(factor)
        inflated_by = pl.when(hit).then(pl.lit(index, pl.Int32())).otherwise(inflated_by)
    routed = (steps.with_columns(target.alias("_route"), which.alias("_which"))
              .filter(pl.col("_route").is_not_null())
              .with_columns(factor.alias("_inflation"), inflated_by.alias("_inflated_by")))
    changed = routed.with_columns(
        pl.col("_route").cast(pl.Categorical).alias("model"),
        *((pl.col(column) * pl.col("_inflation")).round(0).cast(pl.Int64).alias(column)
          for column in TOKEN_COLUMNS),
        # The producer's reported cost was for the model it ran on.
        pl.lit(None, steps.schema["reported_cost_usd"]).alias("reported_cost_usd"),
    )
    changed, writes = _writes_as_input(changed, table)
    tally = {"routed": counted(steps=routed.height, tasks=routed["task_id"].n_unique()),
             "routes": routed.select(pl.col("_which").unique()),
             "inflations": routed.select(pl.col("_inflated_by").unique().drop_nulls()),
             "writes": writes}
    return changed.drop("_route", "_which", "_inflation", "_inflated_by"), tally


def _writes_as_input(changed: pl.DataFrame, table: PriceTable
                     ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cache-write tokens moved to input on the steps routed to a model whose provider bills
    them so, and how many of each target's steps had any."""
    writes = pl.sum_horizontal(pl.col(column).fill_null(0) for column in WRITE_COLUMNS)
    applied = []
    for target in sorted(changed["_route"].unique().to_list()):
        provider = provider_billing_writes_as_input(target, table)
        if provider is None:
            continue
        on_target = pl.col("_route") == target
        steps, tokens = changed.filter(on_target & (writes > 0)).select(
            pl.len(), writes.sum()).row(0)
        if not steps:
            continue
        applied.append((target, provider, int(steps), int(tokens)))
        changed = changed.with_columns(
            pl.when(on_target).then(pl.col("input_tokens") + writes)
            .otherwise(pl.col("input_tokens")).alias("input_tokens"),
            *(pl.when(on_target & pl.col(column).is_not_null()).then(0)
              .otherwise(pl.col(column)).alias(column) for column in WRITE_COLUMNS))
    return changed, pl.DataFrame(applied, schema=WRITES_SCHEMA, orient="row")


class Routing(Strategy[RoutingTouched]):
    name = "routing"
    title = "model routing"
    caveat = ("Routed steps are repriced with the same tokens (times any step inflation); a "
              "cheaper model may need more steps or fail tasks: the result is only as good as "
              "the inflation factor.")

    def enabled(self, scenario: Scenario) -> bool:
        return bool(scenario.routes)

    def settings(self, scenario: Scenario) -> list[str]:
        return [f"route {each.describe()}" for each in scenario.routes] + [
            each.describe() for each in scenario.inflations]

    def models_priced(self, scenario: Scenario) -> list[tuple[str, str]]:
        return [(f"route {each.pattern}={each.target}", each.target) for each in scenario.routes]

    def apply(self, replay: Replay, scenario: Scenario) -> Applied[RoutingTouched]:
        changed, tally = route(replay.steps, scenario.routes, scenario.inflations,
                               replay.table)
        if not changed.height:
            return Applied(replay, replay, tally)
        fresh = replay.price(changed)
        return Applied(replay, replay.with_rows(fresh), tally, fresh)

    def touched(self, tally: Tally, scenario: Scenario) -> RoutingTouched:
        routed = sums(tally, "routed")
        used = set(tally["routes"]["_which"].to_list())
        inflated = set(tally["inflations"]["_inflated_by"].to_list())
        writes = (tally["writes"].group_by("target", "provider")
                  .agg(pl.col("steps", "tokens").sum()).sort("target"))
        return RoutingTouched(
            routed["steps"], routed["tasks"],
            tuple(each.describe() for index, each in enumerate(scenario.routes)
                  if index not in used),
            tuple(f"{'model' if each.by_model else 'label'} {each.pattern}"
                  for index, each in enumerate(scenario.inflations) if index not in inflated),
            tuple(WritesAsInput(*row) for row in writes.iter_rows()))
