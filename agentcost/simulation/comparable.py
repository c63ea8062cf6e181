"""Steps priced on one side only, left out of both.

A strategy that reprices a step can leave it unpriced (a routed step with cache-write tokens the
new model lists no price for, a history summary whose model has no price in force), or price a
step the log could not (a routed step whose recorded model is unknown). The saving on such a
step is unknown: counting the baseline's cost against nothing would show it all as saved. So
its LLM cost is made unknown on both sides, with the reason, and every total, stage and
figure alone is taken over the steps priced on both.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from agentcost.simulation.replay import ORDER_COLUMN, Replay, is_recorded

WHY = "_why"


def one_sided(baseline: pl.DataFrame, scenario: pl.DataFrame) -> pl.DataFrame:
    """`_row` and why, for each step whose LLM call one side prices and the other does not
    (and a summary's step, when the summary cannot be priced)."""
    unpriced = pl.col("unpriced_reason").is_not_null()
    before = baseline.filter(unpriced).select(ORDER_COLUMN, "unpriced_reason")
    after = scenario.filter(unpriced).select(ORDER_COLUMN, "model", "unpriced_reason")
    in_before = pl.col(ORDER_COLUMN).is_in(before[ORDER_COLUMN].implode())
    # Unpriced in the scenario only: repriced at a model that cannot price them, or added.
    lost = after.filter(~in_before)
    cannot = pl.format("left out: on {} in the scenario, {}", pl.col("model").cast(pl.String),
                       pl.col("unpriced_reason"))
    steps = lost.filter(is_recorded()).select(ORDER_COLUMN, cannot.alias(WHY))
    served = lost.filter(~is_recorded()).select(
        pl.col(ORDER_COLUMN) + 1,
        pl.format("left out: its history summary on {} in the scenario, {}",
                  pl.col("model").cast(pl.String), pl.col("unpriced_reason")).alias(WHY))
    # Unpriced as recorded, priced in the scenario: nothing to compare the new price with.
    gained = before.filter(
        pl.col(ORDER_COLUMN).is_in(scenario[ORDER_COLUMN].implode())
        & ~pl.col(ORDER_COLUMN).is_in(after[ORDER_COLUMN].implode())
    ).select(ORDER_COLUMN, pl.format("left out: unpriced as recorded, {}",
                                     pl.col("unpriced_reason")).alias(WHY))
    return (pl.concat([steps, served, gained], how="vertical")
            .unique(ORDER_COLUMN, keep="first", maintain_order=True))


def leave_out(priced: pl.DataFrame, left: pl.DataFrame) -> pl.DataFrame:
    """`priced` with the LLM cost of the steps in `left` unknown, for the reason given there
    (a step already unpriced keeps its own), and their totals the priced parts only."""
    hit = pl.col(ORDER_COLUMN).is_in(left[ORDER_COLUMN].implode())
    why = pl.col(ORDER_COLUMN).replace_strict(left[ORDER_COLUMN], left[WHY], default=None,
                                              return_dtype=pl.String)
    return priced.with_columns(
        pl.when(hit).then(None).otherwise(pl.col("llm_cost_usd")).alias("llm_cost_usd"),
        pl.when(hit).then(pl.coalesce(pl.col("unpriced_reason"), why))
        .otherwise(pl.col("unpriced_reason")).alias("unpriced_reason"),
    ).with_columns(
        pl.sum_horizontal("llm_cost_usd", "tool_cost_usd", "compute_cost_usd")
        .alias("total_cost_usd"))


def leaving_out(replay: Replay, left: pl.DataFrame) -> Replay:
    """The baseline replay with the steps in `left` unpriced, and kept so in every row a
    strategy prices afresh."""
    def still_left_out(fresh: pl.DataFrame) -> pl.DataFrame:
        return leave_out(fresh, left)

    return replace(replay, priced=leave_out(replay.priced, left),
                   recorded=leave_out(replay.recorded, left),
                   standing=(*replay.standing, still_left_out))
