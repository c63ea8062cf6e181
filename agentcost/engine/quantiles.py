"""Exact nearest-rank percentiles over values spread across partitions, in two passes.

Pass one counts the values of every partition by bucket of an order-preserving key (the top
bits of the float's bit pattern); the counts say which bucket holds each wanted rank and how
many values lie below it. Pass two fetches only the values of those buckets, sorts them, and
picks the rank. No engine's own quantile is used: they interpolate or approximate, and this
gives the value a single sorted list would (stats.nearest_rank), on every executor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import polars as pl

# 2**12 buckets: the top 12 bits of the 64-bit ordered key.
KEY_SHIFT = 52


def ordered_key(values: pl.Expr) -> pl.Expr:
    """A UInt64 that sorts as the float does: positive floats with the sign bit set, negative
    ones with every bit flipped."""
    bits = values.cast(pl.Float64).reinterpret(dtype=pl.UInt64)
    top = pl.lit(1 << 63, pl.UInt64)
    return (pl.when(bits >= top).then(pl.lit((1 << 64) - 1, pl.UInt64) - bits)
            .otherwise(bits + top))


def _bucket(values: pl.Expr) -> pl.Expr:
    return (ordered_key(values) // pl.lit(1 << KEY_SHIFT, pl.UInt64)).alias("bucket")


def bucket_counts(values: pl.Series) -> pl.DataFrame:
    """Pass one, on one partition: how many values fall in each bucket."""
    return (pl.DataFrame({"value": values}).drop_nulls()
            .group_by(_bucket(pl.col("value"))).agg(pl.len().alias("count")))


def values_in(values: pl.Series, buckets: Sequence[int]) -> pl.Series:
    """Pass two, on one partition: its values in the buckets named."""
    frame = pl.DataFrame({"value": values}).drop_nulls()
    wanted = pl.Series(list(buckets), dtype=pl.UInt64)
    return frame.filter(_bucket(pl.col("value")).is_in(wanted.implode()))["value"]


def nearest_ranks(partitions: Callable[[], Iterable[pl.Series]], percentiles: Sequence[float]
                  ) -> dict[float, float]:
    """P(p) for each of `percentiles`: the value at rank ceil(p/100 * n) of all the values of
    all partitions in ascending order. `partitions` gives the partitions afresh for each
    pass. Empty when there is no value."""
    counts = pl.concat([bucket_counts(values) for values in partitions()]
                       or [pl.DataFrame(schema={"bucket": pl.UInt64, "count": pl.UInt32})])
    totals = (counts.group_by("bucket").agg(pl.col("count").sum().cast(pl.Int64))
              .sort("bucket").with_columns(pl.col("count").cum_sum().alias("through")))
    total = int(totals["count"].sum() or 0)
    if not total:
        return {}
    ranks = {p: max(math.ceil(p / 100 * total), 1) for p in percentiles}
    through = totals["through"]
    where = {p: int(through.search_sorted(rank, side="left")) for p, rank in ranks.items()}
    buckets = sorted({int(totals["bucket"][index]) for index in where.values()})
    fetched = pl.DataFrame({"value": pl.concat([values_in(values, buckets)
                                                for values in partitions()])}
                           ).with_columns(_bucket(pl.col("value")))
    found = {}
    for p, rank in ranks.items():
        index = where[p]
        below = int(through[index - 1]) if index else 0
        inside = fetched.filter(pl.col("bucket") == totals["bucket"][index])["value"].sort()
        found[p] = float(inside[rank - below - 1])
    return found
