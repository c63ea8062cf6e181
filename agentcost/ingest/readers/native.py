"""agentcost JSONL: one agent step per line, fields named as any of the common producers name
them. The format of last resort: what no other reader recognises is read as this."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO

from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

# Session logs of coding agents: usage per API response, but no task ids, and repeats that need
# their own rules. Recognised from the first record, so that a user hears what the file is.
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)
CODEX_RECORD_TYPES = frozenset({"session_meta", "turn_context", "response_item", "event_msg",
                                "compacted"})
CLAUDE_CODE_RECORD_TYPES = frozenset({"file-history-snapshot", "summary", "user", "assistant",
                                      "system", "progress"})
CLAUDE_CODE_KEYS = frozenset({"message", "messageId", "snapshot", "uuid", "parentUuid",
                              "sessionId", "leafUuid", "requestId"})


def recognises(head: Head) -> bool:
    return True


def read(stream: BinaryIO, head: Head, context: ReadContext) -> Iterable[pl.DataFrame]:
    from agentcost.ingest.native_normalise import MISSING_TASK
    from agentcost.ingest.native_read import read_native

    foreign = None if context.forced else foreign_log(head)
    missing_task = MISSING_TASK if foreign is None else (
        f"missing task_id: the file looks like a {foreign}, which agentcost does not read")
    source = context.source
    # What was peeked at cannot be read again from stdin or a pipe: read on from here. A file
    # is opened afresh by the native reader, which may map it whole.
    return read_native(source, set(context.wanted_aliases), context.accounting,
                       stream=stream if source.read_once else None, missing_task=missing_task,
                       max_line_bytes=context.max_line_bytes, piece_bytes=context.piece_bytes)


def foreign_log(head: Head) -> str | None:
    """What a JSON lines file is when it is a coding agent's session log (Claude Code, Codex
    CLI), from its first record; None for anything else."""
    value = head.record if head.json_lines else None
    if value is None or set(value) & TASK_ID_NAMES:
        return None
    keys = set(value)
    kind = value.get("type") if isinstance(value.get("type"), str) else None  # a list: no hash
    if "payload" in keys and kind in CODEX_RECORD_TYPES:
        return "Codex CLI session log"
    claude_record = kind in CLAUDE_CODE_RECORD_TYPES and bool(keys & CLAUDE_CODE_KEYS)
    if claude_record or {"sessionId", "message"} <= keys or {"requestId", "message"} <= keys:
        return "Claude Code session log"
    return None


READER = Reader("native", "agentcost JSONL", recognises, read,
                evidence=lambda head: "records with no span structure")
