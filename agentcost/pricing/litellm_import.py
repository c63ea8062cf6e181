"""Convert LiteLLM's community price database into our price table format.

Kept: per-token prices of text models (chat, responses, completion, embedding modes): input,
output, cache read, cache write (5 minutes and 1 hour), reasoning billed apart, the
whole-request long-context tier (`*_above_{N}k_tokens`), and the batch, flex and priority
service tiers each with its own prices (`*_batches`, `*_flex`, `*_priority`, and their
`*_above_{N}k_tokens_*` long-context prices); `alias_of` stubs become aliases. Dropped, and
counted in the result: every other price field (per image, audio, second, query, tiered
pricing, search context...), and models of other modes. Checked: prices internally consistent
(cache reads below input, cache writes above it, 1-hour writes above 5-minute ones);
violations are listed, not silently fixed. The result can be merged into an existing table,
whose own entries, tools and compute prices win.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcost.errors import InputError

TEXT_MODES = frozenset({"chat", "responses", "completion", "embedding"})
SKIPPED_KEYS = frozenset({"sample_spec", "fallback_generalizations"})
PER_TOKEN = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_reasoning_token": "reasoning",
}
TIER_SUFFIXES = {"_batches": "batch", "_flex": "flex", "_priority": "priority"}
ABOVE = re.compile(r"^(?P<field>.+)_above_(?P<size>\d+)k_tokens$")
NOT_PRICES = frozenset({"litellm_provider", "mode", "source", "max_input_tokens",
                        "max_output_tokens", "max_tokens", "deprecation_date", "metadata",
                        "deprecation_source", "successor_model", "supported_endpoints",
                        "supported_modalities", "supported_output_modalities", "rpm", "tpm",
                        "token_count_model", "provider_specific_entry", "output_vector_size",
                        "prompt_cache_min_tokens", "reasoning_effort_levels",
                        "thinking_always_on", "alias_of"})


@dataclass
class Imported:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped_fields: Counter[str] = field(default_factory=Counter)
    dropped_models: Counter[str] = field(default_factory=Counter)  # by mode
    inconsistent: list[str] = field(default_factory=list)


def per_million(value: Any) -> float | None:
    """A per-token price as per 1M tokens; None for anything that is not a price (text, a
    negative or infinite number): the field is then listed as dropped."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    per_1m = value * 1_000_000
    if not math.isfinite(per_1m) or per_1m < 0:
        return None
    return round(per_1m, 9)


def import_litellm(path: Path) -> Imported:
    try:
        database = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read the LiteLLM price file: {error}") from error
    if not isinstance(database, dict):
        raise InputError(f"{path}: not a LiteLLM price file (expected an object of models)")
    result = Imported()
    aliases: dict[str, list[str]] = {}
    for name, entry in database.items():
        if name in SKIPPED_KEYS or not isinstance(entry, dict):
            continue
        if isinstance(entry.get("alias_of"), str):
            aliases.setdefault(entry["alias_of"], []).append(name)
            continue
        mode = entry.get("mode")
        if not isinstance(mode, str) or mode not in TEXT_MODES:
            result.dropped_models[mode if isinstance(mode, str) else "(no mode)"] += 1
            continue
        model = _model(entry, result)
        if model is not None:
            result.models[name] = model
    for target, names in aliases.items():
        if target in result.models:
            result.models[target]["aliases"] = sorted(n for n in names if n not in result.models)
    for name, model in result.models.items():
        result.inconsistent.extend(f"{name}: {problem}" for problem in _inconsistencies(model))
    return result


