"""Reconciliation: steps whose producer-reported cost differs from ours by more than 1%."""

from __future__ import annotations

import polars as pl

from agentcost.money import exact_sum

TOLERANCE = 0.01


def reconciliation(priced: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(how many steps carry both costs, the differing ones grouped by model)."""
    computed = pl.col("computed_cost_usd")
    reported = pl.col("reported_cost_usd")
    both = priced.filter(computed.is_not_null() & reported.is_not_null())
    difference = reported - computed
    differs = difference.abs() > TOLERANCE * computed.abs()
    compared = both.select(pl.len().alias("compared_steps"))
    by_model = (
        both.filter(differs)
        .group_by(pl.col("model").cast(pl.String).fill_null("(none)"))
        .agg(
            pl.len().alias("steps"),
            exact_sum(computed).alias("computed_cost_usd"),
            exact_sum(reported).alias("reported_cost_usd"),
            exact_sum(difference).alias("difference_usd"),
        )
        .sort("difference_usd", "model", descending=[True, False])
    )
    return compared, by_model
