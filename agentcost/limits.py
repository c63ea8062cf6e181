"""Bounds of the numbers a user gives, as options, scenario settings or price table values:
above them a value is a typo (or inf), never a real limit."""

from __future__ import annotations

MAX_USD = 1e12
MAX_PERCENT = 1e6
MAX_ROWS = 1_000_000_000  # rows, steps, tokens: any count
