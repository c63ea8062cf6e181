"""Named scenarios from a YAML file, compared side by side:

    scenarios:
      cheap-summaries:
        route: [summarize=gpt-4o-mini]
        step_inflation: [summarize=1.3]
        cache: [web_search:1h]
        compress_after: 5
        keep_last: 3
        summary_model: gpt-4o-mini
        summary_tokens: 500
        budget: 0.50
        max_steps: 40
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentcost.errors import AgentCostError, UsageError
from agentcost.pricing.yaml_nodes import Node, YamlError, load
from agentcost.simulation.scenario import (
    DEFAULT_KEEP_LAST,
    DEFAULT_SUMMARY_MODEL,
    DEFAULT_SUMMARY_TOKENS,
    Compression,
    Scenario,
    parse_cache,
    parse_inflation,
    parse_route,
)

KEYS = frozenset({"route", "step_inflation", "cache", "compress_after", "keep_last",
                  "summary_model", "summary_tokens", "budget", "max_steps"})


class SettingError(UsageError):
    """A scenario setting that cannot be used, with the line it is on."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_scenarios(path: Path) -> list[Scenario]:
    try:
        root = load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AgentCostError(f"{path}: cannot read: {error.strerror}") from error
    except YamlError as error:
        raise AgentCostError(f"{path}:{error.line}: {error}") from error
    top = root.value if isinstance(root.value, dict) else {}
    named = top.get("scenarios")
    if named is None or not isinstance(named.value, dict) or not named.value:
        raise AgentCostError(f"{path}:{root.line}: expected a mapping 'scenarios' of names to "
                             "settings")
    scenarios = []
    for name, node in named.value.items():
        try:
            scenarios.append(_scenario(name, node))
        except UsageError as error:
            line = error.line if isinstance(error, SettingError) else node.line
            raise AgentCostError(f"{path}:{line}: scenario {name!r}: {error}") from error
    return scenarios


def _scenario(name: str, node: Node) -> Scenario:
    if not isinstance(node.value, dict):
        raise UsageError("settings must be a mapping")
    entry: dict[str, Node] = node.value
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise SettingError(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(KEYS))})",
                           entry[unknown[0]].line)
    return _settings(name, entry)


def _settings(name: str, entry: dict[str, Node]) -> Scenario:
    def text(value: Any, key: str) -> str:
        value = value.value if isinstance(value, Node) else value
        if isinstance(value, dict | list) or value is None:
            raise SettingError(f"{key}: expected text, like the command-line flag takes",
                               entry[key].line)
        return str(value)

    def items(key: str) -> list[str]:
        value = entry[key].value if key in entry else []
        values = value if isinstance(value, list) else [value]
        return [text(item, key) for item in values]

    def number(key: str, kind: type, default: Any = None) -> Any:
        if key not in entry:
            return default
        value = entry[key].value
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SettingError(f"{key} must be a number, zero or more", entry[key].line)
        if kind is int and value != int(value):
            raise SettingError(f"{key} must be a whole number, zero or more", entry[key].line)
        return kind(value)

    def parsed(key: str, parse: Callable[[list[str]], Any]) -> Any:
        """The flag's own parser, its message placed on the setting's line."""
        texts = items(key)
        try:
            return parse(texts)
        except UsageError as error:
            raise SettingError(str(error), entry[key].line) from error

    inflation = parsed("step_inflation", parse_inflation)
    compression = None
    if "compress_after" in entry:
        # The same defaults as the command line's flags.
        compression = Compression(
            number("compress_after", int), number("keep_last", int, DEFAULT_KEEP_LAST),
            text(entry["summary_model"], "summary_model") if "summary_model" in entry
            else DEFAULT_SUMMARY_MODEL,
            number("summary_tokens", int, DEFAULT_SUMMARY_TOKENS))
    return Scenario(
        name=name,
        routes=parsed("route", lambda texts: tuple(parse_route(t, inflation) for t in texts)),
        cache=parsed("cache", lambda texts: tuple(parse_cache(t) for t in texts)),
        compression=compression,
        budget_usd=number("budget", float),
        max_steps=number("max_steps", int),
    )
