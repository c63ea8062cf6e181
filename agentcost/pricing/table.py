"""The price table: loaded once from YAML, validated with file:line messages, then frozen.

People write prices per 1M tokens; they are kept that way here and divided once in costing.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from agentcost.errors import PriceTableError
from agentcost.pricing.yaml_nodes import Node, YamlError, load

TOKEN_PRICE_KEYS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h",
                    "reasoning")
MODEL_KEYS = frozenset({*TOKEN_PRICE_KEYS, "cache_write", "provider", "source", "as_of", "notes"})
TOOL_KEYS = frozenset({"per_call", "source", "as_of", "notes"})
COMPUTE_KEYS = frozenset({"per_second", "source", "as_of", "notes"})
TOP_KEYS = frozenset({"version", "currency", "models", "tools", "compute"})


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens. None means the provider lists no price for that bucket."""

    name: str
    input: float
    output: float
    cache_read: float | None = None
    cache_write_5m: float | None = None
    cache_write_1h: float | None = None
    # None: reasoning billed apart is charged at the output price (as Gemini bills thinking).
    reasoning: float | None = None
    provider: str | None = None
    source: str | None = None
    as_of: str | None = None
    line: int = 0


@dataclass(frozen=True)
class ToolPrice:
    name: str
    per_call: float
    source: str | None = None
    as_of: str | None = None
    line: int = 0


@dataclass(frozen=True)
class PriceTable:
    file: str
    models: dict[str, ModelPrice] = field(default_factory=dict)
    tools: dict[str, ToolPrice] = field(default_factory=dict)
    compute_per_second: float = 0.0


def default_table_path() -> Path:
    """The shipped pricing.yaml: inside the installed package, or at the top of a checkout."""
    packaged = resources.files("agentcost").joinpath("pricing.yaml")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "pricing.yaml"


def load_price_table(path: Path | None = None) -> PriceTable:
    path = path or default_table_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PriceTableError(f"{path}: cannot read price table: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise PriceTableError(f"{path}: price table is not UTF-8 text") from error
    try:
        return _parse(load(text), str(path))
    except YamlError as error:
        raise PriceTableError(f"{path}:{error.line}: {error}") from error


def _parse(root: Node, file: str) -> PriceTable:
    top = _mapping(root, "the price table")
    _refuse_unknown(top, TOP_KEYS, "top level")
    if "version" in top and top["version"].value != 1:
        raise YamlError(top["version"].line, "version must be 1")
    if "currency" in top and top["currency"].value != "USD":
        raise YamlError(top["currency"].line, "currency must be USD")
    models = {
        str(name): _model(str(name), node)
        for name, node in _mapping(top.get("models", Node({}, 1)), "models").items()
    }
    tools = {
        str(name): _tool(str(name), node)
        for name, node in _mapping(top.get("tools", Node({}, 1)), "tools").items()
    }
    compute = _mapping(top.get("compute", Node({}, 1)), "compute")
    _refuse_unknown(compute, COMPUTE_KEYS, "compute")
    per_second = _price(compute["per_second"], "per_second") if "per_second" in compute else 0.0
    return PriceTable(file=file, models=models, tools=tools, compute_per_second=per_second)


def _model(name: str, node: Node) -> ModelPrice:
    entry = _mapping(node, f"model {name!r}")
    _refuse_unknown(entry, MODEL_KEYS, f"model {name!r}")
    for required in ("input", "output"):
        if required not in entry:
            raise YamlError(node.line, f"model {name!r} needs an {required!r} price")
    if "cache_write" in entry and "cache_write_5m" in entry:
        raise YamlError(entry["cache_write"].line,
                        "give cache_write or cache_write_5m, not both (they are the same price)")
    prices = {key: _price(entry[key], key) for key in TOKEN_PRICE_KEYS if key in entry}
    if "cache_write" in entry:
        prices["cache_write_5m"] = _price(entry["cache_write"], "cache_write")
    return ModelPrice(
        name=name,
        input=prices["input"],
        output=prices["output"],
        cache_read=prices.get("cache_read"),
        cache_write_5m=prices.get("cache_write_5m"),
        cache_write_1h=prices.get("cache_write_1h"),
        reasoning=prices.get("reasoning"),
        provider=_text(entry.get("provider")),
        source=_text(entry.get("source")),
        as_of=_text(entry.get("as_of")),
        line=node.line,
    )


def _tool(name: str, node: Node) -> ToolPrice:
    entry = _mapping(node, f"tool {name!r}")
    _refuse_unknown(entry, TOOL_KEYS, f"tool {name!r}")
    if "per_call" not in entry:
        raise YamlError(node.line, f"tool {name!r} needs a 'per_call' price")
    return ToolPrice(name=name, per_call=_price(entry["per_call"], "per_call"),
                     source=_text(entry.get("source")), as_of=_text(entry.get("as_of")),
                     line=node.line)


def _mapping(node: Node, what: str) -> dict[str, Node]:
    if node.value is None:
        return {}
    if not isinstance(node.value, dict):
        raise YamlError(node.line, f"{what} must be a mapping of names to entries")
    return node.value


def _refuse_unknown(entry: dict[str, Node], allowed: frozenset[str], where: str) -> None:
    for key, value in entry.items():
        if key not in allowed:
            raise YamlError(value.line, f"unknown key {key!r} in {where} "
                                        f"(allowed: {', '.join(sorted(allowed))})")


def _price(node: Node, key: str) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise YamlError(node.line, f"{key} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise YamlError(node.line, f"{key} must be zero or more, got {value!r}")
    return float(value)


def _text(node: Node | None) -> str | None:
    if node is None or node.value is None:
        return None
    if isinstance(node.value, dt.date):
        return node.value.isoformat()
    return str(node.value)
