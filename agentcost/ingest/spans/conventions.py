"""Attribute conventions: which span attribute means what, in priority order (first present wins,
one alias per concept, so a span carrying two conventions is never counted twice).

OTel GenAI semantic conventions (current and deprecated names), OpenInference, OpenLLMetry /
Traceloop, Vercel AI SDK, pydantic-ai, and Langfuse's usage details, as each project's own
specification and instrumentation write them.
"""

from __future__ import annotations

import json
from collections.abc import Collection

import polars as pl

from agentcost.schema import MAX_TOKEN_COUNT

MODEL = ("langfuse.model", "gen_ai.response.model", "llm.response.model_name", "llm.model_name",
         "ai.response.model", "ai.model.id", "gen_ai.request.model", "llm.request.model_name",
         "model", "langsmith.metadata.ls_model_name")
PROVIDER = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system",
            "ai.model.provider")
INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt",
         "ai.usage.inputTokens", "ai.usage.promptTokens", "ai.usage.tokens")
OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
          "llm.token_count.completion", "ai.usage.outputTokens", "ai.usage.completionTokens")
CACHE_READ = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
              "llm.token_count.prompt_details.cache_read", "ai.usage.cachedInputTokens",
              "gen_ai.usage.details.cache_read_tokens")
CACHE_WRITE = ("gen_ai.usage.cache_creation.input_tokens",
               "gen_ai.usage.cache_creation_input_tokens",
               "llm.token_count.prompt_details.cache_write")
# Langfuse usage details: `input` already has cached tokens taken out.
LANGFUSE_INPUT = ("langfuse.usage.input",)
LANGFUSE_OUTPUT = ("langfuse.usage.output",)
LANGFUSE_CACHE_READ = ("langfuse.usage.cache_read",)
LANGFUSE_CACHE_WRITE = ("langfuse.usage.cache_write",)
# Each token bucket's names: the conventions', then Langfuse's own.
USAGE_NAMES = {
    "input_tokens": (INPUT, LANGFUSE_INPUT),
    "cache_read_tokens": (CACHE_READ, LANGFUSE_CACHE_READ),
    "cache_write_5m_tokens": (CACHE_WRITE, LANGFUSE_CACHE_WRITE),
    "output_tokens": (OUTPUT, LANGFUSE_OUTPUT),
}
REPORTED_COST = ("llm.cost.total", "gen_ai.usage.cost", "operation.cost", "langfuse.cost.total")
SESSION = ("gen_ai.conversation.id", "session.id", "traceloop.association.properties.session_id",
           "langfuse.session.id")
USER = ("user.id", "gen_ai.user", "langfuse.user.id")
AGENT = ("gen_ai.agent.name", "agent.name")
TOOL_NAME = ("gen_ai.tool.name", "tool.name", "ai.toolCall.name")
# Tool arguments: OTel GenAI, Google ADK, the Vercel AI SDK, pydantic-ai (before its
# instrumentation version 3), OpenLLMetry's entity input (wrapped: `unwrap_openllmetry`), a
# Langfuse observation's `input`, OpenInference's `input.value` (in CONTENT too: on an LLM span it
# is the prompt) and `tool.parameters` (by its spec and in most instrumentations the tool's JSON
# schema, the same for every call). `tool_arguments` reads them in this order, on tool spans only.
GENAI_TOOL_ARGS = "gen_ai.tool.call.arguments"
ADK_TOOL_ARGS = "gcp.vertex.agent.tool_call_args"
ADK_TOOL_RESPONSE = "gcp.vertex.agent.tool_response"
VERCEL_TOOL_ARGS = "ai.toolCall.args"
PYDANTIC_AI_TOOL_ARGS = "tool_arguments"
OPENLLMETRY_INPUT = "traceloop.entity.input"
LANGFUSE_TOOL_INPUT = "langfuse.tool.input"
OPENINFERENCE_INPUT = "input.value"
OPENINFERENCE_TOOL_PARAMETERS = "tool.parameters"
OPENINFERENCE_REDACTED = "__REDACTED__"  # what OpenInference's hide_inputs writes instead
# The keys only tool arguments need: kept only when the tool_args column is wanted.
TOOL_ARGS = (GENAI_TOOL_ARGS, ADK_TOOL_ARGS, ADK_TOOL_RESPONSE, VERCEL_TOOL_ARGS,
             PYDANTIC_AI_TOOL_ARGS, OPENLLMETRY_INPUT, LANGFUSE_TOOL_INPUT,
             OPENINFERENCE_TOOL_PARAMETERS)

LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "generate",
                            "completion"})
AGENT_OPERATIONS = frozenset({"invoke_agent", "create_agent"})
LANGFUSE_KINDS = {"GENERATION": "llm", "EMBEDDING": "embedding", "TOOL": "tool",
                  "AGENT": "agent"}
OPENINFERENCE_KINDS = {"LLM": "llm", "EMBEDDING": "embedding", "TOOL": "tool", "AGENT": "agent"}
VERCEL_CALL_SUFFIXES = {".doGenerate": "llm", ".doStream": "llm", ".doEmbed": "embedding"}


