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
from agentcost.limits import MAX_ROWS, MAX_USD
from agentcost.pricing.yaml_load import TooLarge, load, read_text
from agentcost.pricing.yaml_nodes import Node, YamlError, shown
from agentcost.simulation.scenario import (
    InertSetting,
    Scenario,
    parse_cache,
    parse_inflation,
    parse_route,
    settings_scenario,
)

KEYS = frozenset({"route", "step_inflation", "cache", "compress_after", "keep_last",
                  "summary_model", "summary_tokens", "budget", "max_steps"})
# Counts that the flags take from 1 (the rest from 0).
FROM_ONE = frozenset({"compress_after", "summary_tokens", "max_steps"})
# The most each number may be, as for the flags: above it, a typo.
MOST = {"budget": MAX_USD, "compress_after": MAX_ROWS, "keep_last": MAX_ROWS,
        "summary_tokens": MAX_ROWS, "max_steps": MAX_ROWS}


class SettingError(UsageError):
    """A scenario setting that cannot be used, with the line it is on."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_scenarios(path: Path) -> list[Scenario]:
    try:
        root = load(read_text(path))
    except OSError as error:
        raise AgentCostError(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise AgentCostError(f"{path}: scenario file is not UTF-8 text") from error
    except TooLarge as error:
        raise AgentCostError(f"{path}: the scenario file {error}") from error
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


def _key(setting: str) -> str:
    """A setting as a scenario file spells it: `keep-last` is `keep_last`."""
    return setting.replace("-", "_")


def _settings(name: str, entry: dict[str, Node]) -> Scenario:
    def plain(value: Any, key: str) -> str:
        value = value.value if isinstance(value, Node) else value
        if isinstance(value, dict | list) or value is None:
            raise SettingError(f"{key}: expected text, like the command-line flag takes",
                               entry[key].line)
        return str(value)

    def items(key: str, parse: Callable[[list[str]], object]) -> list[str]:
        """The texts of a list setting, checked by the flag's own parser, its message placed
        on the setting's line."""
        value = entry[key].value if key in entry else []
        texts = [plain(item, key) for item in (value if isinstance(value, list) else [value])]
        try:
            parse(texts)
        except UsageError as error:
            raise SettingError(str(error), entry[key].line) from error
        return texts

    def number(key: str, kind: type) -> Any:
        if key not in entry:
            return None
        value = entry[key].value
        least, most = (1 if key in FROM_ONE else 0), MOST[key]
        whole = "a whole number" if kind is int else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                least <= value <= most) or (kind is int and value != int(value)):  # nan too
            raise SettingError(f"{key} must be {whole} from {least} to {most:,.0f}, got "
                               f"{shown(value)}", entry[key].line)
        return kind(value)

    try:
        return settings_scenario(
            name, spell=_key,
            routes=items("route", lambda texts: [parse_route(t) for t in texts]),
            inflations=items("step_inflation", parse_inflation),
            cache=items("cache", lambda texts: [parse_cache(t) for t in texts]),
            compress_after=number("compress_after", int), keep_last=number("keep_last", int),
            summary_model=plain(entry["summary_model"], "summary_model")
            if "summary_model" in entry else None,
            summary_tokens=number("summary_tokens", int), budget=number("budget", float),
            max_steps=number("max_steps", int))
    except InertSetting as error:
        if error.setting is None:
            raise
        raise SettingError(str(error), entry[_key(error.setting)].line) from error
