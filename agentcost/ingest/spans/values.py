"""What the readers that walk spans in Python share: ids and times from JSON values, and a span
of the wrong shape skipped by name instead of ending the read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentcost.ingest.spans.model import Span


class ContainerError(ValueError):
    """A record that is not the shape its container promises."""


# What a span of the wrong shape raises while it is read: a value of another type than the
# format promises (a number where an object goes, text where a number goes, inf as a time).
SPAN_ERRORS = (ContainerError, TypeError, AttributeError, KeyError, ValueError, OverflowError)


@dataclass(frozen=True)
class BadSpan:
    """A span of a document that could not be read: skipped and named, the rest kept."""

    number: int
    reason: str


def guarded(number: int, read: Callable[..., Span], *args: Any) -> Span | BadSpan:
    try:
        return read(*args)
    except ContainerError as error:  # already says what is wrong, in words
        return BadSpan(number, str(error))
    except SPAN_ERRORS as error:
        return BadSpan(number, f"{type(error).__name__}: {error}")


def id_text(value: Any, hex_length: int) -> str | None:
    """An id as a JSON value, as text: an integer (OTel-Python's dicts write ids as decimal
    numbers) is its hex digits; text is kept for `ids.canonical_ids`, which every reader's ids
    go through, to bring to lowercase hex."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ContainerError(f"id {value!r} is not an id")
    if isinstance(value, int):
        return f"{value:0{hex_length}x}"
    return str(value)


def nanoseconds(value: Any) -> int | None:
    """Times as integer nanoseconds since the epoch: from integer or numeric-text nanoseconds,
    an OTel-JS [seconds, nanoseconds] pair, or ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, list) and len(value) == 2:
        return int(value[0]) * 1_000_000_000 + int(value[1])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ContainerError(f"time {text!r} is not a time") from error
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
