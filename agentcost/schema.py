"""The canonical step table: the one shape every reader emits and everything downstream reads.

One row is one agent step. A step may be an LLM call, a tool call, or both at once (the native
JSONL format records "the model answered, then the tool it asked for ran" as one line); the token
columns and the tool columns are priced independently.

Token buckets never overlap, so that they add up to the bill:

    uncached input + cache read + cache write 5m + cache write 1h   = the whole prompt
    output (+ reasoning, where the provider bills reasoning apart from output)

Readers are responsible for turning each producer's own counting into these buckets (for example
subtracting cached tokens from an "input" that includes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

STEP_KINDS = ("llm", "tool", "agent", "embedding", "other")


@dataclass(frozen=True)
class Column:
    name: str
    # A polars dtype name, resolved lazily so that importing this module stays cheap.
    # Categorical for text that repeats (models, tools, labels, file names): a log of millions
    # of steps holds each such value once.
    dtype: str
    unit: str
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("task_id", "String", "-", "The task (one agent run) the step belongs to."),
    Column("step", "Int64", "1-based", "Step number within the task, in start-time order."),
    Column("span_id", "String", "-", "Span id of the step, where the producer records one."),
    Column("parent_span_id", "String", "-", "Span id of the enclosing span, where known."),
    Column("start_time", "Datetime", "UTC, microseconds", "When the step started."),
    Column("duration_s", "Float64", "seconds", "Wall time of the step; compute is priced on it."),
    Column("kind", "Categorical", "-", "One of llm, tool, agent, embedding, other."),
    Column("name", "Categorical", "-", "Step label (operation or agent name); routing matches it."),
    Column("model", "Categorical", "-", "Model name as the producer recorded it."),
    Column("provider", "Categorical", "-", "Model provider, where recorded."),
    Column("service_tier", "Categorical", "-", "Service tier the call ran on (batch, flex, "
           "priority...), where recorded; none means the default tier."),
    Column("input_tokens", "Int64", "tokens", "Prompt tokens not read from or written to cache."),
    Column("cache_read_tokens", "Int64", "tokens", "Prompt tokens read from the prompt cache."),
    Column("cache_write_5m_tokens", "Int64", "tokens",
           "Prompt tokens written to a 5-minute cache."),
    Column("cache_write_1h_tokens", "Int64", "tokens", "Prompt tokens written to a 1-hour cache."),
    Column("output_tokens", "Int64", "tokens", "Completion tokens, reasoning included where "
           "the provider bills reasoning as output."),
    Column("reasoning_tokens", "Int64", "tokens", "Reasoning tokens billed apart from output "
           "(never also counted in output_tokens)."),
    Column("tokens_estimated", "Boolean", "-", "True when token counts were estimated, not read."),
    Column("tool_name", "Categorical", "-", "Name of the tool the step called, if any."),
    Column("tool_args", "String", "canonical JSON", "Tool arguments, keys sorted, no spaces."),
    Column("reported_cost_usd", "Float64", "USD", "LLM cost the producer itself recorded."),
    Column("reported_tool_cost_usd", "Float64", "USD", "Tool cost the producer recorded."),
    Column("user", "Categorical", "-", "End user the task ran for."),
    Column("workflow", "Categorical", "-", "Workflow name; the agent's where the step records "
           "no workflow."),
    Column("agent", "Categorical", "-", "Agent name, where the step records one beside (or "
           "instead of) its workflow."),
    Column("session_id", "String", "-", "Session or conversation id."),
    Column("project", "Categorical", "-", "Project the step worked in: a coding agent's "
           "working directory."),
    Column("git_branch", "Categorical", "-", "Git branch checked out, where recorded."),
    Column("source_file", "Categorical", "-", "File the step was read from ('-' for stdin)."),
    Column("source_line", "Int64", "1-based", "Line of source_file the step was read from."),
)

TOKEN_COLUMNS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)

COLUMN_NAMES = tuple(column.name for column in COLUMNS)
# Producers write counts as JSON numbers, read as floats: past 2**53 a float no longer holds
# every whole number, and no call is that big. A larger count is bad data.
MAX_TOKEN_COUNT = 2.0**53
# A cost in dollars, or a duration in seconds or milliseconds, this large is bad data, and
# past what exact money sums hold.
MAX_AMOUNT = 1e12
REPORTED_COSTS = frozenset({"reported_cost_usd", "reported_tool_cost_usd"})


def polars_schema() -> pl.Schema:
    """The canonical schema as polars dtypes."""
    import polars as pl

    def resolve(dtype: str) -> pl.DataType:
        if dtype == "Datetime":
            return pl.Datetime("us", "UTC")
        resolved: pl.DataType = getattr(pl, dtype)()
        return resolved

    return pl.Schema({column.name: resolve(column.dtype) for column in COLUMNS})


def canonical_expressions(by_name: dict[str, pl.Expr], *, only_present: bool = False
                          ) -> list[pl.Expr]:
    """Expressions giving the canonical columns, in order, with canonical dtypes, from
    `by_name` (column name -> expression). Columns it has no expression for are null (unknown),
    never zero; `only_present` leaves them out instead."""
    import polars as pl

    def bounded(name: str, expr: pl.Expr) -> pl.Expr:
        # A producer's cost past what money sums hold (a span attribute no reader bounds)
        # is not known: null, as a cost not reported. Readers that account lines skip it.
        if name in REPORTED_COSTS:
            return pl.when(expr.cast(pl.Float64) < MAX_AMOUNT).then(expr)
        return expr

    return [bounded(name, by_name[name]).cast(dtype).alias(name) if name in by_name
            else pl.lit(None, dtype).alias(name)
            for name, dtype in polars_schema().items() if name in by_name or not only_present]


def conform(frame: pl.DataFrame, *, only_present: bool = False) -> pl.DataFrame:
    """Give a reader's output exactly the canonical columns, in order, with canonical dtypes.

    Columns a reader has no source for are null (unknown), never zero. `only_present` keeps
    just the canonical columns the frame has (for intermediate batches: a column of nulls
    still costs memory per row).
    """
    import polars as pl

    if not frame.columns:
        return pl.DataFrame(schema=polars_schema())
    return frame.select(canonical_expressions({name: pl.col(name) for name in frame.columns},
                                              only_present=only_present))
