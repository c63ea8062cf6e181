"""The span: what every trace container (OTLP, Phoenix, Langfuse, OTel-JS...) is read into
before conventions turn spans into canonical steps.

Attributes are flattened to dotted keys (`llm.token_count.prompt`), values kept as JSON scalars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Span:
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    name: str | None
    start_ns: int | None
    end_ns: int | None
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None
    # Container-level hints: Langfuse observation type, OpenInference span kind, cost.
    container_kind: str | None = None
    source_line: int = 0


def flatten(value: Any, prefix: str = "", into: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested objects to dotted keys: {"llm": {"model_name": "x"}} -> {"llm.model_name": "x"}.
    Lists are kept whole (they are values, like finish reasons)."""
    out: dict[str, Any] = {} if into is None else into
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value
    return out
