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
# The layout nearly every producer writes, "2026-11-27T10:00:00.123456Z": taken apart at fixed
# places, it parses in well under half the time of a general format. Anything else (an offset,
# a space, a lowercase t) is left to ISO_FORMATS.
RFC3339_UTC = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$"
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

    Epoch numbers and the common UTC layout are read first, in one pass; then the ISO formats
    are tried one after another on the values still unparsed, so a log in one format (the
    usual case) pays for one parse, not five; and a column all of whose values are still to
    parse is taken whole, not picked apart."""
    number = text.cast(pl.Float64, strict=False)
    parsed = [_rfc3339_utc(pl.col("text"))]
    if number.null_count() < number.len():
        parsed.insert(0, epoch_to_utc(pl.col("number")))
    # The streaming engine parses in parallel morsels; eagerly it runs on one core.
    result = (
        pl.LazyFrame({"text": text, "number": number}).select(pl.coalesce(parsed))
        .collect(engine="streaming").to_series()
    )
    for fmt in ISO_FORMATS:
        pending = result.is_null() & text.is_not_null()
        waiting = pending.sum()
        if not waiting:
            break
        if waiting == text.len():
            result = _parse_iso(text, fmt)
        else:
            indices = pending.arg_true()
            result = result.scatter(indices, _parse_iso(text.gather(indices), fmt))
    implausible = (~result.is_between(EARLIEST, LATEST, closed="left")).fill_null(False)
    if implausible.any():
        result = result.scatter(implausible.arg_true(), None)
    return result.alias(text.name)


def _rfc3339_utc(text: pl.Expr) -> pl.Expr:
    whole_seconds = text.str.slice(0, 19).str.strptime(
        pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False, cache=False)
    length = text.str.len_bytes().cast(pl.Int64)
    # Between the "." and the "Z": nanoseconds are cut to microseconds, as a full parse does.
    digits = text.str.slice(20, (length - 21).clip(lower_bound=0))
    micros = pl.when(length > 21).then(
        digits.str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False)
    ).otherwise(0)
    return (
        pl.when(text.str.contains(RFC3339_UTC))
        .then(whole_seconds + pl.duration(microseconds=micros))
        .dt.replace_time_zone("UTC")
    )


def _parse_iso(text: pl.Series, fmt: str) -> pl.Series:
    # cache=False: step times are nearly all distinct, so a cache only adds hashing.
    return (
        pl.LazyFrame({"text": text})
        .select(pl.col("text").str.to_datetime(fmt, time_unit="us", time_zone="UTC",
                                               strict=False, cache=False))
        .collect(engine="streaming")
        .to_series()
    )
