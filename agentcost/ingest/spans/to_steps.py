"""Spans to canonical steps, counting each logical model call once.

Rules (../shared/reference/trace-formats.md section 4):
1. The same span exported twice (same trace id and span id) is read once.
2. When a span and one of its descendants both carry usage, only the deepest counts: wrappers
   such as ADK `call_llm` or pydantic-ai `agent run` repeat their children's usage.
3. Agent spans are structure; usage on them is an aggregate and is never added.
4. LLM, embedding and tool spans become steps; every other span is structure, counted apart.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from agentcost.ingest.spans import conventions as c
from agentcost.ingest.spans.model import Span
from agentcost.schema import conform

NOT_STEP_REPEATED = "usage repeated by a nested span (counted once, at the deepest)"
NOT_STEP_AGENT = "agent span (structure; its usage is an aggregate of its calls)"
NOT_STEP_STRUCTURE = "structure span (chain, workflow, request...)"
SKIP_DUPLICATE = "duplicate span (same trace and span id)"


@dataclass
class SpanSteps:
    steps: pl.DataFrame
    not_steps: dict[str, list[int]] = field(default_factory=dict)
    skipped: dict[str, list[int]] = field(default_factory=dict)


def task_of(span: Span, task_key: str, fallback: str) -> str:
    if task_key == "session":
        value = c.first(span.attributes, c.SESSION)
    elif task_key.startswith("resource."):
        value = span.resource.get(task_key.removeprefix("resource."))
    elif task_key.startswith("attribute."):
        value = span.attributes.get(task_key.removeprefix("attribute."))
    else:
        value = None
    if value is None:
        value = span.trace_id
    return fallback if value is None else str(value)


def canonical_json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spans_to_steps(
    spans: Iterable[Span], *, source_file: str, task_key: str = "trace"
) -> SpanSteps:
    result = SpanSteps(pl.DataFrame())
    unique: list[Span] = []
    seen: set[tuple[str, str]] = set()
    for span in spans:
        if span.trace_id is not None and span.span_id is not None:
            key = (span.trace_id, span.span_id)
            if key in seen:
                result.skipped.setdefault(SKIP_DUPLICATE, []).append(span.source_line)
                continue
            seen.add(key)
        unique.append(span)

    kinds = [c.step_kind(span) for span in unique]
    usages = [c.usage(span) for span in unique]
    carries = [kind not in ("agent",) and c.has_usage(tokens) and kind != "other"
               for kind, tokens in zip(kinds, usages, strict=True)]
    index: dict[tuple[str | None, str | None], int] = {
        (s.trace_id, s.span_id): i for i, s in enumerate(unique) if s.span_id is not None}
    below_usage = [False] * len(unique)  # some descendant carries usage
    for i, span in enumerate(unique):
        if not carries[i]:
            continue
        parent = index.get((span.trace_id, span.parent_span_id))
        hops = 0
        while parent is not None and hops < 1000:  # a cycle in bad data must not hang us
            below_usage[parent] = True
            ancestor = unique[parent]
            parent = index.get((ancestor.trace_id, ancestor.parent_span_id))
            hops += 1

    rows: list[dict[str, Any]] = []
    for i, span in enumerate(unique):
        kind = kinds[i]
        if kind in ("llm", "embedding") and below_usage[i]:
            result.not_steps.setdefault(NOT_STEP_REPEATED, []).append(span.source_line)
            continue
        if kind == "agent":
            result.not_steps.setdefault(NOT_STEP_AGENT, []).append(span.source_line)
            continue
        if kind == "other":
            reason = NOT_STEP_REPEATED if below_usage[i] else NOT_STEP_STRUCTURE
            result.not_steps.setdefault(reason, []).append(span.source_line)
            continue
        rows.append(_row(span, kind, usages[i], source_file, task_key))
    frame = pl.DataFrame(rows, schema=ROW_SCHEMA) if rows else pl.DataFrame(schema=ROW_SCHEMA)
    result.steps = conform(frame)
    return result


ROW_SCHEMA = {
    "task_id": pl.String(), "span_id": pl.String(), "parent_span_id": pl.String(),
    "start_time": pl.Datetime("us", "UTC"), "duration_s": pl.Float64(), "kind": pl.String(),
    "name": pl.String(), "model": pl.String(), "provider": pl.String(),
    "input_tokens": pl.Int64(), "cache_read_tokens": pl.Int64(),
    "cache_write_5m_tokens": pl.Int64(), "cache_write_1h_tokens": pl.Int64(),
    "output_tokens": pl.Int64(), "reasoning_tokens": pl.Int64(), "tokens_estimated": pl.Boolean(),
    "tool_name": pl.String(), "tool_args": pl.String(), "reported_cost_usd": pl.Float64(),
    "user": pl.String(), "workflow": pl.String(), "session_id": pl.String(),
    "source_file": pl.String(), "source_line": pl.Int64(),
}


def _row(span: Span, kind: str, tokens: dict[str, int | None], source_file: str,
         task_key: str) -> dict[str, Any]:
    attributes = span.attributes
    is_call = kind in ("llm", "embedding")
    recorded = is_call and c.has_usage(tokens)

    def bucket(value: int | None) -> int | None:
        # An LLM span without usage has unknown tokens (null); a tool span has none at all.
        return (value or 0) if recorded else None

    model = c.first(attributes, c.MODEL) if is_call else None
    return {
        "task_id": task_of(span, task_key, source_file),
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "start_time": None if span.start_ns is None
        else datetime.fromtimestamp(span.start_ns // 1000 / 1_000_000, UTC),
        "duration_s": None if span.start_ns is None or span.end_ns is None
        else max(span.end_ns - span.start_ns, 0) / 1e9,
        "kind": kind,
        "name": span.name,
        "model": None if model is None else str(model),
        "provider": _text(c.first(attributes, c.PROVIDER)) if is_call else None,
        "input_tokens": bucket(tokens["input_tokens"]),
        "cache_read_tokens": bucket(tokens["cache_read_tokens"]),
        "cache_write_5m_tokens": bucket(tokens["cache_write_5m_tokens"]),
        "cache_write_1h_tokens": bucket(0),
        "output_tokens": bucket(tokens["output_tokens"]),
        "reasoning_tokens": bucket(0),
        "tokens_estimated": False,
        "tool_name": c.tool_name(span) if kind == "tool" else None,
        "tool_args": canonical_json(c.first(attributes, c.TOOL_ARGS)) if kind == "tool" else None,
        "reported_cost_usd": c.reported_cost(span) if is_call else None,
        "user": _text(c.first(attributes, c.USER)),
        "workflow": c.agent_name(span),
        "session_id": _text(c.first(attributes, c.SESSION)),
        "source_file": source_file,
        "source_line": span.source_line,
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
