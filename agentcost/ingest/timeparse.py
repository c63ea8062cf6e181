"""Parse step times given as ISO 8601 text or as epoch numbers, as one polars expression."""

from __future__ import annotations

import polars as pl

ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d",
)
UTC = pl.Datetime("us", "UTC")


def parse_time(text: pl.Expr) -> pl.Expr:
    """Text to a UTC datetime (null where it is not a time).

    Numbers are epoch time, their unit told by magnitude: below 1e11 seconds, below 1e14
    milliseconds, below 1e17 microseconds, else nanoseconds. ISO text without an offset is UTC.
    """
    number = text.cast(pl.Float64, strict=False)
    magnitude = number.abs()
    micros = (
        pl.when(magnitude < 1e11).then(number * 1e6)
        .when(magnitude < 1e14).then(number * 1e3)
        .when(magnitude < 1e17).then(number)
        .otherwise(number / 1e3)
    )
    from_epoch = micros.round(0).cast(pl.Int64).cast(UTC)
    iso = pl.coalesce(
        text.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
        for fmt in ISO_FORMATS
    )
    return pl.when(number.is_not_null()).then(from_epoch).otherwise(iso)
