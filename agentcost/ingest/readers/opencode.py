"""OpenCode: its SQLite database (`$XDG_DATA_HOME/opencode/opencode.db`; tables `session`,
`message`, `part`, each row's JSON in `data`), opened read-only.

A request is a `step-finish` part: one model call of an assistant message, with its `tokens
{input (without the cache), output, reasoning, cache {read, write}}` and `cost` (older builds
overwrote a message's own `tokens` with its last step's, so the steps are summed, not the
message). An assistant message with no step-finish part is a request only when it finished
(`finish`) or recorded tokens: a zero-token placeholder is not. The `event` table repeats what
the others hold and is never read. `cost` 0 is OpenCode's for a model it has no price for (a
custom provider, a subscription): unknown, not free. Reasoning is billed apart from output
where the step's `total` says so (input, cache, output and reasoning add up to it), else it is
inside output. The model is the message's `modelID` as written. Tasks: a session's user
messages, in order; an assistant message serves the one its `parentID` names. A sub-agent runs
in a child session (`parent_id`): its steps belong
to the root session and to the prompt whose `task` tool call started it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.errors import InputError
from agentcost.ingest.coding.values import BadRecord, count, from_epoch_ms, text_of, usd
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

    from agentcost.ingest.coding.steps import Request, ToolCall, Where

AGENT = "opencode"
SQLITE_HEADER = b"SQLite format 3\x00"
WAL_VERSION_BYTES = slice(18, 20)
# Where a database is not a plain file to open (gzip, a pipe): the head is searched for the
# tables' definitions instead, which SQLite keeps on its first pages.
TABLE_DEFINITIONS = (b"CREATE TABLE `message`", b"CREATE TABLE `part`")
REQUIRED_TABLES = {"message": {"session_id", "data"}, "part": {"message_id", "session_id",
                                                               "data"}}
STEP_PARTS = ("step-start", "step-finish", "tool")
TOKENS = ("input", "output", "reasoning", "cache.read", "cache.write", "total")


def recognises_binary(data: bytes, path: Path | None) -> bool:
    """An SQLite database with OpenCode's `message` and `part` tables."""
    if not data.startswith(SQLITE_HEADER):
        return False
    if path is None:
        return all(definition in data for definition in TABLE_DEFINITIONS)
    try:
        with contextlib.closing(_connect(path)) as database:
            return _is_opencode(database)
    except sqlite3.Error:
        return False


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.coding.steps import steps_frame

    accounting, display = context.accounting, context.display
    accounting.lines_read += 1  # the database, read whole as one record
    try:
        database = (_connect(context.plain_file) if context.plain_file is not None
                    else _in_memory(context.whole_document(stream)))
    except sqlite3.Error as error:
        raise InputError(f"{display}: cannot open as an SQLite database ({error})") from error
    with contextlib.closing(database):
        try:
            if not _is_opencode(database):
                accounting.skip("an SQLite database without OpenCode's message and part "
                                "tables; the file is left unread", display, [1])
                return []
            store = _Store(context)
            store.load(database)
        except sqlite3.DatabaseError as error:
            raise InputError(f"{display}: cannot read the OpenCode database ({error})") \
                from error
    accounting.lines_used += 1
    requests, calls = store.steps()
    return [steps_frame(requests, calls, agent=AGENT, source_file=display,
                        task_key=context.task_key)]


def _connect(path: Path) -> sqlite3.Connection:
    """Read-only, sharing the database with OpenCode if it runs. Where SQLite cannot open it
    so (a write-ahead log it may not attach to), as an unchanging file: the last writes still
    in the log are then not seen."""
    uri = path.resolve().as_uri()
    try:
        database = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        database.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return database
    except sqlite3.OperationalError:
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)


def _in_memory(data: bytes) -> sqlite3.Connection:
    if not data.startswith(SQLITE_HEADER):
        raise sqlite3.DatabaseError("not an SQLite database")
    # A database in memory has no write-ahead log: its header's read and write versions
    # (bytes 18 and 19) must say "rollback journal", else SQLite will not open it.
    image = bytearray(data)
    image[WAL_VERSION_BYTES] = b"\x01\x01"
    database = sqlite3.connect(":memory:")
    database.deserialize(bytes(image))
    return database


def _is_opencode(database: sqlite3.Connection) -> bool:
    for table, needed in REQUIRED_TABLES.items():
        columns = {row[1] for row in database.execute(f"PRAGMA table_info({table})")}
        if not needed <= columns:
            return False
    return True


