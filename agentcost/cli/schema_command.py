"""`agentcost schema`: the native JSONL format as a JSON Schema."""

from __future__ import annotations

import json
from typing import Any

from agentcost.ingest.native_fields import NATIVE_FIELDS, FieldKind

JSON_TYPES: dict[FieldKind, Any] = {
    "text": ["string", "number"],
    "count": "number",
    "number": "number",
    "time": ["string", "number"],
    "json": {},
}


def native_json_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for field in NATIVE_FIELDS:
        for position, alias in enumerate(field.aliases):
            kind = JSON_TYPES[field.kind]
            entry: dict[str, Any] = {} if kind == {} else {"type": [*kind, "null"]
                                                             if isinstance(kind, list)
                                                             else [kind, "null"]}
            if field.kind == "count":
                entry["minimum"] = 0
                entry["multipleOf"] = 1
            if field.kind == "number":
                entry["minimum"] = 0
            entry["description"] = (
                field.doc if position == 0 else f"Alias of {field.aliases[0]}."
            )
            properties[alias] = entry
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://agentcost.dev/schema/native-step-v1.json",
        "title": "agentcost native step (one JSON object per line)",
        "type": "object",
        "properties": properties,
        "anyOf": [{"required": [alias]} for alias in NATIVE_FIELDS[0].aliases],
        "additionalProperties": True,
    }


def schema() -> None:
    """Print the JSON Schema of the native JSONL step format."""
    print(json.dumps(native_json_schema(), indent=2))


EXAMPLES = ("agentcost schema > agentcost-step.schema.json",)
