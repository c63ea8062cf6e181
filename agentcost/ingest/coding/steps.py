"""Canonical steps from the requests and tool calls a coding agent's log records.

A coding agent's task is one user prompt and everything the agent did for it, sub-agents
included: its id is the session's id and the prompt's number in the session ("<session>/3").
Asked for sessions (`--task-key session`), the task is the session. Token counts a log does
not give are None, unknown, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


@dataclass
class Where:
    """What a request or a tool call belongs to and where it was read."""

    session_id: str
    prompt: int  # 1-based number of the user prompt it serves, in its session
    source_line: int
    start_time: datetime | None = None
    project: str | None = None  # the working directory
    git_branch: str | None = None
    name: str | None = None  # the sub-agent's type for a sub-agent's steps, else the agent's


@dataclass
class Request:
    """One billed model request, its buckets not overlapping (schema.py): `input_tokens`
    uncached, `output_tokens` with reasoning billed as output, `reasoning_tokens` only for
    reasoning billed apart from it."""

    where: Where
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None = 0
    cache_write_5m_tokens: int | None = 0
    cache_write_1h_tokens: int | None = 0
    reasoning_tokens: int | None = 0
    request_id: str | None = None
    service_tier: str | None = None
    reported_cost_usd: float | None = None  # the producer's own, where it records one


@dataclass
class ToolCall:
    where: Where
    tool_name: str
    tool_args: str | None = None  # the call's input, as JSON text
    call_id: str | None = None


TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
          "output_tokens", "reasoning_tokens")
WHERE = tuple(field.name for field in fields(Where))


def task_of(where: Where, task_key: str) -> str:
    return where.session_id if task_key == "session" else f"{where.session_id}/{where.prompt}"


def steps_frame(requests: list[Request], calls: list[ToolCall], *, agent: str,
                source_file: str, task_key: str) -> pl.DataFrame:
    """The canonical steps of one log: a row per request (kind llm) and per tool call (kind
    tool), in the order they were read. `agent` names the coding agent (the workflow column,
    which `--by agent` groups by)."""
    import polars as pl

    from agentcost.schema import conform

    rows: list[tuple[int, dict[str, object]]] = []
    for request in requests:
        row = _where(request.where, task_key)
        row.update(kind="llm", model=request.model, span_id=request.request_id,
                   service_tier=request.service_tier,
                   reported_cost_usd=request.reported_cost_usd,
                   **{name: getattr(request, name) for name in TOKENS})
        rows.append((request.where.source_line, row))
    for call in calls:
        row = _where(call.where, task_key)
        row.update(kind="tool", tool_name=call.tool_name, tool_args=call.tool_args,
                   span_id=call.call_id)
        rows.append((call.where.source_line, row))
    if not rows:
        return conform(pl.DataFrame())
    rows.sort(key=lambda item: item[0])
    schema = _schema()
    columns: dict[str, list[object]] = {name: [] for name in schema}
    for _, row in rows:
        row.update(workflow=agent, source_file=source_file)
        for name, values in columns.items():
            values.append(row.get(name))
    return conform(pl.DataFrame(columns, schema=schema))


def _where(where: Where, task_key: str) -> dict[str, object]:
    return {"task_id": task_of(where, task_key), "session_id": where.session_id,
            "start_time": where.start_time, "project": where.project,
            "git_branch": where.git_branch, "name": where.name,
            "source_line": where.source_line}


def _schema() -> dict[str, pl.DataType]:
    import polars as pl

    text = pl.String()
    return {"task_id": text, "session_id": text, "start_time": pl.Datetime("us", "UTC"),
            "project": text, "git_branch": text, "name": text, "source_line": pl.Int64(),
            "kind": text, "model": text, "span_id": text, "service_tier": text,
            "reported_cost_usd": pl.Float64(),
            **{name: pl.Int64() for name in TOKENS},
            "tool_name": text, "tool_args": text, "workflow": text, "source_file": text}
