"""Model names as traces write them, resolved to price table entries, saying how.

Order: the exact name; a declared alias or dated snapshot; then the name with provider and
gateway prefixes taken off (`openai/`, `azure/`, `bedrock/`, Bedrock geo profiles and
`-v1:0` suffixes, Vertex `@date`, AI Studio `gemini/`), where the prefix may carry a regional
uplift. Nothing looser: `gpt-4o-2024-05-13` is not `gpt-4o`, and a name no rule finds stays
unpriced.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from agentcost.pricing.table import PriceTable, ToolPrice

GATEWAYS = frozenset({"openai", "azure", "azure_ai", "anthropic", "bedrock", "vertex_ai",
                      "vertex", "gemini", "google", "openrouter", "mistral", "deepseek",
                      "litellm", "together_ai", "groq", "fireworks_ai"})
BEDROCK = re.compile(
    r"^(?:(?P<geo>us|eu|apac|jp|au|ca|global|us-gov)\.)?"
    r"(?P<vendor>anthropic|meta|amazon|mistral|cohere|ai21|deepseek|openai|qwen)\."
    r"(?P<model>.+?)(?:-v\d+(?::\d+)?)?$"
)
VERTEX_DATE = re.compile(r"^(?P<model>.+)@(?P<date>\d{8})$")
AZURE_DATA_ZONES = frozenset({"eu", "us"})
GEO_REGIONS = {"us": "bedrock-geo", "eu": "bedrock-geo", "apac": "bedrock-geo",
               "jp": "bedrock-geo", "au": "bedrock-geo", "ca": "bedrock-geo",
               "us-gov": "bedrock-us-gov"}


@dataclass(frozen=True)
class Resolution:
    name: str
    model: str | None  # the price table entry, or None: unpriced
    uplift: float
    how: str


def resolve_model(name: str, table: PriceTable, aliases: dict[str, str] | None = None
                  ) -> Resolution:
    aliases = table.alias_map() if aliases is None else aliases
    found = _lookup(name, table, aliases)
    if found:
        return Resolution(name, found[0], 1.0, found[1])
    stripped, region, steps = _strip(name)
    if region is None and VERTEX_DATE.match(name):
        region = "vertex"
    if stripped != name:
        found = _lookup(stripped, table, aliases)
        if found:
            model, how = found
            uplift = table.models[model].regional.get(region, 1.0) if region else 1.0
            detail = "; ".join(steps) + f"; then {how}"
            if uplift != 1.0:
                detail += f"; regional uplift x{uplift:g} ({region})"
            return Resolution(name, model, uplift, detail)
    return Resolution(name, None, 1.0, "no price table entry, alias or known prefix matches "
                                       "(names are never matched loosely)")


def _lookup(name: str, table: PriceTable, aliases: dict[str, str]) -> tuple[str, str] | None:
    if name in table.models:
        return name, f"exact name {name!r}"
    if name in aliases:
        return aliases[name], f"{name!r} is an alias of {aliases[name]!r}"
    return None


def _strip(name: str) -> tuple[str, str | None, list[str]]:
    """The name without provider prefixes and suffixes, the region kind the prefix implies,
    and what was taken off, in words."""
    steps: list[str] = []
    region: str | None = None
    current = name
    while "/" in current and current.split("/", 1)[0].lower() in GATEWAYS:
        prefix, current = current.split("/", 1)
        steps.append(f"gateway prefix {prefix + '/'!r} removed")
        if prefix.lower() in ("vertex_ai", "vertex"):
            region = "vertex"
        if prefix.lower() == "azure" and current.split("/", 1)[0] in AZURE_DATA_ZONES:
            zone, current = current.split("/", 1)
            region = "azure-data-zone"
            steps.append(f"Azure data zone {zone + '/'!r} removed")
    bedrock = BEDROCK.match(current)
    if bedrock:
        geo = bedrock.group("geo")
        region = GEO_REGIONS.get(geo or "")
        current = bedrock.group("model")
        profile = f"{geo}." if geo else ""
        steps.append(f"Bedrock model id ({profile}{bedrock.group('vendor')}.) read as {current!r}")
    vertex = VERTEX_DATE.match(current)
    if vertex:
        current = f"{vertex.group('model')}-{vertex.group('date')}"
        steps.append(f"Vertex @date read as {current!r}")
    return current, region, steps


# What near names may differ by: case, `.` / `_` for `-`, and provider prefixes (first tier);
# then also a date, snapshot or version suffix (second tier).
SEPARATORS = re.compile(r"[._\s]+")
DATED_SUFFIX = re.compile(r"(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest))?"
                          r"(?:-v\d+(?::\d+)?)?$")
SUGGESTIONS = 3


def near_names(name: str, table: PriceTable) -> list[str]:
    """Price table entries a model name the table does not know may have meant: the same name
    but for case, dots or underscores for dashes and a provider prefix (`GPT-4o`,
    `claude-sonnet-4.5`, `custom/gpt-4o`); failing those, the same but for a date suffix
    (`gpt-4o-2024-02-01`). For people to read and decide: never used as a price, since a
    near name can be priced differently (`gpt-4o-2024-05-13` is not `gpt-4o`)."""
    return near_name_finder(table)(name)


def near_name_finder(table: PriceTable) -> Callable[[str], list[str]]:
    """`near_names` for many names: the table's names are read once."""
    keys = [(model.name, _near_key(other)) for model in table.models.values()
            for other in (model.name, *model.aliases)]
    undated = [(entry, _undated(key)) for entry, key in keys]

    def find(name: str) -> list[str]:
        key = _near_key(name)
        for candidates, wanted in ((keys, key), (undated, _undated(key))):
            found = [entry for entry, other in candidates if other == wanted]
            if found:
                return list(dict.fromkeys(found))[:SUGGESTIONS]
        return []

    return find


def _undated(key: str) -> str:
    return DATED_SUFFIX.sub("", key, count=1)


def _near_key(name: str) -> str:
    stripped = _strip(name)[0].rsplit("/", 1)[-1]
    return SEPARATORS.sub("-", stripped.lower()).strip("-")


def resolve_tool(name: str, table: PriceTable) -> ToolPrice | None:
    """A tool by exact name first, then by the first pattern (in table order) it matches."""
    if name in table.tools:
        return table.tools[name]
    for tool in table.tools.values():
        if any(char in tool.name for char in "*?[") and fnmatch.fnmatchcase(name, tool.name):
            return tool
    return None
