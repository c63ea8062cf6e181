"""Sums of money that are exact and do not depend on the order of addition.

Float addition is not associative: polars splits a sum between threads and chunks, so the same
costs could add up to totals differing in the last digits from run to run, and equal totals
could sort either way. Costs are summed as decimals instead, then carried as floats rounded to
MONEY_DECIMALS places.
"""

from __future__ import annotations

import polars as pl

# Enough to keep sub-micro-dollar steps exact, without float noise.
MONEY_DECIMALS = 10
EXACT = pl.Decimal(38, 15)


def exact_sum(expr: pl.Expr) -> pl.Expr:
    """The sum of a money column, the same byte for byte however the work is split."""
    return expr.cast(EXACT).sum().cast(pl.Float64).round(MONEY_DECIMALS)
