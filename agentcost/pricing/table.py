"""The price table: loaded once from YAML, validated with file:line messages, then frozen.

People write prices per 1M tokens; they are kept that way here and divided once in costing.
A model entry holds its current prices and may add: `aliases` (other names with the same
price), `since` (when the current prices took effect) and `history` (earlier prices, each with
its `since`), `long_context` (whole-request tier above a prompt size), `service_tiers` (batch,
flex, priority: a multiplier or explicit prices) and `regional` (uplifts for cloud regions).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from agentcost.errors import PriceTableError
from agentcost.pricing.yaml_nodes import Node, YamlError, load

TOKEN_PRICE_KEYS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h",
                    "reasoning")
PRICE_SET_KEYS = frozenset({*TOKEN_PRICE_KEYS, "cache_write"})
MODEL_KEYS = frozenset({*PRICE_SET_KEYS, "provider", "source", "as_of", "notes", "aliases",
                        "since", "history", "long_context", "service_tiers", "regional"})
HISTORY_KEYS = frozenset({*PRICE_SET_KEYS, "since", "long_context", "source", "notes"})
LONG_CONTEXT_KEYS = frozenset({*PRICE_SET_KEYS, "above", "from"})
TOOL_KEYS = frozenset({"per_call", "source", "as_of", "notes"})
COMPUTE_KEYS = frozenset({"per_second", "workflows", "source", "as_of", "notes"})
TOP_KEYS = frozenset({"version", "currency", "models", "tools", "compute"})
# Where a regional uplift can apply: the resolver tells which one a trace's model name implies.
REGIONS = frozenset({"bedrock-geo", "bedrock-us-gov", "azure-data-zone", "vertex"})
DEFAULT_TIER = "default"


@dataclass(frozen=True)
class PriceSet:
    """USD per 1M tokens. None: the provider lists no price for that bucket (steps using it
    stay unpriced, never free). Reasoning None: billed at the output price."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write_5m: float | None = None
    cache_write_1h: float | None = None
    reasoning: float | None = None

    def scaled(self, factor: float) -> PriceSet:
        def times(value: float | None) -> float | None:
            return None if value is None else value * factor

        return PriceSet(self.input * factor, self.output * factor, times(self.cache_read),
                        times(self.cache_write_5m), times(self.cache_write_1h),
                        times(self.reasoning))


@dataclass(frozen=True)
class LongContext:
    """Whole-request tier: once the whole prompt (cache included) passes the threshold, every
    bucket of that request is priced at these prices."""

    threshold: int
    inclusive: bool  # True: a prompt of exactly `threshold` tokens is in the tier
    prices: PriceSet


@dataclass(frozen=True)
class Period:
    since: dt.date | None  # None: from the beginning
    prices: PriceSet
    long_context: LongContext | None = None


@dataclass(frozen=True)
class ModelPrice:
    name: str
    periods: tuple[Period, ...]  # oldest first; the last is the current price
    aliases: tuple[str, ...] = ()
    service_tiers: dict[str, float | PriceSet] = field(default_factory=dict)
    regional: dict[str, float] = field(default_factory=dict)
    provider: str | None = None
    source: str | None = None
    as_of: str | None = None
    line: int = 0

    @property
    def current(self) -> PriceSet:
        return self.periods[-1].prices

    # The current prices, for code and tests that only care about today.
    @property
    def input(self) -> float:
        return self.current.input

    @property
    def output(self) -> float:
        return self.current.output

    @property
    def cache_read(self) -> float | None:
        return self.current.cache_read

    @property
    def cache_write_5m(self) -> float | None:
        return self.current.cache_write_5m

    @property
    def cache_write_1h(self) -> float | None:
        return self.current.cache_write_1h


@dataclass(frozen=True)
class ToolPrice:
    name: str  # a tool name, or a glob pattern such as "*_search"
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
    compute_per_workflow: dict[str, float] = field(default_factory=dict)

    def alias_map(self) -> dict[str, str]:
        return {alias: model.name for model in self.models.values() for alias in model.aliases}


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
        return parse_table(load(text), str(path))
    except YamlError as error:
        raise PriceTableError(f"{path}:{error.line}: {error}") from error


def parse_table(root: Node, file: str) -> PriceTable:
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
    _refuse_alias_clashes(models)
    tools = {
        str(name): _tool(str(name), node)
        for name, node in _mapping(top.get("tools", Node({}, 1)), "tools").items()
    }
    compute = _mapping(top.get("compute", Node({}, 1)), "compute")
    _refuse_unknown(compute, COMPUTE_KEYS, "compute")
    per_second = _price(compute["per_second"], "per_second") if "per_second" in compute else 0.0
    workflows = {
        str(name): _price(node, f"compute price of workflow {name!r}")
        for name, node in _mapping(compute.get("workflows", Node({}, 1)),
                                   "compute workflows").items()
    }
    return PriceTable(file=file, models=models, tools=tools, compute_per_second=per_second,
                      compute_per_workflow=workflows)


