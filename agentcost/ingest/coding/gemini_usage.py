"""Gemini-shaped usage (Gemini CLI's `tokens`, Qwen Code's `usageMetadata`) in buckets that do
not overlap.

The prompt count includes the cached tokens; tool-use prompt tokens are prompt-side input
apart from it; thinking tokens are billed as output but are not part of the output count, so
they go to reasoning (priced at the output price unless the table lists a reasoning price).
Where the total is recorded it tells whether a producer put the thinking tokens inside the
output count after all (OpenAI-compatible backends do): then they are not added again."""

from __future__ import annotations

from dataclasses import dataclass

from agentcost.ingest.coding.values import BadRecord


@dataclass(frozen=True)
class Buckets:
    input_tokens: int  # uncached prompt, tool-use prompt included
    cache_read_tokens: int
    output_tokens: int
    reasoning_tokens: int | None  # None: thinking tokens billed but not recorded
    # How the thinking tokens were told apart, for a note; None when there were none to tell.
    thoughts_inside_output: bool | None = None


def buckets(*, prompt: int, cached: int | None, output: int, thoughts: int | None,
            tool: int | None, total: int | None) -> Buckets:
    """`prompt` includes `cached`; `total`, where recorded, is prompt + output + thoughts +
    tool (or prompt + output + tool when the output count holds the thinking tokens)."""
    cached, tool = cached or 0, tool or 0
    if cached > prompt:
        raise BadRecord(f"cached tokens ({cached:,}) exceed the prompt tokens ({prompt:,}) "
                        "that include them")
    uncached = prompt - cached + tool
    if thoughts is None:
        derived = None if total is None else total - prompt - output - tool
        return Buckets(uncached, cached, output, derived if derived is not None and derived >= 0
                       else None)
    inside = thoughts > 0 and total == prompt + output + tool
    return Buckets(uncached, cached, output, 0 if inside else thoughts,
                   thoughts_inside_output=inside if thoughts > 0 else None)
