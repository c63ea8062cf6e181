"""Claude Code session logs (`~/.claude/projects/<project>/<session>.jsonl`, and its
sub-agents' files): one billed request per API response, a task per user prompt.

Each file's lines are read here (coding/claude_lines.py); the steps are made once every file
of the run is read (coding/claude_steps.py), as a response may be logged again in another
file (a resumed session, a sub-agent's replay) and a sub-agent's file belongs to a prompt in
its session's file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

NAME = "claude-code"
# Record types Claude Code writes that are no billed call (metadata, hooks, snapshots, titles).
NO_CALL_TYPES = frozenset({
    "summary", "system", "progress", "file-history-snapshot", "queue-operation", "attachment",
    "permission-mode", "mode", "agent-name", "custom-title", "ai-title", "last-prompt",
    "frame-link", "pr-link", "started", "result", "relocated", "worktree-state",
    "bridge-session", "atis-latch",
})
# Every record type it writes, and keys only its records have together with them.
RECORD_TYPES = NO_CALL_TYPES | {"user", "assistant"}
RECORD_KEYS = frozenset({"sessionId", "uuid", "parentUuid", "leafUuid", "messageId",
                         "snapshot", "requestId"})
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)


def recognises(head: Head) -> bool:
    return _evidence(head) is not None


def _evidence(head: Head) -> str | None:
    record = head.record if head.json_lines else None
    if record is None or set(record) & TASK_ID_NAMES:
        return None
    message: Any = record.get("message")
    if isinstance(message, dict) and ("parts" in message or "usageMetadata" in record):
        return None  # Gemini-shaped messages: Qwen Code writes records much like these
    if "systemPayload" in record:
        return None
    kind = record.get("type")
    if kind is not None and not isinstance(kind, str):  # a list, a number: not a record type
        return None
    keys = set(record) & RECORD_KEYS
    if kind in RECORD_TYPES and (keys or isinstance(message, dict)):
        return f"a {kind!r} record with {', '.join(sorted(keys)) or 'a message'}"
    if kind is None and isinstance(message, dict) and keys & {"sessionId", "requestId"}:
        return "an assistant message with its usage (an early Claude Code log)"
    return None


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.coding.claude_lines import ParseOptions
    from agentcost.ingest.coding.claude_steps import ClaudeRun

    columns = context.columns
    options = ParseOptions(
        context.max_line_bytes,
        tool_args=columns is None or "tool_args" in columns,
        agent_types=columns is None or "name" in columns,
        places=columns is None or bool({"project", "git_branch"} & columns))
    run = context.finish_later(NAME, lambda: ClaudeRun(context.task_key, options,
                                                         context.run_jobs))
    if context.plain_file is not None:  # parsed with the others, once all are known
        run.defer(context.display, context.plain_file,
                  context.plain_size if context.plain_size is not None
                  else context.plain_file.stat().st_size)
    else:
        run.read_now(stream, context.display, context.accounting)
    return []


READER = Reader(NAME, "Claude Code session log", recognises, read,
                evidence=lambda head: _evidence(head) or "")
