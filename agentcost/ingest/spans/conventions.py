"""Attribute conventions: which span attribute means what, in priority order (first present wins,
one alias per concept, so a span carrying two conventions is never counted twice).

OTel GenAI semantic conventions (current and deprecated names), OpenInference, OpenLLMetry /
Traceloop, Vercel AI SDK, pydantic-ai, and Langfuse's usage details. Source of the names:
../shared/reference/trace-formats.md section 2.
"""

from __future__ import annotations

from typing import Any

from agentcost.ingest.spans.model import Span

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
LANGFUSE_CACHE_READ = ("langfuse.usage.prompt_details.cache_read",
                       "langfuse.usage.input_cached_tokens",
                       "langfuse.usage.cache_read_input_tokens", "langfuse.usage.input_cache_read")
LANGFUSE_CACHE_WRITE = ("langfuse.usage.prompt_details.cache_write",
                        "langfuse.usage.cache_creation_input_tokens",
                        "langfuse.usage.input_cache_creation")
REPORTED_COST = ("llm.cost.total", "gen_ai.usage.cost", "operation.cost", "langfuse.cost.total")
SESSION = ("gen_ai.conversation.id", "session.id", "traceloop.association.properties.session_id",
           "langfuse.session.id")
USER = ("user.id", "gen_ai.user", "langfuse.user.id")
AGENT = ("gen_ai.agent.name", "agent.name")
TOOL_NAME = ("gen_ai.tool.name", "tool.name", "ai.toolCall.name")
TOOL_ARGS = ("gen_ai.tool.call.arguments", "tool.parameters", "ai.toolCall.args")

LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "generate",
                            "completion"})
AGENT_OPERATIONS = frozenset({"invoke_agent", "create_agent"})
LANGFUSE_KINDS = {"GENERATION": "llm", "EMBEDDING": "embedding", "TOOL": "tool",
                  "AGENT": "agent"}
OPENINFERENCE_KINDS = {"LLM": "llm", "EMBEDDING": "embedding", "TOOL": "tool", "AGENT": "agent"}
VERCEL_CALL_SUFFIXES = {".doGenerate": "llm", ".doStream": "llm", ".doEmbed": "embedding"}


def first(attributes: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = attributes.get(name)
        if value is not None and value != "":
            return value
    return None


def count(attributes: dict[str, Any], names: tuple[str, ...]) -> int | None:
    value = first(attributes, names)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number >= 0 and number == int(number) else None


def step_kind(span: Span) -> str:
    """llm, embedding, tool, agent or other: the first convention that says wins."""
    attributes = span.attributes
    if span.container_kind:
        return LANGFUSE_KINDS.get(span.container_kind.upper(), "other")
    operation = attributes.get("gen_ai.operation.name")
    if operation in LLM_OPERATIONS:
        return "llm"
    if operation == "embeddings":
        return "embedding"
    if operation == "execute_tool":
        return "tool"
    if operation in AGENT_OPERATIONS:
        return "agent"
    openinference = str(attributes.get("openinference.span.kind") or "").upper()
    if openinference:
        return OPENINFERENCE_KINDS.get(openinference, "other")
    if attributes.get("llm.request.type") in ("chat", "completion"):
        return "llm"
    traceloop = attributes.get("traceloop.span.kind")
    if traceloop in ("tool", "agent"):
        return str(traceloop)
    name = span.name or ""
    if name.startswith("ai."):
        # Vercel AI SDK: only the provider call (do*) is a model call; ai.generateText and
        # friends repeat its usage, and they have no parent ids to tell by nesting.
        for suffix, kind in VERCEL_CALL_SUFFIXES.items():
            if name.endswith(suffix):
                return kind
        return "tool" if name == "ai.toolCall" else "other"
    if first(attributes, TOOL_NAME) is not None:
        return "tool"
    if first(attributes, INPUT) is not None or first(attributes, OUTPUT) is not None:
        return "llm"
    return "other"


def usage(span: Span) -> dict[str, int | None]:
    """Token buckets that do not overlap. Every convention here except Langfuse counts cached
    tokens inside "input"; an input smaller than its cache counts cannot, and is taken as
    already uncached."""
    attributes = span.attributes
    if any(key.startswith("langfuse.usage.") for key in attributes):
        return {
            "input_tokens": count(attributes, LANGFUSE_INPUT),
            "cache_read_tokens": count(attributes, LANGFUSE_CACHE_READ) or 0,
            "cache_write_5m_tokens": count(attributes, LANGFUSE_CACHE_WRITE) or 0,
            "output_tokens": count(attributes, LANGFUSE_OUTPUT),
            "input_includes_cache": 0,
        }
    prompt = count(attributes, INPUT)
    cache_read = count(attributes, CACHE_READ) or 0
    cache_write = count(attributes, CACHE_WRITE) or 0
    uncached = prompt
    if prompt is not None and prompt >= cache_read + cache_write:
        uncached = prompt - cache_read - cache_write
    return {
        "input_tokens": uncached,
        "cache_read_tokens": cache_read,
        "cache_write_5m_tokens": cache_write,
        "output_tokens": count(attributes, OUTPUT),
        "input_includes_cache": 1,
    }


def has_usage(tokens: dict[str, int | None]) -> bool:
    return tokens["input_tokens"] is not None or tokens["output_tokens"] is not None


def tool_name(span: Span) -> str | None:
    name = first(span.attributes, TOOL_NAME)
    if name is None and span.name:
        name = span.name.removeprefix("running tool: ").removeprefix("execute_tool ")
    return None if name is None else str(name)


def agent_name(span: Span) -> str | None:
    name = first(span.attributes, AGENT)
    if name is None and span.name and span.name.startswith("invoke_agent "):
        name = span.name.removeprefix("invoke_agent ")
    return None if name is None else str(name)


def reported_cost(span: Span) -> float | None:
    value = first(span.attributes, REPORTED_COST)
    if value is None:
        parts = [span.attributes.get("gen_ai.usage.input_cost"),
                 span.attributes.get("gen_ai.usage.output_cost")]
        if all(part is None for part in parts):
            return None
        value = sum(float(part or 0) for part in parts)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
