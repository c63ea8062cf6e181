"""One Claude Code session log's lines, read into the few columns its steps are made of
(the lines are decoded by claude_records.py).

What the files of a run give (`ClaudeRows`), one row per line of interest, nothing decided
yet across lines or files (claude_steps.py does that once every file is read):

- `responses`: assistant lines that carry a usage, one per content block the agent wrote
  (streaming repeats the usage on every block's line);
- `tools`: `tool_use` blocks (name, input, id);
- `prompts`: user lines that are a prompt someone typed (trace-formats 5.1's rule);
- `advisors`: `usage.iterations` entries of type `advisor_message`, calls of their own;
- `agent_links` / `agent_types`: which sub-agent a `Task` call started, and its type.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import msgspec
import orjson

from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.coding.claude_records import (
    ITERATIONS,
    LINE,
    PLACED_LINE,
    Block,
    Line,
    PlacedLine,
    ToolUseResult,
    decode_chunk,
    file_chunks,
)
from agentcost.ingest.limits import line_too_long
from agentcost.ingest.readers.claude_code import NO_CALL_TYPES

if TYPE_CHECKING:
    import polars as pl

SYNTHETIC_MODEL = "<synthetic>"
# A user line whose text starts so is a slash command's wrapper or a notice, not a prompt.
NOT_PROMPTS = ("<command-name>",
               "<local-command-stdout>", "<local-command-stderr>", "<local-command-caveat>",
               "Caveat:", "[Request interrupted by user")
# The tools that start a sub-agent; their input names its type.
SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
ADVISOR = "advisor_message"
# Where a step was taken, read only for the reports that show it.
PLACE_COLUMNS = ("agent_id", "cwd", "git_branch")
KINDS = ("responses", "tools", "prompts", "advisors", "agent_links", "agent_types")
# The lines a note names as examples (the first, in file and line order).
EXAMPLES = 5
# Rows kept as Python tuples before they are made a frame: a frame per file would cost more
# than the file's lines when a folder holds thousands of small files.
FLUSH_ROWS = 100_000


@dataclass
class ClaudeRows:
    """The rows every file of a run gave (see the module's doc), each tagged with its file's
    number (`_file`, an index into `displays`): made into frames a batch at a time."""

    displays: list[str] = field(default_factory=list)
    # The session of each file's first response or tool row (by file number): its rows of that
    # session leave `session_id` out (null), to be filled from here when the frames are taken.
    # A file is mostly one session: its rows go between processes without it.
    file_sessions: dict[int, str] = field(default_factory=dict)
    pending: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS})
    frames: dict[str, list[pl.DataFrame]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS})
    # Lines read and not made into a row, by why (file number, line): noted, never lost in
    # silence.
    no_call: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    # Lines of a response folded into the line kept for it (file number, line): the first
    # EXAMPLES of them once rows are flushed, and how many others there were.
    repeated: list[tuple[int, int]] = field(default_factory=list)
    repeated_others: int = 0

    @property
    def repeated_count(self) -> int:
        return len(self.repeated) + self.repeated_others

    def start_file(self, display: str) -> int:
        self.displays.append(display)
        return len(self.displays) - 1

    def flush(self, *, at_least: int = 0) -> bool:
        """Pending rows of each kind (when at least `at_least` of them) into a frame; whether
        any were."""
        flushed = False
        for kind, rows in self.pending.items():
            if rows and len(rows) >= at_least:
                self.frames[kind].append(_frame(rows, kind))
                rows.clear()
                flushed = True
        if flushed:
            self._first_repeated()
        return flushed

    def frame(self, kind: str) -> pl.DataFrame:
        """Every row of one kind read so far, each with its session."""
        import polars as pl

        self.flush()
        frames = self.frames[kind] or [_frame([], kind)]
        rows = _whole(pl.concat(frames, how="diagonal") if len(frames) > 1 else frames[0],
                      kind)
        if kind not in ("responses", "tools") or not self.file_sessions:
            return rows
        by_file = pl.Series([self.file_sessions.get(file) for file in range(len(self.displays))],
                            dtype=pl.String)
        return rows.with_columns(pl.coalesce("session_id", pl.lit(by_file).gather("_file"))
                                 .alias("session_id"))

    def absorb(self, other: ClaudeRows) -> None:
        """The rows another process read (of files numbered here), after those read so far."""
        for kind in KINDS:
            if other.frames[kind]:
                self.flush()
                self.frames[kind].extend(other.frames[kind])
        self.file_sessions.update(other.file_sessions)
        for why, places in other.no_call.items():
            self.no_call.setdefault(why, []).extend(places)
        self.repeated.extend(other.repeated)
        self.repeated_others += other.repeated_others
        self._first_repeated()

    def _first_repeated(self) -> None:
        """Only the first EXAMPLES folded lines are kept (in place: the line readers add to
        the list), the others counted."""
        if len(self.repeated) > EXAMPLES:
            self.repeated_others += len(self.repeated) - EXAMPLES
            self.repeated[:] = heapq.nsmallest(EXAMPLES, self.repeated)


@dataclass(frozen=True)
class ParseOptions:
    """What to keep of each line, and the line limit. A value, so that it pickles for a
    worker process."""

    max_line_bytes: int
    tool_args: bool  # each tool call's input (it can be a whole file's text)
    agent_types: bool  # each sub-agent's type, from the Task call that started it
    places: bool  # the working directory and git branch


def read_claude_file(stream: BinaryIO, display: str, file: int, accounting: LineAccounting,
                     rows: ClaudeRows, options: ParseOptions, *, size: int | None = None
                     ) -> None:
    """Every line of one session log into `rows`, as the run's file number `file`,
    accounted for. `size`: the file's, when known (a plain file): one smaller than a chunk
    is read in one piece of its size."""
    # A line without a session id belongs to the session the file is named after.
    session = os.path.splitext(os.path.basename(display))[0]
    reader = _LineReader(rows, file, session, options)
    max_line_bytes = options.max_line_bytes
    decoder = PLACED_LINE if options.places or options.agent_types else LINE
    for chunk in file_chunks(stream, size, max_line_bytes):
        accounting.lines_read += chunk.line_count
        if chunk.stream_error:
            last = chunk.first_line + max(chunk.line_count - 1, 0)
            accounting.note(f"input cut off ({chunk.stream_error})", display, [last])
        if chunk.too_long:
            accounting.skip(line_too_long(max_line_bytes), display, [chunk.first_line])
            continue
        decoded, blank, bad = decode_chunk(chunk, decoder)
        accounting.lines_blank += blank
        for number, reason in bad:
            accounting.skip(reason, display, [number])
        unknown = reader.add(decoded)
        for number, kind in unknown:
            accounting.skip(f"unknown Claude Code record type {kind!r}" if kind is not None
                            else "not a Claude Code record (no type, no message)", display,
                            [number])
        accounting.lines_used += len(decoded) - len(unknown)
        if rows.flush(at_least=FLUSH_ROWS):
            reader.flushed()


class _LineReader:
    """Turns decoded lines into rows: the per-line work, kept to what each kind of line
    needs."""

    def __init__(self, rows: ClaudeRows, file: int, session: str, options: ParseOptions
                 ) -> None:
        self.rows = rows
        self.pending = rows.pending
        self.responses = rows.pending["responses"]
        self.repeated = rows.repeated
        self.file = file
        self.session = session
        self.file_session: str | None = None  # see ClaudeRows.file_sessions
        self.tool_args = options.tool_args
        self.agent_types = options.agent_types
        self.places = options.places
        self.full = options.places or options.agent_types
        # The last response row added, to fold a response's next lines into it as they come
        # (claude_steps.py applies the same rule across lines and files).
        self.last: tuple[str | None, int, bool] = (None, 0, False)  # key, total, sidechain

    def add(self, records: list[tuple[int, Line]]) -> list[tuple[int, str | None]]:
        """Rows from `records`; returns the lines of a record type it does not know (None:
        a record with no type)."""
        unknown: list[tuple[int, str | None]] = []
        assistant, user = self._assistant, self._user
        for number, record in records:
            kind = record.type
            if kind == "assistant":
                assistant(number, record)
            elif kind == "user":
                user(number, record)
            elif kind is None and record.message is not None:  # early logs wrote no type
                if record.message.role == "user":
                    user(number, record)
                else:
                    assistant(number, record)
            elif kind not in NO_CALL_TYPES:
                unknown.append((number, kind))
        return unknown

    def flushed(self) -> None:
        """The pending rows were made a frame: the last response row is no longer there."""
        self.last = (None, 0, False)

    def _no_call(self, why: str, number: int) -> None:
        self.rows.no_call.setdefault(why, []).append((self.file, number))

    def _where(self, number: int, record: Line) -> tuple[Any, ...]:
        """The row's first columns; PLACE_COLUMNS too when they are read. The session is left
        out when it is the file's (ClaudeRows.file_sessions)."""
        own = record.sessionId or self.session
        if self.file_session is None:
            self.file_session = self.rows.file_sessions[self.file] = own
        session = None if own == self.file_session else own
        if not self.full:
            return (self.file, number, session, record.timestamp, record.isSidechain is True)
        placed = cast(PlacedLine, record)
        return (self.file, number, session, record.timestamp, record.isSidechain is True,
                placed.agentId, placed.cwd, placed.gitBranch)

    def _assistant(self, number: int, record: Line) -> None:
        message = record.message
        if message is None:
            self._no_call("assistant line without a message: no call", number)
            return
        if record.isApiErrorMessage or message.model == SYNTHETIC_MODEL:
            self._no_call("API error or <synthetic> message written by Claude Code: no billed "
                          "call", number)
            return
        content = message.content
        where = None
        if content.__class__ is list:
            for block in content:
                if block.type == "tool_use":
                    where = self._where(number, record)
                    self._tool_calls(where, content)
                    break
        usage = message.usage
        if usage is None:
            self._no_call("assistant line without usage (an aborted or partial message): no "
                          "billed call read from it", number)
            return
        key = message.id or record.requestId or None
        total = ((usage.input_tokens or 0) + (usage.output_tokens or 0)
                 + (usage.cache_read_input_tokens or 0)
                 + (usage.cache_creation_input_tokens or 0))
        sidechain = record.isSidechain is True
        responses = self.responses
        last_key, best, best_sidechain = self.last
        if key == last_key and key is not None:  # the response's next line
            if total < best or (total == best and (sidechain or not best_sidechain)):
                self.repeated.append((self.file, number))
                return
            self.repeated.append((self.file, responses.pop()[1]))
        self.last = (key, total, sidechain)
        cache = usage.cache_creation
        servers = usage.server_tool_use
        responses.append((where or self._where(number, record)) + (
            key, message.model,
            usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens,
            None if cache is None else cache.ephemeral_5m_input_tokens,
            None if cache is None else cache.ephemeral_1h_input_tokens,
            None if servers is None else servers.web_search_requests,
            None if servers is None else servers.web_fetch_requests,
            usage.service_tier if usage.speed is None else _tier(usage.service_tier, usage.speed),
            record.costUSD))
        iterations = usage.iterations
        if len(iterations) > 4:  # more than `null`
            self._advisors(number, iterations)

    def _tool_calls(self, where: tuple[Any, ...], blocks: list[Block]) -> None:
        for block in blocks:
            if block.type != "tool_use":
                continue
            name = block.name
            if name is None:
                self._no_call("tool_use block without a tool name: left out", where[1])
                continue
            raw = block.input
            args = bytes(raw).decode("utf-8", "replace") if self.tool_args and raw else None
            self.pending["tools"].append((*where, block.id, name, args))
            if self.agent_types and name in SUBAGENT_TOOLS and block.id and raw:
                agent_type = _subagent_type(raw)
                if agent_type is not None:
                    self.pending["agent_types"].append((block.id, agent_type))

    def _advisors(self, number: int, raw: msgspec.Raw) -> None:
        try:
            iterations = ITERATIONS.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self._no_call("usage.iterations of a shape not known: its advisor calls, if any, "
                          "left out", number)
            return
        for item in iterations or ():
            if item.type != ADVISOR:
                continue
            cache = item.cache_creation
            self.pending["advisors"].append((
                self.file, number, item.model, item.input_tokens, item.output_tokens,
                item.cache_read_input_tokens, item.cache_creation_input_tokens,
                None if cache is None else cache.ephemeral_5m_input_tokens,
                None if cache is None else cache.ephemeral_1h_input_tokens))

    def _user(self, number: int, record: Line) -> None:
        if self.agent_types:
            result = cast(PlacedLine, record).toolUseResult
            if isinstance(result, ToolUseResult) and result.agentId:
                self._agent_link(record, result.agentId)
        if record.isSidechain or record.isMeta or record.isCompactSummary:
            return
        message = record.message
        content = None if message is None else message.content
        if isinstance(content, str):  # typed text; empty is nothing typed
            text = content.lstrip() or None
        elif isinstance(content, list) and content:
            text = _prompt_text(content)
        else:
            text = None
        if text is not None and not text.startswith(NOT_PROMPTS):
            self.pending["prompts"].append((self.file, number, record.sessionId or self.session,
                                            record.timestamp, record.uuid))

    def _agent_link(self, record: Line, agent: str) -> None:
        """A Task call's result names the sub-agent it ran: `agentId` links the sub-agent's
        lines to the call, whose input says the sub-agent's type."""
        message = record.message
        content = None if message is None else message.content
        if not isinstance(content, list):
            return
        call = next((block.tool_use_id for block in content if block.tool_use_id), None)
        if call:
            self.pending["agent_links"].append((agent, call))


def _prompt_text(blocks: list[Block]) -> str | None:
    """The text of a user line made of blocks, when it may be a prompt: "" for one with no
    text (an image alone), None for a tool's result."""
    text = ""
    for block in blocks:
        if block.type == "tool_result":
            return None
        if block.type == "text" and not text and block.text:
            try:
                value = orjson.loads(bytes(block.text))
            except orjson.JSONDecodeError:
                continue
            text = value.lstrip() if isinstance(value, str) else ""
    return text


def _subagent_type(raw: msgspec.Raw) -> str | None:
    try:
        value = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        return None
    agent_type = value.get("subagent_type") if isinstance(value, dict) else None
    return agent_type if isinstance(agent_type, str) and agent_type else None


def _tier(service_tier: str | None, speed: str | None) -> str | None:
    """The tier a response is billed at: fast mode (`speed: "fast"`) is a tier of its own,
    priced by the table's `fast` tier; on another tier than the default, by a combined one
    (`priority+fast`), unpriced unless a table lists it."""
    if speed != "fast":
        return service_tier
    if service_tier in (None, "standard", "default"):
        return "fast"
    return f"{service_tier}+fast"


@cache
def _schemas() -> dict[str, dict[str, pl.DataType]]:
    import polars as pl

    text, count, flag = pl.String(), pl.Int64(), pl.Boolean()
    where = {"_file": pl.Int32(), "line": count, "session_id": text, "timestamp": text,
             "sidechain": flag, "agent_id": text, "cwd": text, "git_branch": text}
    tokens = dict.fromkeys(("input_tokens", "output_tokens", "cache_read_tokens",
                            "cache_creation_tokens", "cache_5m_tokens", "cache_1h_tokens"),
                           count)
    return {
        "responses": {**where, "key": text, "model": text, **tokens,
                      "web_search_requests": count, "web_fetch_requests": count,
                      "service_tier": text, "reported_cost_usd": pl.Float64()},
        "tools": {**where, "call_id": text, "tool_name": text, "tool_args": text},
        "prompts": {"_file": pl.Int32(), "line": count, "session_id": text, "timestamp": text,
                    "uuid": text},
        "advisors": {"_file": pl.Int32(), "line": count, "model": text, **tokens},
        "agent_links": {"agent_id": text, "call_id": text},
        "agent_types": {"call_id": text, "agent_type": text},
    }



def _frame(rows: list[tuple[Any, ...]], kind: str) -> pl.DataFrame:
    """Column by column: much faster than polars' reading of rows. A column with no value
    (the working directory, branch and sub-agent id of rows read without them,
    `_LineReader._where`; a tool call's input when not read) is left out: `_whole` puts it
    back, once, for all the rows of a kind. Frames go between processes without them."""
    import polars as pl

    schema = _schemas()[kind]
    if not rows:
        return pl.DataFrame(schema=schema)
    lean = [name for name in schema if name not in PLACE_COLUMNS]
    names = lean if len(rows[0]) == len(lean) else list(schema)
    return pl.DataFrame([
        pl.Series(name, values, schema[name])
        for name, values in zip(names, zip(*rows, strict=True), strict=True)
        if values.count(None) < len(values)])


def _whole(rows: pl.DataFrame, kind: str) -> pl.DataFrame:
    """`rows` with every column of their kind, in order: those left out, as nulls."""
    import polars as pl

    present = set(rows.columns)
    return rows.select(pl.col(name) if name in present else pl.lit(None, dtype).alias(name)
                       for name, dtype in _schemas()[kind].items())