def _model(name: str, node: Node) -> ModelPrice:
    entry = _mapping(node, f"model {name!r}")
    _refuse_unknown(entry, MODEL_KEYS, f"model {name!r}")
    current = Period(_date(entry.get("since")), _price_set(entry, node, f"model {name!r}"),
                     _long_context(entry.get("long_context"), name))
    history = [_period(item, name) for item in _sequence(entry.get("history"), "history")]
    periods = sorted(history, key=lambda p: p.since or dt.date.min)
    if history:
        if current.since is None:
            raise YamlError(node.line, f"model {name!r} has a history: give the current "
                                       "prices' 'since' date too")
        if any(p.since is None for p in history):
            raise YamlError(entry["history"].line, "every history entry needs a 'since' date")
        if periods[-1].since is not None and periods[-1].since >= current.since:
            raise YamlError(entry["since"].line, "'since' of the current prices must be later "
                                                 "than every history entry")
        dates = [p.since for p in periods]
        if len(set(dates)) != len(dates):
            raise YamlError(entry["history"].line, "two history entries have the same 'since'")
    aliases = tuple(str(alias.value) for alias in _sequence(entry.get("aliases"), "aliases"))
    return ModelPrice(
        name=name,
        periods=(*periods, current),
        aliases=aliases,
        service_tiers=_service_tiers(entry.get("service_tiers"), node, name),
        regional=_regional(entry.get("regional"), name),
        provider=_text(entry.get("provider")),
        source=_text(entry.get("source")),
        as_of=_text(entry.get("as_of")),
        line=node.line,
    )


def _period(node: Node, model: str) -> Period:
    entry = _mapping(node, f"a history entry of {model!r}")
    _refuse_unknown(entry, HISTORY_KEYS, f"a history entry of {model!r}")
    if "since" not in entry:
        raise YamlError(node.line, f"history entry of {model!r} needs a 'since' date")
    return Period(_date(entry["since"]), _price_set(entry, node, f"history of {model!r}"),
                  _long_context(entry.get("long_context"), model))


def _price_set(entry: dict[str, Node], node: Node, what: str) -> PriceSet:
    for required in ("input", "output"):
        if required not in entry:
            raise YamlError(node.line, f"{what} needs an {required!r} price")
    if "cache_write" in entry and "cache_write_5m" in entry:
        raise YamlError(entry["cache_write"].line,
                        "give cache_write or cache_write_5m, not both (they are the same price)")
    prices = {key: _price(entry[key], key) for key in TOKEN_PRICE_KEYS if key in entry}
    if "cache_write" in entry:
        prices["cache_write_5m"] = _price(entry["cache_write"], "cache_write")
    return PriceSet(**prices)


def _long_context(node: Node | None, model: str) -> LongContext | None:
    if node is None:
        return None
    entry = _mapping(node, f"long_context of {model!r}")
    _refuse_unknown(entry, LONG_CONTEXT_KEYS, f"long_context of {model!r}")
    if ("above" in entry) == ("from" in entry):
        raise YamlError(node.line, "long_context needs 'above' (a prompt larger than N is in "
                                   "the tier) or 'from' (N or more), exactly one")
    key = "above" if "above" in entry else "from"
    threshold = entry[key].value
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold <= 0:
        raise YamlError(entry[key].line, f"{key} must be a whole number of tokens")
    return LongContext(threshold, key == "from",
                       _price_set(entry, node, f"long_context of {model!r}"))


def _service_tiers(node: Node | None, owner: Node, model: str) -> dict[str, float | PriceSet]:
    tiers: dict[str, float | PriceSet] = {}
    for tier, value in _mapping(node or Node({}, owner.line), "service_tiers").items():
        if tier == DEFAULT_TIER:
            raise YamlError(value.line, "the default tier is the model's own prices")
        if isinstance(value.value, dict):
            prices = value.value
            _refuse_unknown(prices, PRICE_SET_KEYS, f"service tier {tier!r} of {model!r}")
            tiers[tier] = _price_set(prices, value, f"service tier {tier!r} of {model!r}")
        else:
            tiers[tier] = _price(value, f"multiplier of service tier {tier!r}")
    return tiers


def _regional(node: Node | None, model: str) -> dict[str, float]:
    regional: dict[str, float] = {}
    for region, value in _mapping(node or Node({}, 1), f"regional of {model!r}").items():
        if region not in REGIONS:
            raise YamlError(value.line, f"unknown region kind {region!r} "
                                        f"(known: {', '.join(sorted(REGIONS))})")
        regional[region] = _price(value, f"uplift of {region!r}")
    return regional


def _tool(name: str, node: Node) -> ToolPrice:
    entry = _mapping(node, f"tool {name!r}")
    _refuse_unknown(entry, TOOL_KEYS, f"tool {name!r}")
    if "per_call" not in entry:
        raise YamlError(node.line, f"tool {name!r} needs a 'per_call' price")
    return ToolPrice(name=name, per_call=_price(entry["per_call"], "per_call"),
                     source=_text(entry.get("source")), as_of=_text(entry.get("as_of")),
                     line=node.line)


def _refuse_alias_clashes(models: dict[str, ModelPrice]) -> None:
    seen: dict[str, str] = {}
    for model in models.values():
        for alias in model.aliases:
            if alias in models:
                raise YamlError(model.line, f"alias {alias!r} of {model.name!r} is also a "
                                            "model of its own")
            if alias in seen:
                raise YamlError(model.line, f"alias {alias!r} is given to both "
                                            f"{seen[alias]!r} and {model.name!r}")
            seen[alias] = model.name


def _mapping(node: Node, what: str) -> dict[str, Node]:
    if node.value is None:
        return {}
    if not isinstance(node.value, dict):
        raise YamlError(node.line, f"{what} must be a mapping of names to entries")
    return node.value


def _sequence(node: Node | None, what: str) -> list[Node]:
    if node is None or node.value is None:
        return []
    if not isinstance(node.value, list):
        raise YamlError(node.line, f"{what} must be a list")
    return list(node.value)


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


def _date(node: Node | None) -> dt.date | None:
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


def _text(node: Node | None) -> str | None:
    if node is None or node.value is None:
        return None
    if isinstance(node.value, dt.date):
        return node.value.isoformat()
    return str(node.value)
