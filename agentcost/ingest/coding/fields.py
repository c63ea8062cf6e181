"""Values read out of a coding agent's records, checked: token counts, money and times. A value
that is there but wrong makes its record bad (named and skipped); one that is not there is
unknown (None), never 0."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from agentcost.schema import MAX_TOKEN_COUNT

# Times outside these years are bad data (a placeholder, an epoch in the wrong unit).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MILLISECONDS = 1000


class BadValue(ValueError):
    """A field whose value cannot be what it says: the reason, in words."""


def token_count(value: object, what: str) -> int | None:
    """A whole, non-negative number of tokens; None when the field is absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"{what} is not a number")
    if not (0 <= value <= MAX_TOKEN_COUNT) or value != int(value):
        raise BadValue(f"{what} {value!r} is not a count of tokens")
    return int(value)


def usd(value: object, what: str) -> float | None:
    """A finite, non-negative amount of money; None when the field is absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        raise BadValue(f"{what} {value!r} is not an amount in USD")
    return float(value)


def from_epoch_ms(value: object) -> datetime | None:
    """Epoch milliseconds as a UTC time; None when absent or not a time."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        moment = datetime.fromtimestamp(value / MILLISECONDS, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if EARLIEST <= moment < LATEST else None


def from_iso(value: object) -> datetime | None:
    """An ISO 8601 time (no offset: UTC) as a UTC time; None when absent or not a time."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment if EARLIEST <= moment < LATEST else None
