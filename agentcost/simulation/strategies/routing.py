"""Model routing: LLM steps whose label (or model) matches a route are repriced at another model
with the same tokens, times the route's step inflation."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from agentcost.simulation.replay import TOKEN_COLUMNS, Replay
from agentcost.simulation.scenario import Route, Scenario
from agentcost.simulation.strategies.base import Applied, Strategy, Touched, matches


@dataclass(frozen=True)
class RoutingTouched(Touched):
    unmatched: tuple[str, ...]  # the routes that routed no step, described

    def detail(self) -> str:
        return "steps repriced"

    def caveats(self) -> list[str]:
        return [f"Route {route} routed no step: no LLM step matches it, or an earlier route "
                "took them all." for route in self.unmatched]


def route(steps: pl.DataFrame, routes: tuple[Route, ...]
          ) -> tuple[pl.DataFrame, RoutingTouched]:
    """The LLM steps a route matches, at its target model with their tokens times its
    inflation (the first route that matches a step wins): only the rows that change."""
    is_call = pl.col("kind").cast(pl.String).is_in(["llm", "embedding"])
    target: pl.Expr = pl.lit(None, pl.String())
    inflation: pl.Expr = pl.lit(1.0)
    which: pl.Expr = pl.lit(None, pl.Int32())
    for index, each in reversed(list(enumerate(routes))):
        hit = is_call & matches("model" if each.by_model else "name", each.pattern)
        target = pl.when(hit).then(pl.lit(each.target)).otherwise(target)
        inflation = pl.when(hit).then(pl.lit(each.inflation)).otherwise(inflation)
        which = pl.when(hit).then(pl.lit(index, pl.Int32())).otherwise(which)
    routed = steps.with_columns(target.alias("_route"), inflation.alias("_inflation"),
                                which.alias("_which")).filter(pl.col("_route").is_not_null())
    used = set(routed["_which"].unique().to_list())
    touched = RoutingTouched(routed.height, routed["task_id"].n_unique(),
                             tuple(each.describe() for index, each in enumerate(routes)
                                   if index not in used))
    changed = routed.with_columns(
        pl.col("_route").cast(pl.Categorical).alias("model"),
        *((pl.col(column) * pl.col("_inflation")).round(0).cast(pl.Int64).alias(column)
          for column in TOKEN_COLUMNS),
        # The routed model's provider tier and reported cost no longer apply.
        pl.lit(None, steps.schema["reported_cost_usd"]).alias("reported_cost_usd"),
    ).drop("_route", "_inflation", "_which")
    return changed, touched


class Routing(Strategy[RoutingTouched]):
    name = "routing"
    title = "model routing"
    caveat = ("Routed steps are repriced with the same tokens (times any step inflation); a "
              "cheaper model may need more steps or fail tasks: the result is only as good as "
              "the inflation factor.")

    def enabled(self, scenario: Scenario) -> bool:
        return bool(scenario.routes)

    def settings(self, scenario: Scenario) -> list[str]:
        return [f"route {each.describe()}" for each in scenario.routes]

    def models_priced(self, scenario: Scenario) -> list[tuple[str, str]]:
        return [(f"route {each.pattern}={each.target}", each.target) for each in scenario.routes]

    def apply(self, replay: Replay, scenario: Scenario) -> Applied[RoutingTouched]:
        changed, touched = route(replay.steps, scenario.routes)
        if not touched.steps:
            return Applied(replay, replay, touched)
        fresh = replay.price(changed)
        return Applied(replay, replay.with_rows(fresh), touched, fresh)