@dataclass
class _Message:
    rowid: int
    id: str
    session_id: str
    time: int
    role: str | None
    parent_id: str | None
    model: str | None
    provider: str | None
    cwd: str | None
    agent: str | None
    finished: bool
    tokens: dict[str, Any]
    cost: Any
    steps: list[tuple[int, str, int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class _Session:
    id: str
    parent_id: str | None
    directory: str | None
    time: int


@dataclass
class _Store:
    """What the database holds of sessions, messages and their step and tool parts."""

    context: ReadContext
    sessions: dict[str, _Session] = field(default_factory=dict)
    messages: dict[str, _Message] = field(default_factory=dict)
    # child session -> the message whose task tool call started it
    spawned_by: dict[str, str] = field(default_factory=dict)

    def load(self, database: sqlite3.Connection) -> None:
        self._sessions(database)
        self._messages(database)
        self._parts(database)

    def _bad(self, table: str, rowid: int, reason: str) -> None:
        self.context.accounting.span_skip(f"OpenCode {table} row: {reason}",
                                          self.context.display, [rowid])

    def _sessions(self, database: sqlite3.Connection) -> None:
        columns = {row[1] for row in database.execute("PRAGMA table_info(session)")}
        if not {"id", "parent_id", "directory", "time_created"} <= columns:
            return  # sessions are then known by their messages alone
        for row in database.execute(
                "SELECT id, parent_id, directory, time_created FROM session"):
            identifier, parent, directory, created = row
            if isinstance(identifier, str):
                self.sessions[identifier] = _Session(
                    identifier, parent if isinstance(parent, str) and parent else None,
                    directory if isinstance(directory, str) and directory else None,
                    created if isinstance(created, int) else 0)

    def _messages(self, database: sqlite3.Connection) -> None:
        for (rowid,) in database.execute("SELECT rowid FROM message WHERE NOT json_valid(data)"):
            self._bad("message", rowid, "data is not valid JSON")
        fields = ("role", "parentID", "modelID", "providerID", "path.cwd", "time.created",
                  "finish", "agent", "mode", "cost", *(f"tokens.{name}" for name in TOKENS))
        extracted = ", ".join(f"json_extract(data, '$.{name}')" for name in fields)
        query = (f"SELECT rowid, id, session_id, time_created, {extracted} FROM message "
                 "WHERE json_valid(data) ORDER BY session_id, time_created, id")
        for row in database.execute(query):
            rowid, identifier, session_id, created = row[:4]
            (role, parent, model, provider, cwd, time, finish, agent, mode, cost,
             *tokens) = row[4:]
            if not (isinstance(identifier, str) and isinstance(session_id, str)):
                self._bad("message", rowid, "no message or session id")
                continue
            self.messages[identifier] = _Message(
                rowid, identifier, session_id,
                time if isinstance(time, int) else created if isinstance(created, int) else 0,
                text_of(role), text_of(parent), text_of(model), text_of(provider), text_of(cwd),
                text_of(agent) or text_of(mode), bool(finish), dict(zip(TOKENS, tokens,
                                                                    strict=True)), cost)

    def _parts(self, database: sqlite3.Connection) -> None:
        for (rowid,) in database.execute("SELECT rowid FROM part WHERE NOT json_valid(data)"):
            self._bad("part", rowid, "data is not valid JSON")
        fields = ("type", "cost", *(f"tokens.{name}" for name in TOKENS), "tool", "callID",
                  "state.status", "state.input", "state.metadata.sessionId")
        extracted = ", ".join(f"json_extract(data, '$.{name}')" for name in fields)
        wanted = ", ".join(f"'{kind}'" for kind in STEP_PARTS)
        query = (f"SELECT rowid, message_id, time_created, {extracted} FROM part "
                 f"WHERE json_valid(data) AND json_extract(data, '$.type') IN ({wanted}) "
                 "ORDER BY message_id, id")
        for row in database.execute(query):
            rowid, message_id, created, kind, cost, *rest = row
            tokens, (tool, call_id, status, tool_input, child) = rest[:6], rest[6:]
            message = self.messages.get(message_id) if isinstance(message_id, str) else None
            if message is None:
                self._bad("part", rowid, "its message is not in the database")
                continue
            time = created if isinstance(created, int) else message.time
            message.steps.append((rowid, str(kind), time, {
                "cost": cost, "tokens": dict(zip(TOKENS, tokens, strict=True)), "tool": tool,
                "call_id": call_id, "status": status, "input": tool_input}))
            if kind == "tool" and tool == "task" and isinstance(child, str):
                self.spawned_by[child] = message.id

    def steps(self) -> tuple[list[Request], list[ToolCall]]:
        requests: list[Request] = []
        calls: list[ToolCall] = []
        prompts = self._prompts()
        for message in self.messages.values():
            if message.role != "assistant":
                continue
            where = self._where_of(message, prompts)
            requests.extend(self._requests(message, where))
            calls.extend(self._tool_calls(message, where))
        return requests, calls

    def _prompts(self) -> dict[str, int]:
        """Each user message's number in its session, in time order."""
        numbers: dict[str, int] = {}
        counts: dict[str, int] = {}
        for message in sorted(self.messages.values(), key=lambda m: (m.time, m.id)):
            if message.role == "user":
                counts[message.session_id] = counts.get(message.session_id, 0) + 1
                numbers[message.id] = counts[message.session_id]
        return numbers

    def _where_of(self, message: _Message, prompts: dict[str, int]) -> Where:
        from agentcost.ingest.coding.steps import Where

        root, prompt = self._task_of(message, prompts, seen=set())
        session = self.sessions.get(message.session_id)
        top = session is None or session.parent_id is None
        return Where(root, prompt, message.rowid, project=message.cwd or (
            session.directory if session else None),
            name="main" if top else (message.agent or "subagent"))

    def _task_of(self, message: _Message, prompts: dict[str, int], seen: set[str]
                 ) -> tuple[str, int]:
        """The root session and the prompt number a message's work belongs to."""
        session = self.sessions.get(message.session_id)
        if session is None or session.parent_id is None or session.id in seen:
            return message.session_id, self._prompt_in_session(message, prompts)
        seen.add(session.id)
        spawner = self.messages.get(self.spawned_by.get(session.id, ""))
        if spawner is None:  # the parent's message running when the child was made
            spawner = self._latest_before(session.parent_id, session.time)
        if spawner is None:
            return session.parent_id, 1
        return self._task_of(spawner, prompts, seen)

    def _prompt_in_session(self, message: _Message, prompts: dict[str, int]) -> int:
        if message.role == "user":
            return prompts.get(message.id, 1)
        if message.parent_id in prompts:
            return prompts[message.parent_id]
        earlier = [prompts[m.id] for m in self.messages.values()
                   if m.session_id == message.session_id and m.id in prompts
                   and (m.time, m.id) <= (message.time, message.id)]
        return max(earlier, default=1)

    def _latest_before(self, session_id: str, time: int) -> _Message | None:
        found = [m for m in self.messages.values() if m.session_id == session_id
                 and m.time <= time]
        return max(found, key=lambda m: (m.time, m.id), default=None)

    def _requests(self, message: _Message, where: Where) -> Iterator[Request]:
        from dataclasses import replace

        finishes = [step for step in message.steps if step[1] == "step-finish"]
        started = None
        for rowid, kind, time, values in message.steps:
            if kind == "step-start":
                started = time
            elif kind == "step-finish":
                request = self._request(message, replace(
                    where, source_line=rowid,
                    start_time=from_epoch_ms(started if started is not None else time)),
                    values["tokens"], values["cost"], "part", rowid)
                started = None
                if request is not None:
                    yield request
        if finishes:
            return
        recorded = any(isinstance(v, int | float) and v for v in message.tokens.values())
        if not (message.finished or recorded):
            self.context.accounting.note(
                "OpenCode assistant message with no tokens and no finish (a placeholder): "
                "not a request", self.context.display, [message.rowid])
            return
        request = self._request(message, replace(where, start_time=from_epoch_ms(message.time)),
                                message.tokens, message.cost, "message", message.rowid)
        if request is not None:
            yield request

    def _request(self, message: _Message, where: Where, tokens: dict[str, Any], cost: Any,
                 table: str, rowid: int) -> Request | None:
        from agentcost.ingest.coding.steps import Request

        try:
            counts = {name: count(tokens.get(name), f"tokens.{name}") for name in TOKENS}
            reported = usd(cost, "cost")
        except BadRecord as error:
            self._bad(table, rowid, str(error))
            return None
        output, reasoning = counts["output"], counts["reasoning"] or 0
        if reasoning and output is not None and counts["total"] is not None \
                and _prompt(counts) is not None \
                and counts["total"] == (_prompt(counts) or 0) + output:
            reasoning = 0  # the total holds it inside output
        request = Request(where, message.model, input_tokens=counts["input"],
                          output_tokens=output, cache_read_tokens=counts["cache.read"] or 0,
                          cache_write_5m_tokens=counts["cache.write"] or 0,
                          reasoning_tokens=reasoning, request_id=None,
                          reported_cost_usd=reported or None)
        return request

    def _tool_calls(self, message: _Message, where: Where) -> Iterator[ToolCall]:
        from dataclasses import replace

        from agentcost.ingest.coding.steps import ToolCall

        for rowid, kind, time, values in message.steps:
            if kind != "tool" or values["status"] == "pending":  # asked for, never run
                continue
            name = values["tool"]
            if not isinstance(name, str) or not name:
                self._bad("part", rowid, "tool part without a tool name")
                continue
            tool_input = values["input"]
            yield ToolCall(replace(where, source_line=rowid, start_time=from_epoch_ms(time)),
                           name, tool_input if isinstance(tool_input, str) else None,
                           text_of(values["call_id"]))


def _prompt(counts: dict[str, int | None]) -> int | None:
    parts = (counts["input"], counts["cache.read"], counts["cache.write"])
    return None if counts["input"] is None else sum(part or 0 for part in parts)


READER = Reader("opencode", "OpenCode database (SQLite)", lambda head: False, read,
                evidence=lambda head: "an SQLite database with message and part tables",
                binary=recognises_binary)
