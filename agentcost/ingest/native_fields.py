"""The native JSONL format: field names a user may write, and what each one means.

One JSON object per line, one agent step per object. Every field is optional except a task id.
For each concept the first alias present on a line wins; the order below is that priority.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["text", "count", "number", "time", "json"]


@dataclass(frozen=True)
class NativeField:
    concept: str
    aliases: tuple[str, ...]
    kind: FieldKind
    doc: str


NATIVE_FIELDS: tuple[NativeField, ...] = (
    NativeField("task_id", ("task_id", "task", "run_id", "trace_id"), "text",
                "Required. The task (agent run) this step belongs to; numbers are read as text."),
    NativeField("step", ("step_number", "step"), "count",
                "1-based step number within the task. When absent, steps are numbered by "
                "start time, then by order in the file."),
    NativeField("span_id", ("span_id", "step_id"), "text",
                "Id of this step (its span): a step read twice is told by its task and id."),
    NativeField("parent_span_id", ("parent_span_id", "parent_id"), "text",
                "Id of the enclosing span."),
    NativeField("start_time", ("timestamp", "start_time", "time", "ts"), "time",
                "When the step started: ISO 8601 (a time without an offset is UTC) or a number "
                "of seconds since the epoch (milli-, micro- and nanoseconds are recognised by "
                "magnitude)."),
    NativeField("duration_s", ("duration_s", "compute_time_seconds", "duration_seconds",
                               "latency_s"), "number",
                "Wall time of the step in seconds; compute is priced per second of it."),
    NativeField("duration_ms", ("duration_ms", "latency_ms"), "number",
                "Wall time in milliseconds, used when no seconds field is given."),
    NativeField("kind", ("kind", "step_type"), "text",
                "llm, tool, agent, embedding or other. When absent: llm if the step has a "
                "model or tokens, tool if it has only a tool, other otherwise."),
    NativeField("name", ("step_name", "name", "operation", "label"), "text",
                "Step label, what `simulate --route` matches on."),
    NativeField("model", ("model", "model_name"), "text", "Model that served the LLM call."),
    NativeField("provider", ("provider",), "text", "Model provider, e.g. openai."),
    NativeField("service_tier", ("service_tier",), "text",
                "Service tier of the call: batch, flex, priority... (priced from the table's "
                "service_tiers; absent, default, auto or standard mean the default tier)."),
    NativeField("prompt_tokens", ("llm_input_tokens", "input_tokens", "prompt_tokens"), "count",
                "All prompt tokens, cache reads and writes included (OpenAI and OTel GenAI "
                "semantics). If this is smaller than the cache fields together, it is taken to "
                "exclude them (Anthropic semantics) and the report notes it."),
    NativeField("uncached_input_tokens", ("uncached_input_tokens",), "count",
                "Prompt tokens neither read from nor written to cache; when given, no "
                "subtraction is made."),
    NativeField("cache_read_tokens", ("cache_read_tokens", "cached_input_tokens",
                                      "cache_read_input_tokens"), "count",
                "Prompt tokens read from cache."),
    NativeField("cache_write_5m_tokens", ("cache_write_tokens", "cache_write_5m_tokens",
                                          "cache_creation_input_tokens"), "count",
                "Prompt tokens written to cache (5-minute cache unless stated)."),
    NativeField("cache_write_1h_tokens", ("cache_write_1h_tokens",), "count",
                "Prompt tokens written to a 1-hour cache."),
    NativeField("output_tokens", ("llm_output_tokens", "output_tokens", "completion_tokens"),
                "count", "Completion tokens."),
    NativeField("reasoning_tokens", ("reasoning_tokens",), "count",
                "Reasoning tokens billed apart from output_tokens (NOT included in them). "
                "Leave it out when your output count already includes reasoning."),
    NativeField("tool_name", ("tool_name", "tool"), "text",
                "Tool the step called; priced per call from the price table."),
    NativeField("tool_args", ("tool_args", "tool_input", "arguments"), "json",
                "Tool arguments (any JSON); stored as canonical JSON for cache simulation."),
    NativeField("reported_cost_usd", ("llm_cost_usd", "cost_usd"), "number",
                "LLM cost the producer computed; kept for comparison, never used silently."),
    NativeField("reported_tool_cost_usd", ("tool_cost_usd",), "number",
                "Tool cost the producer computed; kept for comparison."),
    NativeField("user", ("user", "user_id"), "text", "End user the task ran for."),
    NativeField("workflow", ("workflow",), "text",
                "Workflow name (--by workflow); without it, the agent name stands for it."),
    NativeField("agent", ("agent", "agent_name"), "text",
                "Agent name (--by agent), where a workflow runs several agents."),
    NativeField("session_id", ("session_id", "conversation_id"), "text",
                "Session or conversation id."),
)

FIELDS_BY_CONCEPT = {field.concept: field for field in NATIVE_FIELDS}
KNOWN_KEYS = frozenset(alias for field in NATIVE_FIELDS for alias in field.aliases)

# Which canonical columns need which concepts (a command reads only what it uses).
CONCEPTS_FOR_COLUMN: dict[str, tuple[str, ...]] = {
    "task_id": ("task_id",),
    "step": ("step",),
    "span_id": ("span_id",),
    "parent_span_id": ("parent_span_id",),
    "start_time": ("start_time",),
    "duration_s": ("duration_s", "duration_ms"),
    "kind": ("kind",),
    "name": ("name",),
    "model": ("model",),
    "provider": ("provider",),
    "service_tier": ("service_tier",),
    "input_tokens": ("prompt_tokens", "uncached_input_tokens"),
    "cache_read_tokens": ("cache_read_tokens",),
    "cache_write_5m_tokens": ("cache_write_5m_tokens",),
    "cache_write_1h_tokens": ("cache_write_1h_tokens",),
    "output_tokens": ("output_tokens",),
    "reasoning_tokens": ("reasoning_tokens",),
    "tool_name": ("tool_name",),
    "tool_args": ("tool_args",),
    "reported_cost_usd": ("reported_cost_usd",),
    "reported_tool_cost_usd": ("reported_tool_cost_usd",),
    "user": ("user",),
    "workflow": ("workflow", "agent"),
    "agent": ("agent",),
    "session_id": ("session_id",),
}
