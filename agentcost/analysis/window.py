"""Time windows on the steps' own timestamps: --since 24h, --since 2026-11-27, --until ..."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from agentcost.analysis.report import AppliedWindow
from agentcost.errors import UsageError

RELATIVE = re.compile(r"^(?P<count>\d+(?:\.\d+)?)(?P<unit>m|h|d|w)$")
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_moment(text: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """A relative span back from now (30m, 24h, 7d, 2w) or an ISO 8601 date or time (UTC when
    no offset is given)."""
    now = now or dt.datetime.now(dt.UTC)
    match = RELATIVE.match(text.strip())
    if match:
        try:
            return now - dt.timedelta(
                seconds=float(match.group("count")) * UNITS[match.group("unit")])
        except (OverflowError, ValueError) as error:  # before year 1
            raise UsageError(f"{text!r} reaches back before the year 1") from error
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise UsageError(f"{text!r} is neither a span (24h, 7d) nor an ISO 8601 date or time"
                         ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def window_filter(steps: pl.DataFrame, since: dt.datetime | None, until: dt.datetime | None
                  ) -> tuple[pl.DataFrame, AppliedWindow | None]:
    """Steps that started in [since, until), and the window with what it left out (none when
    no window is given)."""
    if since is None and until is None:
        return steps, None
    timed = pl.col("start_time").is_not_null()
    inside = timed
    if since is not None:
        inside = inside & (pl.col("start_time") >= since)
    if until is not None:
        inside = inside & (pl.col("start_time") < until)
    kept = steps.filter(inside)
    untimed = int(steps.select((~timed).sum()).item())
    return kept, AppliedWindow(since, until, steps.height - kept.height - untimed, untimed)
