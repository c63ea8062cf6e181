"""The price table: loaded once from YAML, validated with file:line messages, then frozen.

People write prices per 1M tokens; they are kept that way here and divided once in costing.
A model entry holds its current prices and may add: `aliases` (other names with the same
price), `since` (when the current prices took effect) and `history` (earlier prices, each with
its `since`), `long_context` (whole-request tier above a prompt size), `service_tiers` (batch,
flex, priority: the tier's own prices as the provider lists them, or a flat multiplier where the
provider bills one) and `regional` (uplifts for cloud regions).

A table may start with `extends: default` (the shipped table) or `extends: PATH` (relative to
the extending file): it then adds entries to that table and replaces those it names again
(pricing/layers.py). A table that ends up with no models is refused: every step would be
unpriced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from agentcost.errors import PriceTableError
from agentcost.limits import MAX_ROWS
from agentcost.pricing.layers import merge
from agentcost.pricing.yaml_load import TooLarge, load, read_text
from agentcost.pricing.yaml_nodes import (
    Node,
    YamlError,
    date,
    mapping,
    price,
    refuse_unknown,
    sequence,
    shown,
    text,
)

TOKEN_PRICE_KEYS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h",
                    "reasoning")
PRICE_SET_KEYS = frozenset({*TOKEN_PRICE_KEYS, "cache_write"})
MODEL_KEYS = frozenset({*PRICE_SET_KEYS, "provider", "source", "as_of", "notes", "aliases",
                        "since", "history", "long_context", "service_tiers", "regional"})
HISTORY_KEYS = frozenset({*PRICE_SET_KEYS, "since", "long_context", "source", "notes"})
LONG_CONTEXT_KEYS = frozenset({*PRICE_SET_KEYS, "above", "from"})
TIER_KEYS = frozenset({*PRICE_SET_KEYS, "long_context"})
TOOL_KEYS = frozenset({"per_call", "source", "as_of", "notes"})
COMPUTE_KEYS = frozenset({"per_second", "workflows", "source", "as_of", "notes"})
TOP_KEYS = frozenset({"version", "currency", "extends", "models", "tools", "compute"})
DEFAULT_TABLE = "default"  # `extends: default`: the shipped table
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
class TierPrices:
    """A service tier's own prices for one model, as the provider lists them. `long_context`:
    the tier's prices for a request past the model's long-context threshold; None when the
    provider lists none, and such a request at this tier is then unpriced."""

    prices: PriceSet
    long_context: PriceSet | None = None


# A service tier: a flat multiplier of the model's prices (long-context ones included), or
# the tier's own prices.
ServiceTier = float | TierPrices


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
    # Explicit tier prices are those of the current period; a multiplier scales every period.
    service_tiers: dict[str, ServiceTier] = field(default_factory=dict)
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
    extends: tuple[str, ...] = ()  # the tables this one builds on, nearest first

    def alias_map(self) -> dict[str, str]:
        return {alias: model.name for model in self.models.values() for alias in model.aliases}


def default_table_path() -> Path:
    """The shipped pricing.yaml: inside the installed package, or at the top of a checkout."""
    packaged = resources.files("agentcost").joinpath("pricing.yaml")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "pricing.yaml"


def load_price_table(path: Path | None = None, *, require_models: bool = True) -> PriceTable:
    """The table at `path` (default: the shipped one), with the tables it extends merged in.
    Refused if it has no models even then, since every step would be unpriced, unless it is
    only read to be added to (`require_models=False`). A table it extends may have none: a
    team's tools, say."""
    path = path or default_table_path()
    table = _load(path, ())
    if require_models and not table.models:
        raise PriceTableError(
            f"{path}: the price table lists no models, so every step would be unpriced; list "
            f"models, or add `extends: {DEFAULT_TABLE}` to build on the shipped table")
    return table


