"""The sorted-group window helpers give exactly what polars' `.over()` gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_series_equal

from agentcost.simulation import sorted_groups as groups

rows = st.lists(st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(-50, 50))),
                max_size=60)


@given(rows, st.integers(1, 4))
def test_helpers_match_over(pairs, shift):
    frame = pl.DataFrame({"g": [g for g, _ in pairs], "v": [v for _, v in pairs]},
                         schema={"g": pl.Int64, "v": pl.Int64}).sort("g", maintain_order=True)
    expected = frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("g").alias("position"),
        pl.col("v").fill_null(0).cum_sum().over("g").alias("cumulative"),
        pl.col("v").shift(-1).over("g").alias("next"),
        pl.col("v").shift(shift).over("g").alias("earlier"),
    )
    got = frame.select(
        groups.position("g").alias("position"),
        groups.cumulative_sum(pl.col("v"), "g").alias("cumulative"),
        groups.next_in_group(pl.col("v"), "g").alias("next"),
        groups.earlier_in_group(pl.col("v"), shift, "g").alias("earlier"),
    )
    for name in expected.columns:
        assert_series_equal(got[name], expected[name], check_dtypes=False)