SERVICE_TIER = ("openai.response.service_tier", "openai.request.service_tier",
                "gen_ai.openai.response.service_tier", "gen_ai.openai.request.service_tier")
KIND_KEYS = ("gen_ai.operation.name", "openinference.span.kind", "llm.request.type",
             "traceloop.span.kind")
SPLIT_COST = ("gen_ai.usage.input_cost", "gen_ai.usage.output_cost")
CONTENT = ("gen_ai.input.messages", "gen_ai.prompt", "input.value", "ai.prompt.messages",
           "ai.prompt", "langfuse.input", "gen_ai.output.messages", "gen_ai.completion",
           "output.value", "ai.response.text", "langfuse.output")
ALL_ATTRIBUTE_KEYS = frozenset({
    *CONTENT, *SERVICE_TIER, *MODEL, *PROVIDER, *INPUT, *OUTPUT, *CACHE_READ, *CACHE_WRITE,
    *LANGFUSE_INPUT, *LANGFUSE_OUTPUT, *LANGFUSE_CACHE_READ, *LANGFUSE_CACHE_WRITE,
    *REPORTED_COST, *SESSION, *USER, *AGENT, *TOOL_NAME, *TOOL_ARGS, *KIND_KEYS, *SPLIT_COST,
})


def first(present: Collection[str], names: tuple[str, ...]) -> pl.Expr:
    """The first of `names` a span has (text), or null. Absent columns are skipped."""
    columns = [pl.col(name) for name in names if name in present]
    if not columns:
        return pl.lit(None, pl.String())
    texts = [column.replace("", None) for column in columns]
    return pl.coalesce(texts) if len(texts) > 1 else texts[0]


def number(present: Collection[str], names: tuple[str, ...]) -> pl.Expr:
    """The first of `names` a span has, as a number (null if absent or not a number)."""
    return first(present, names).cast(pl.Float64, strict=False)


def step_kind(present: Collection[str]) -> pl.Expr:
    """llm, embedding, tool, agent or other: the first convention that says wins."""
    container = pl.col("container_kind").str.to_uppercase()
    operation = first(present, ("gen_ai.operation.name",))
    openinference = first(present, ("openinference.span.kind",)).str.to_uppercase()
    request_type = first(present, ("llm.request.type",))
    traceloop = first(present, ("traceloop.span.kind",))
    name = pl.col("name").fill_null("")
    vercel = (
        pl.when(name.str.ends_with(".doGenerate") | name.str.ends_with(".doStream"))
        .then(pl.lit("llm"))
        .when(name.str.ends_with(".doEmbed")).then(pl.lit("embedding"))
        .when(name == "ai.toolCall").then(pl.lit("tool"))
        # ai.generateText and friends repeat their do* child's usage, with no parent ids
        .otherwise(pl.lit("other"))
    )
    has_tokens = (first(present, INPUT).is_not_null() | first(present, OUTPUT).is_not_null())
    by_attributes = (
        pl.when(operation.is_in(list(LLM_OPERATIONS))).then(pl.lit("llm"))
        .when(operation == "embeddings").then(pl.lit("embedding"))
        .when(operation == "execute_tool").then(pl.lit("tool"))
        .when(operation.is_in(list(AGENT_OPERATIONS))).then(pl.lit("agent"))
        .when(openinference.is_not_null())
        .then(openinference.replace_strict(OPENINFERENCE_KINDS, default="other",
                                           return_dtype=pl.String))
        .when(request_type.is_in(["chat", "completion"])).then(pl.lit("llm"))
        .when(traceloop.is_in(["tool", "agent"])).then(traceloop)
        .when(name.str.starts_with("ai.")).then(vercel)
        .when(first(present, TOOL_NAME).is_not_null()).then(pl.lit("tool"))
        .when(has_tokens).then(pl.lit("llm"))
        .otherwise(pl.lit("other"))
    )
    # A Langfuse observation's type says what it is; but exports from before Langfuse had a
    # TOOL type give tool calls the type SPAN: their attributes tell.
    return (
        pl.when(container.is_null()).then(by_attributes)
        .when((container == "SPAN") & (by_attributes == "tool")).then(pl.lit("tool"))
        .otherwise(container.replace_strict(LANGFUSE_KINDS, default="other",
                                            return_dtype=pl.String))
    )


def usage_numbers(present: Collection[str]) -> dict[str, pl.Expr]:
    """Per token bucket, what the span records, as a float: by Langfuse's names for a Langfuse
    observation, by the conventions' names otherwise (where "input" includes cached tokens;
    see `uncached_input`). Null where not recorded, -1 where recorded but not a number.
    Materialise these once: `recorded_count` and `unreadable_usage` both read them."""
    langfuse = pl.col("container_kind").is_not_null()

    def as_number(names: tuple[str, ...]) -> pl.Expr:
        text = first(present, names)
        return pl.when(text.is_not_null()).then(
            text.cast(pl.Float64, strict=False).fill_null(-1.0))

    return {bucket: pl.when(langfuse).then(as_number(own)).otherwise(as_number(generic))
            for bucket, (generic, own) in USAGE_NAMES.items()}


