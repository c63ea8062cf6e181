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

from pathlib import Path
from typing import Any

from agentcost.errors import AgentCostError, UsageError
from agentcost.pricing.yaml_nodes import Node, YamlError, load
from agentcost.simulate.scenario import (
    Compression,
    Scenario,
    parse_cache,
    parse_inflation,
    parse_route,
)

KEYS = frozenset({"route", "step_inflation", "cache", "compress_after", "keep_last",
                  "summary_model", "summary_tokens", "budget", "max_steps"})


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
            raise AgentCostError(f"{path}:{node.line}: scenario {name!r}: {error}") from error
    return scenarios


def _scenario(name: str, node: Node) -> Scenario:
    if not isinstance(node.value, dict):
        raise UsageError("settings must be a mapping")
    entry: dict[str, Node] = node.value
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise UsageError(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(KEYS))})")

    def items(key: str) -> list[str]:
        value = entry[key].value if key in entry else []
        values = value if isinstance(value, list) else [value]
        return [str(item.value if isinstance(item, Node) else item) for item in values]

    def number(key: str, kind: type) -> Any:
        if key not in entry:
            return None
        value = entry[key].value
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise UsageError(f"{key} must be a number, zero or more")
        return kind(value)

    inflation = parse_inflation(items("step_inflation"))
    compression = None
    if "compress_after" in entry:
        compression = Compression(number("compress_after", int), number("keep_last", int) or 0,
                                  str(entry["summary_model"].value) if "summary_model" in entry
                                  else "gpt-4o-mini", number("summary_tokens", int) or 500)
    return Scenario(
        name=name,
        routes=tuple(parse_route(text, inflation) for text in items("route")),
        cache=tuple(parse_cache(text) for text in items("cache")),
        compression=compression,
        budget_usd=number("budget", float),
        max_steps=number("max_steps", int),
    )
