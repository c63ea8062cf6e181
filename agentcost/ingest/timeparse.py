"""Parse step times given as ISO 8601 text or as epoch numbers."""

from __future__ import annotations

from datetime import UTC as UTC_ZONE
from datetime import datetime

import polars as pl

ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d",
)
UTC = pl.Datetime("us", "UTC")
# Step times outside these years are bad data (an epoch in the wrong unit, a placeholder
# year 9999), and would overflow date arithmetic downstream.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC_ZONE)
LATEST = datetime(2200, 1, 1, tzinfo=UTC_ZONE)


def epoch_to_utc(number: pl.Expr) -> pl.Expr:
    """Epoch time with its unit told by magnitude: below 1e11 seconds, below 1e14
    milliseconds, below 1e17 microseconds, else nanoseconds."""
    magnitude = number.abs()
    micros = (
        pl.when(magnitude < 1e11).then(number * 1e6)
        .when(magnitude < 1e14).then(number * 1e3)
        .when(magnitude < 1e17).then(number)
        .otherwise(number / 1e3)
    )
    # Beyond Int64 microseconds is no time at all: null, not an overflow error.
    return micros.round(0).cast(pl.Int64, strict=False).cast(UTC)


def parse_time(text: pl.Series) -> pl.Series:
    """Text to UTC datetimes (null where it is not a time). ISO text without an offset is UTC.

    Formats are tried one after another on the values still unparsed, so a log in one format
    (the usual case) pays for one parse, not five."""
    number = text.cast(pl.Float64, strict=False)
    result = pl.select(epoch_to_utc(pl.lit(number))).to_series()
    for fmt in ISO_FORMATS:
        pending = result.is_null() & text.is_not_null()
        if not pending.any():
            break
        indices = pending.arg_true()
        # cache=False: step times are nearly all distinct, so a cache only adds hashing.
        # The streaming engine parses in parallel morsels; eagerly it runs on one core.
        parsed = (
            pl.LazyFrame({"text": text.gather(indices)})
            .select(pl.col("text").str.to_datetime(fmt, time_unit="us", time_zone="UTC",
                                                   strict=False, cache=False))
            .collect(engine="streaming")
            .to_series()
        )
        result = result.scatter(indices, parsed)
    implausible = ~result.is_between(EARLIEST, LATEST, closed="left")
    return result.scatter(implausible.fill_null(False).arg_true(), None).alias(text.name)