def _load(path: Path, extending: tuple[Path, ...]) -> PriceTable:
    """`extending`: the tables that extend this one, in the order they were read."""
    try:
        content = read_text(path)
    except OSError as error:
        raise PriceTableError(f"{path}: cannot read price table: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise PriceTableError(f"{path}: price table is not UTF-8 text") from error
    except TooLarge as error:
        raise PriceTableError(f"{path}: the price table {error} (LiteLLM's whole database "
                              "is under 1 MiB as one): is it the right file?") from error
    try:
        root = load(content)
        table = parse_table(root, str(path))
        base = _base_path(root, path, extending)
        if base is not None:
            table = merge(_load(base, (*extending, path)), table,
                          own_per_second=_gives_per_second(root))
    except YamlError as error:
        raise PriceTableError(f"{path}:{error.line}: {error}") from error
    return table


def _gives_per_second(root: Node) -> bool:
    compute = root.value.get("compute") if isinstance(root.value, dict) else None
    return compute is not None and isinstance(compute.value, dict) and (
        "per_second" in compute.value)


def _base_path(root: Node, path: Path, extending: tuple[Path, ...]) -> Path | None:
    """The table `extends` names: `default` (the shipped table) or a path, relative to the
    extending file. A chain that comes back to a table already read is refused."""
    node = root.value.get("extends") if isinstance(root.value, dict) else None
    if node is None:
        return None
    value = node.value
    if not isinstance(value, str) or not value.strip():
        raise YamlError(node.line, f"extends must be {DEFAULT_TABLE!r} or the path of a price "
                                   f"table, got {value!r}")
    base = default_table_path() if value == DEFAULT_TABLE else (
        path.parent / Path(value).expanduser())
    if not base.is_file():
        raise YamlError(node.line, f"extends {value!r}: no price table at {str(base)!r}")
    chain = [*extending, path]
    if any(base.resolve() == seen.resolve() for seen in chain):
        names = " -> ".join(repr(str(seen)) for seen in [*chain, base])
        raise YamlError(node.line, f"extends {value!r} comes back to a table already read "
                                   f"({names})")
    return base


def parse_table(root: Node, file: str) -> PriceTable:
    top = mapping(root, "the price table")
    refuse_unknown(top, TOP_KEYS, "top level")
    if "version" in top and top["version"].value != 1:
        raise YamlError(top["version"].line, "version must be 1")
    if "currency" in top and top["currency"].value != "USD":
        raise YamlError(top["currency"].line, "currency must be USD")
    models = {
        str(name): _model(str(name), node)
        for name, node in mapping(top.get("models", Node({}, 1)), "models").items()
    }
    _refuse_alias_clashes(models)
    tools = {
        str(name): _tool(str(name), node)
        for name, node in mapping(top.get("tools", Node({}, 1)), "tools").items()
    }
    compute = mapping(top.get("compute", Node({}, 1)), "compute")
    refuse_unknown(compute, COMPUTE_KEYS, "compute")
    per_second = price(compute["per_second"], "per_second") if "per_second" in compute else 0.0
    workflows = {
        str(name): price(node, f"compute price of workflow {name!r}")
        for name, node in mapping(compute.get("workflows", Node({}, 1)),
                                   "compute workflows").items()
    }
    return PriceTable(file=file, models=models, tools=tools, compute_per_second=per_second,
                      compute_per_workflow=workflows)


def _model(name: str, node: Node) -> ModelPrice:
    entry = mapping(node, f"model {name!r}")
    refuse_unknown(entry, MODEL_KEYS, f"model {name!r}")
    current = Period(date(entry.get("since")), _price_set(entry, node, f"model {name!r}"),
                     _long_context(entry.get("long_context"), name))
    history = [_period(item, name) for item in sequence(entry.get("history"), "history")]
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
    aliases = tuple(str(text(alias, "an alias")) for alias in sequence(entry.get("aliases"),
                                                                       "aliases"))
    return ModelPrice(
        name=name,
        periods=(*periods, current),
        aliases=aliases,
        service_tiers=_service_tiers(entry.get("service_tiers"), node, name,
                                     current.long_context),
        regional=_regional(entry.get("regional"), name),
        provider=text(entry.get("provider"), "provider"),
        source=text(entry.get("source"), "source"),
        as_of=text(entry.get("as_of"), "as_of"),
        line=node.line,
    )


def _period(node: Node, model: str) -> Period:
    entry = mapping(node, f"a history entry of {model!r}")
    refuse_unknown(entry, HISTORY_KEYS, f"a history entry of {model!r}")
    if "since" not in entry:
        raise YamlError(node.line, f"history entry of {model!r} needs a 'since' date")
    return Period(date(entry["since"]), _price_set(entry, node, f"history of {model!r}"),
                  _long_context(entry.get("long_context"), model))


def _price_set(entry: dict[str, Node], node: Node, what: str) -> PriceSet:
    for required in ("input", "output"):
        if required not in entry:
            raise YamlError(node.line, f"{what} needs an {required!r} price")
    if "cache_write" in entry and "cache_write_5m" in entry:
        raise YamlError(entry["cache_write"].line,
                        "give cache_write or cache_write_5m, not both (they are the same price)")
    prices = {key: price(entry[key], key) for key in TOKEN_PRICE_KEYS if key in entry}
    if "cache_write" in entry:
        prices["cache_write_5m"] = price(entry["cache_write"], "cache_write")
    return PriceSet(**prices)


def _long_context(node: Node | None, model: str) -> LongContext | None:
    if node is None:
        return None
    entry = mapping(node, f"long_context of {model!r}")
    refuse_unknown(entry, LONG_CONTEXT_KEYS, f"long_context of {model!r}")
    if ("above" in entry) == ("from" in entry):
        raise YamlError(node.line, "long_context needs 'above' (a prompt larger than N is in "
                                   "the tier) or 'from' (N or more), exactly one")
    key = "above" if "above" in entry else "from"
    threshold = entry[key].value
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not (
            0 < threshold <= MAX_ROWS):
        raise YamlError(entry[key].line, f"{key} must be a whole number of tokens from 1 to "
                                         f"{MAX_ROWS:,}, got {shown(threshold)}")
    return LongContext(threshold, key == "from",
                       _price_set(entry, node, f"long_context of {model!r}"))


def _service_tiers(node: Node | None, owner: Node, model: str,
                   long_context: LongContext | None) -> dict[str, ServiceTier]:
    tiers: dict[str, ServiceTier] = {}
    for tier, value in mapping(node or Node({}, owner.line), "service_tiers").items():
        if tier == DEFAULT_TIER:
            raise YamlError(value.line, "the default tier is the model's own prices")
        if isinstance(value.value, dict):
            tiers[tier] = _tier_prices(value, f"service tier {tier!r} of {model!r}",
                                       long_context)
        else:
            tiers[tier] = price(value, f"multiplier of service tier {tier!r}")
    return tiers


def _tier_prices(node: Node, what: str, long_context: LongContext | None) -> TierPrices:
    entry = node.value
    refuse_unknown(entry, TIER_KEYS, what)
    prices = _price_set(entry, node, what)
    if "long_context" not in entry:
        return TierPrices(prices)
    lc_node = entry["long_context"]
    if long_context is None:
        raise YamlError(lc_node.line, f"{what} lists long_context prices, but the model has "
                                      "no long_context tier")
    lc_entry = mapping(lc_node, f"long_context of {what}")
    for key in ("above", "from"):
        if key in lc_entry:
            raise YamlError(lc_entry[key].line, "a tier's long_context uses the model's own "
                                                "threshold: give only its prices")
    refuse_unknown(lc_entry, PRICE_SET_KEYS, f"long_context of {what}")
    return TierPrices(prices, _price_set(lc_entry, lc_node, f"long_context of {what}"))


def _regional(node: Node | None, model: str) -> dict[str, float]:
    regional: dict[str, float] = {}
    for region, value in mapping(node or Node({}, 1), f"regional of {model!r}").items():
        if region not in REGIONS:
            raise YamlError(value.line, f"unknown region kind {region!r} "
                                        f"(known: {', '.join(sorted(REGIONS))})")
        regional[region] = price(value, f"uplift of {region!r}")
    return regional


def _tool(name: str, node: Node) -> ToolPrice:
    entry = mapping(node, f"tool {name!r}")
    refuse_unknown(entry, TOOL_KEYS, f"tool {name!r}")
    if "per_call" not in entry:
        raise YamlError(node.line, f"tool {name!r} needs a 'per_call' price")
    return ToolPrice(name=name, per_call=price(entry["per_call"], "per_call"),
                     source=text(entry.get("source"), "source"),
                     as_of=text(entry.get("as_of"), "as_of"),
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
