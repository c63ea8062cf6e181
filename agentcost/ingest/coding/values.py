"""Values from a coding agent's records: token counts, money, times and text, each checked,
and the error that names what is wrong with a record. A value that is there but wrong makes
its record bad (named and skipped); one that is not there is unknown (None), never 0."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from agentcost.schema import MAX_TOKEN_COUNT

# Times outside these years are bad data (as for native steps, ingest/timeparse.py).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
SHOWN_NAME_LENGTH = 40
MILLISECONDS = 1000


class BadRecord(ValueError):
    """A record that cannot be read as what its type promises: its line is skipped with this
    reason, the records around it kept."""


def count(value: Any, name: str) -> int | None:
    """A token count: a whole number, at least 0; None when it is absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRecord(f"{name}: expected a number, got {type(value).__name__}")
    if value < 0 or value != int(value) or value > MAX_TOKEN_COUNT:
        raise BadRecord(f"{name}: {value!r} is not a token count")
    return int(value)


def time_of(value: Any) -> datetime | None:
    """An ISO 8601 time (no offset means UTC); None when it is absent or not a time."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed if EARLIEST <= parsed < LATEST else None


def usd(value: Any, name: str) -> float | None:
    """A finite, non-negative amount of money; None when it is absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        raise BadRecord(f"{name}: {value!r} is not an amount in USD")
    return float(value)


def from_epoch_ms(value: Any) -> datetime | None:
    """Epoch milliseconds as a UTC time; None when absent or not a time."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        moment = datetime.fromtimestamp(value / MILLISECONDS, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if EARLIEST <= moment < LATEST else None


def text_of(value: Any) -> str | None:
    """Text, or None when the value is not text (or is empty)."""
    return value if isinstance(value, str) and value else None


def mapping(value: Any) -> dict[str, Any]:
    """An object's fields; an empty mapping for anything else."""
    return value if isinstance(value, dict) else {}


def shown(value: Any) -> str:
    """A record's type as a reason names it: a short name is printed, any other value (long
    or odd text from the log) is only described."""
    if isinstance(value, str) and value.isidentifier() and len(value) <= SHOWN_NAME_LENGTH:
        return repr(value)
    return "(none)" if value is None else "(not a name)"
