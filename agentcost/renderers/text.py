"""Formatting shared by every renderer: money, counts, durations, and untrusted text made safe."""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from agentcost.money import MONEY_DECIMALS

if TYPE_CHECKING:
    from agentcost.ingest.accounting import Tally

# Control and format characters (escapes, bidi overrides, zero-width) are shown, not obeyed.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})


def safe_text(value: object) -> str:
    """Untrusted text with every control or format character written as a visible escape."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(
        char if unicodedata.category(char) not in UNSAFE_CATEGORIES else _escape(char)
        for char in text
    )


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# Below a dollar, money shows this many significant digits; from a dollar up, cents.
SIGNIFICANT_DIGITS = 3


def money(value: float | None) -> str:
    """$0.142, $0.0597, $0.000323, $66.41, $1,234.57: one rule for every renderer. From a dollar
    up, cents; below a dollar, three significant digits (never fewer than two decimals), so a
    sub-cent cost stays readable without six decimals beside two. Trailing zeros past the cents
    are dropped ($0.50, $0.013).

    The value is first taken to the ten places costs are kept to (float noise such as -1e-17 is
    zero), then rounded half up from the decimal the float stands for, as a hand calculation
    rounds: $0.3365725 shows as $0.337."""
    if value is None:
        return "-"
    if not math.isfinite(value):  # no cost is; shown as it is rather than hidden
        return f"${value}"
    kept = abs(Decimal(repr(value))).quantize(Decimal(1).scaleb(-MONEY_DECIMALS),
                                              rounding=ROUND_HALF_UP)
    decimals = 2 if kept >= 1 or not kept else max(2, SIGNIFICANT_DIGITS - 1 - kept.adjusted())
    rounded = kept.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:,f}".partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return ("-" if value < 0 and rounded else "") + f"${whole}.{fraction}"


def align_points(cells: list[str]) -> list[str]:
    """A right-aligned column of figures with the decimal points of its money in line: each
    amount is padded on the right to the longest fraction of the column's amounts ($4.651
    under $6.3737 reads $4.651␣). A cell without a digit (a dash for none) sits where the units
    digit would; other figures (counts, percentages) stay flush right, so a column that holds
    a total, a percentage and a step count, one a row, reads as well as one of amounts."""
    fractions = [len(cell) - cell.index(".") - 1 if "$" in cell and "." in cell else -1
                 for cell in cells]
    widest = max(fractions, default=-1)
    if widest < 0:
        return cells
    return [cell + " " * (widest - fraction) if "$" in cell or not _has_digit(cell) else cell
            for cell, fraction in zip(cells, fractions, strict=True)]


def _has_digit(cell: str) -> bool:
    return any(char.isdigit() for char in cell)


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def utc(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def span(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "-"
    return duration((end - start) / timedelta(seconds=1))


def duration(seconds: float) -> str:
    """1d 2h 3m 4s, leaving out the zero parts (whole seconds)."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "",
             f"{minutes}m" if minutes else "", f"{secs}s" if secs or whole == 0 else ""]
    return " ".join(part for part in parts if part)


def plural(number: int, noun: str, nouns: str | None = None) -> str:
    """1 task, 2 tasks; 1 alias, 2 aliases (`nouns`: the plural, when not noun + s)."""
    return f"{count(number)} {noun if number == 1 else nouns or noun + 's'}"


def agreeing(number: int, one: str, many: str) -> str:
    """The word that agrees with `number`: agreeing(1, "carries", "carry") is "carries"."""
    return one if number == 1 else many


def unpriced_counts(steps: int, tool_calls: int) -> str:
    return f"{plural(steps, 'LLM step')} and {plural(tool_calls, 'tool call')}"


def lines_list(examples: list[tuple[str, int]], *, single_file: bool) -> str:
    if single_file:
        return ", ".join(str(line) for _, line in examples)
    return ", ".join(f"{safe_text(file)}:{line}" for file, line in examples)


def first_of_each(tally: Tally, *, single_file: bool) -> str:
    """For lines skipped as repeats: where the first of each was read ("" for other skips)."""
    if not tally.earlier:
        return ""
    return f"the first of each at line {lines_list(tally.earlier, single_file=single_file)}"
