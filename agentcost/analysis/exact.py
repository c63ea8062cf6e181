"""The priced steps' money cast to exact decimals once, for every sum a report takes of it.

money.exact_sum casts a column to decimals at each sum; a report sums the same four columns
over all its steps, per task, per model, per tool, per step position and more, and the cast
costs more than the sum. Summed from these columns, each figure is the same byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from agentcost.money import EXACT, MONEY_DECIMALS, exact_sum

MONEY = ("llm_cost_usd", "tool_cost_usd", "compute_cost_usd", "total_cost_usd")
PREFIX = "exact_"


def exact_name(column: str) -> str:
    return PREFIX + column


def with_exact_money(priced: pl.DataFrame) -> pl.DataFrame:
    """`priced` with each MONEY column beside it as an exact decimal (`exact_name`)."""
    if exact_name(MONEY[0]) in priced.columns:
        return priced
    return priced.with_columns(exact_columns())


def exact_columns() -> list[pl.Expr]:
    """The MONEY columns as exact decimals: best added as the priced steps are made, in
    the same pass."""
    return [pl.col(name).cast(EXACT).alias(exact_name(name)) for name in MONEY]


def exact_total(column: str) -> pl.Expr:
    """money.exact_sum of a MONEY column, from its decimals: named as the column."""
    return rounded(pl.col(exact_name(column)).sum()).alias(column)


def rounded(decimal: pl.Expr) -> pl.Expr:
    """A decimal sum as money.exact_sum gives it: a float rounded to MONEY_DECIMALS."""
    return decimal.cast(pl.Float64).round(MONEY_DECIMALS)


def money_total(columns: Sequence[str], column: str) -> pl.Expr:
    """money.exact_sum of a MONEY column of a frame with `columns`: from its decimals where
    the frame has them."""
    if exact_name(column) in columns:
        return exact_total(column)
    return exact_sum(pl.col(column)).alias(column)