def _usable(value: pl.Expr) -> pl.Expr:
    return (value >= 0) & (value == value.floor()) & (value < MAX_TOKEN_COUNT)


def recorded_count(value: pl.Expr) -> pl.Expr:
    """A token count: a whole number, zero or more, below MAX_TOKEN_COUNT; anything else is
    null (not recorded)."""
    return pl.when(_usable(value)).then(value).cast(pl.Int64)


def uncached_input(prompt: pl.Expr, cache_read: pl.Expr, cache_write: pl.Expr) -> pl.Expr:
    """The input bucket without cached tokens, so that buckets do not overlap. An input
    smaller than its cache counts cannot include them, and is taken as already uncached;
    Langfuse's `input` has cached tokens taken out already."""
    langfuse = pl.col("container_kind").is_not_null()
    cached = cache_read + cache_write
    return pl.when(~langfuse & (prompt >= cached)).then(prompt - cached).otherwise(prompt)


def unreadable_usage(values: list[pl.Expr]) -> pl.Expr:
    """A token attribute is there but is not a whole number zero or more (text, negative,
    fractional, too large): the span's usage is unknown, not zero."""
    return pl.any_horizontal(value.is_not_null() & ~_usable(value)
                             for value in values).fill_null(False)


def tool_arguments(present: Collection[str]) -> pl.Expr:
    """A tool span's arguments as text, from the first convention that records them (read on
    tool spans only: `input.value` is the prompt on an LLM span). Values that stand for
    arguments not recorded are passed over: ADK's "N/A", and its "{}" beside a "{}" response
    (content capture off); OpenInference's redacted input; a `tool.parameters` that is a JSON
    schema (an object of type "object" with "properties"), which would make every call of a
    tool look the same."""
    adk = first(present, (ADK_TOOL_ARGS,))
    adk_withheld = ((adk == "N/A")
                    | ((adk == "{}") & (first(present, (ADK_TOOL_RESPONSE,)) == "{}")))
    openinference = first(present, (OPENINFERENCE_INPUT,))
    parameters = first(present, (OPENINFERENCE_TOOL_PARAMETERS,))
    schema = ((parameters.str.json_path_match("$.type") == "object")
              & parameters.str.json_path_match("$.properties").is_not_null())
    return pl.coalesce(
        first(present, (GENAI_TOOL_ARGS,)),
        pl.when(~adk_withheld.fill_null(False)).then(adk),
        first(present, (VERCEL_TOOL_ARGS, PYDANTIC_AI_TOOL_ARGS, OPENLLMETRY_INPUT,
                        LANGFUSE_TOOL_INPUT)),
        pl.when(openinference != OPENINFERENCE_REDACTED).then(openinference),
        pl.when(~schema.fill_null(False)).then(parameters),
    )


# OpenLLMetry wraps what a tool was called with: its @tool decorator as {"args": [...],
# "kwargs": {...}}, its LangChain instrumentation as the callback's whole input (in both its
# entity input and `gen_ai.tool.call.arguments`), where `inputs` are the arguments.
_DECORATOR_KEYS = frozenset({"args", "kwargs"})
_LANGCHAIN_KEYS = frozenset({"input_str", "tags", "metadata", "inputs", "kwargs"})


def unwrap_openllmetry(text: str) -> str:
    """The arguments in one of OpenLLMetry's wrappers, as JSON text; other text unchanged.
    Positional arguments alone are a list, keyword arguments alone an object; both stay
    wrapped."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not isinstance(value, dict):
        return text
    if value.keys() == _DECORATOR_KEYS:
        args, kwargs = value["args"], value["kwargs"]
        if args and kwargs:
            return text
        value = args if args else kwargs
    elif value.keys() == _LANGCHAIN_KEYS:
        value = value["inputs"] if value["inputs"] is not None else value["input_str"]
    else:
        return text
    return json.dumps(value, ensure_ascii=False)


def tool_name(present: Collection[str]) -> pl.Expr:
    name = pl.col("name").str.strip_prefix("running tool: ").str.strip_prefix("execute_tool ")
    return pl.coalesce(first(present, TOOL_NAME), name)


def agent_name(present: Collection[str]) -> pl.Expr:
    from_name = pl.when(pl.col("name").str.starts_with("invoke_agent ")).then(
        pl.col("name").str.strip_prefix("invoke_agent "))
    return pl.coalesce(first(present, AGENT), from_name)


def reported_cost(present: Collection[str]) -> pl.Expr:
    split = [number(present, (key,)) for key in SPLIT_COST if key in present]
    parts = (
        pl.when(pl.any_horizontal(part.is_not_null() for part in split))
        .then(pl.sum_horizontal(split)) if split else pl.lit(None, pl.Float64())
    )
    return pl.coalesce(number(present, REPORTED_COST), parts)
