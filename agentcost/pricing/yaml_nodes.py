"""A YAML value with the line it is on, for messages like `file:12` (read by yaml_load.py), and
the checks of the values a price table holds (mappings, lists, prices, dates, text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# USD per 1M tokens, per call or per second, or a factor: above it a value is a typo.
MAX_PRICE = 1e9
SHOWN_CHARACTERS = 40


@dataclass(frozen=True)
class Node:
    """A YAML value and the 1-based line it starts on. Mappings hold Nodes, keyed by text."""

    value: Any
    line: int


class YamlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def mapping(node: Node, what: str) -> dict[str, Node]:
    if node.value is None:
        return {}
    if not isinstance(node.value, dict):
        raise YamlError(node.line, f"{what} must be a mapping of names to entries")
    return node.value


def sequence(node: Node | None, what: str) -> list[Node]:
    if node is None or node.value is None:
        return []
    if not isinstance(node.value, list):
        raise YamlError(node.line, f"{what} must be a list")
    return list(node.value)


def refuse_unknown(entry: dict[str, Node], allowed: frozenset[str], where: str) -> None:
    for key, value in entry.items():
        if key not in allowed:
            raise YamlError(value.line, f"unknown key {key!r} in {where} "
                                        f"(allowed: {', '.join(sorted(allowed))})")


def price(node: Node, key: str) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise YamlError(node.line, f"{key} must be a number, got {shown(value)}")
    if not 0 <= value <= MAX_PRICE:  # nan and inf too; a long int is compared exactly
        raise YamlError(node.line, f"{key} must be a number from 0 to {MAX_PRICE:,.0f}, got "
                                   f"{shown(value)}")
    return float(value)


def date(node: Node | None) -> dt.date | None:
    if node is None or node.value is None:
        return None
    value: Any = node.value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise YamlError(node.line, f"since must be a date (YYYY-MM-DD), got {shown(value)}") \
            from None


def text(node: Node | None, key: str) -> str | None:
    if node is None or node.value is None:
        return None
    if isinstance(node.value, dict | list):
        raise YamlError(node.line, f"{key} must be text, got {shown(node.value)}")
    if isinstance(node.value, dt.date):
        return node.value.isoformat()
    return str(node.value)


def shown(value: Any) -> str:
    """A value as a message quotes it: on one line, escaped, and short."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    try:
        quoted = repr(value)
    except ValueError:  # an int past Python's limit on digits shown
        return "a number too long to show"
    if len(quoted) <= SHOWN_CHARACTERS:
        return quoted
    return f"{quoted[:SHOWN_CHARACTERS - 5]}... ({len(quoted):,} characters)"
