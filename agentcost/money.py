"""Sums of money that are exact and do not depend on the order of addition.

Float addition is not associative: polars splits a sum between threads and chunks, so the same
costs could add up to totals differing in the last digits from run to run, and equal totals
could sort either way. Costs are summed as decimals instead, then carried as floats rounded to
MONEY_DECIMALS places.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import polars as pl

# Enough to keep sub-micro-dollar steps exact, without float noise.
MONEY_DECIMALS = 10
EXACT = pl.Decimal(38, 15)


def exact_sum(expr: pl.Expr) -> pl.Expr:
    """The sum of a money column, the same byte for byte however the work is split."""
    return expr.cast(EXACT).sum().cast(pl.Float64).round(MONEY_DECIMALS)


def exact_partial(expr: pl.Expr) -> pl.Expr:
    """A money sum over part of the rows: exact, not yet rounded, for `rounded_money` to add
    to the other parts' and round once."""
    return expr.cast(EXACT).sum()


def rounded_money(partials: Iterable[Decimal]) -> float:
    """Exact partial sums added, then rounded as `exact_sum` rounds: the same float as one
    `exact_sum` over all the rows."""
    values = pl.Series("partial", list(partials), dtype=EXACT)
    total = pl.select(pl.lit(values).sum().cast(pl.Float64).round(MONEY_DECIMALS)).item()
    return float(total or 0.0)