def _model(entry: dict[str, Any], result: Imported) -> dict[str, Any] | None:
    model: dict[str, Any] = {}
    if isinstance(entry.get("litellm_provider"), str):
        model["provider"] = entry["litellm_provider"]
    tiers: dict[str, dict[str, Any]] = {}
    long_context: dict[str, Any] = {}
    tier_long_context: dict[str, dict[str, Any]] = {}
    for key, value in entry.items():
        if key in NOT_PRICES or key.startswith("supports_"):
            continue
        price = per_million(value)
        if key in PER_TOKEN and price is not None:
            model[PER_TOKEN[key]] = price
            continue
        suffix, tier = next(((s, t) for s, t in TIER_SUFFIXES.items() if key.endswith(s)),
                            ("", ""))
        bucket = key.removesuffix(suffix) if tier else key
        if tier and bucket in PER_TOKEN and price is not None:
            tiers.setdefault(tier, {})[PER_TOKEN[bucket]] = price
            continue
        above = ABOVE.match(bucket)
        if above and above.group("field") in PER_TOKEN and price is not None:
            size = int(above.group("size")) * 1000
            prices = tier_long_context.setdefault(tier, {}) if tier else long_context
            if prices.get("above", size) == size:
                prices["above"] = size
                prices[PER_TOKEN[above.group("field")]] = price
                continue
        result.dropped_fields[key] += 1
    if "input" not in model or "output" not in model:
        result.dropped_fields["(models without input and output token prices)"] += 1
        return None
    if "input" in long_context and "output" in long_context:
        model["long_context"] = long_context
    elif long_context:
        result.dropped_fields["(long-context tiers without input and output prices)"] += 1
    complete = {tier: prices for tier, prices in tiers.items()
                if "input" in prices and "output" in prices}
    for tier, prices in tier_long_context.items():
        # A tier's long-context prices use the model's threshold: kept only where they match.
        size = prices.pop("above")
        if (tier in complete and "long_context" in model and "input" in prices
                and "output" in prices and model["long_context"]["above"] == size):
            complete[tier]["long_context"] = prices
        else:
            result.dropped_fields["(tier long-context prices without their tier, the "
                                  "model's threshold or input and output prices)"] += 1
    if complete:
        model["service_tiers"] = complete
    source = entry.get("source")
    model["source"] = source if isinstance(source, str) and source else (
        "LiteLLM model_prices_and_context_window.json")
    return model


def _inconsistencies(model: dict[str, Any]) -> list[str]:
    problems = []
    base = model["input"]
    if model.get("cache_read") is not None and base and model["cache_read"] > base:
        problems.append(f"cache read {model['cache_read']} costs more than input {base}")
    if model.get("cache_write_5m") is not None and model["cache_write_5m"] < base:
        problems.append(f"5-minute cache write {model['cache_write_5m']} is below input {base}")
    write_1h, write_5m = model.get("cache_write_1h"), model.get("cache_write_5m")
    if write_1h is not None and write_5m is not None and write_1h < write_5m:
        problems.append(f"1-hour cache write {write_1h} is below the 5-minute one {write_5m}")
    if write_1h is not None and base and write_1h > 4 * base:
        problems.append(f"1-hour cache write {write_1h} is over 4x input {base}")
    return problems


@dataclass
class Merged:
    """LiteLLM's models merged into an existing table, whose own entries win."""

    document: dict[str, Any]
    into: Path
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # names the table already prices


def merge_into(imported: Imported, target: str) -> Merged:
    """The table at `target` (a path, or `default`: the shipped table) with LiteLLM's models
    added. The table's entries, tools, compute prices and `extends` are kept as they are: a
    model it already prices, by entry or alias, keeps the table's prices (curated tiers, history
    and regional uplifts included); an alias of an added model that the table already uses is
    left out."""
    import yaml

    from agentcost.pricing.table import DEFAULT_TABLE, default_table_path, load_price_table

    path = default_table_path() if target == DEFAULT_TABLE else Path(target)
    # valid (its models may come from this import alone), and every name it prices
    table = load_price_table(path, require_models=False)
    priced = {*table.models, *table.alias_map()}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    extends = document.get("extends")
    if isinstance(extends, str) and extends != DEFAULT_TABLE:
        # The merged table is written elsewhere: its base stays the same file.
        document["extends"] = str((path.parent / Path(extends).expanduser()).resolve())
    models = document.setdefault("models", {}) or {}
    document["models"] = models
    merged = Merged(document, path)
    for name, model in imported.models.items():
        if name in priced:
            merged.kept.append(name)
            continue
        aliases = [alias for alias in model.get("aliases", []) if alias not in priced]
        models[name] = {**model, "aliases": aliases} if aliases else {
            key: value for key, value in model.items() if key != "aliases"}
        merged.added.append(name)
    return merged


def to_yaml(imported: Imported, source: Path, merged: Merged | None = None) -> str:
    import yaml

    if merged is None:
        document: dict[str, Any] = {"version": 1, "currency": "USD", "models": imported.models}
        header = f"# Converted by `agentcost pricing import-litellm` from {source.name}.\n"
    else:
        document = merged.document
        header = (f"# {merged.into.name} with the models of {source.name} it did not price, "
                  "added by `agentcost pricing import-litellm --merge-into`.\n")
    header += ("# Prices are USD per 1M tokens. What the conversion dropped is listed on "
               "stderr.\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
