"""YAML loading that keeps line numbers and refuses duplicate keys, for messages like `file:12`,
and the checks of the values a price table holds (mappings, lists, prices, dates, text)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Node:
    """A YAML value and the 1-based line it starts on. Mappings hold Nodes, keyed by text."""

    value: Any
    line: int


# libyaml's loader when PyYAML was built with it: it parses in C.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def load(text: str) -> Node:
    try:
        root = yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise YamlError(line, f"not valid YAML: {problem}") from error
    if root is None:
        return Node({}, 1)
    return _convert(root, yaml.constructor.SafeConstructor())


def _convert(node: yaml.Node, constructor: yaml.constructor.SafeConstructor) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, constructor)
            name = str(key.value)
            if name in mapping:
                raise YamlError(key.line, f"{name!r} is listed twice (first on line "
                                          f"{mapping[name].line})")
            # An entry's line is its key's line: where a person looks for it.
            mapping[name] = Node(_convert(value_node, constructor).value, key.line)
        return Node(mapping, line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item, constructor) for item in node.value], line)
    return Node(constructor.construct_object(node), line)


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
        raise YamlError(node.line, f"{key} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise YamlError(node.line, f"{key} must be zero or more, got {value!r}")
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
    except ValueError as error:
        raise YamlError(node.line, f"since must be a date (YYYY-MM-DD), got {value!r}") \
            from error


def text(node: Node | None) -> str | None:
    if node is None or node.value is None:
        return None
    if isinstance(node.value, dt.date):
        return node.value.isoformat()
    return str(node.value)
