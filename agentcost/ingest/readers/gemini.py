"""Gemini CLI session files (`~/.gemini/tmp/<project>/chats/session-*.jsonl`, and the legacy
`session-*.json`).

The current `.jsonl` starts with a metadata record, then appends a whole message record each
time a message changes (the last record of each `id` is the message), `{"$set": ...}` updates
the metadata (a `messages` list in it is a checkpoint of whole messages), and
`{"$rewindTo": id}` drops messages from the conversation that were billed all the same, so
they still count. The legacy `.json` is one `ConversationRecord` rewritten whole.

A billed request is a `gemini` message with `tokens {input, output, cached, thoughts, tool,
total}`: `input` includes `cached`; `tool` is prompt-side input apart from `input`; `thoughts`
are billed as output and are not inside `output` (reasoning_tokens). A message whose counts are
all 0 is no request. Its `toolCalls` are tool steps. A task is a `user` message. A sub-agent's
conversation (`kind: "subagent"`, in `chats/<parent session id>/`) adds to its parent session
and to the prompt that was running when it started. `logs.json` (the prompts typed, no usage)
is recognised and adds nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from agentcost.errors import InputError
from agentcost.ingest.coding.gemini_usage import Buckets, buckets
from agentcost.ingest.coding.steps import Request, ToolCall, Where, steps_frame
from agentcost.ingest.coding.subagents import PromptStarts, own_tasks
from agentcost.ingest.coding.values import BadRecord, count, mapping, shown, text_of, time_of
from agentcost.ingest.json_lines import json_records
from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

AGENT = "gemini-cli"
# A tuple, not a set: a record's type may be any JSON value, a list among them.
MESSAGE_TYPES = ("user", "gemini", "info", "error", "warning")
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)
LOG_KEYS = frozenset({"sessionId", "messageId", "type", "message"})
TOKEN_FIELDS = ("input", "output", "cached", "thoughts", "tool", "total")
SUB_AGENT = "subagent"
PROJECT_ROOT_FILE = ".project_root"  # where newer builds write the project's directory
PROJECT_ROOT_MAX_BYTES = 4096


def recognises(head: Head) -> bool:
    if head.is_list:
        return head.list_item is not None and set(head.list_item) >= LOG_KEYS
    record = head.record
    if record is None:
        return "projectHash" in head.cut_keys
    if set(record) & TASK_ID_NAMES:  # a native step
        return False
    if {"sessionId", "projectHash"} <= set(record) or "$rewindTo" in record:
        return True
    if "$set" in record:
        return isinstance(record["$set"], dict)
    return _looks_like_message(record)


def _looks_like_message(record: dict[str, Any]) -> bool:
    kind = record.get("type")
    if not isinstance(record.get("id"), str) or "uuid" in record:
        return False
    return kind == "gemini" or (kind in MESSAGE_TYPES and {"timestamp", "content"} <= set(record))


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    accounting, display = context.accounting, context.display
    conversation = Conversation()
    if head.is_list or not head.json_lines:  # the legacy session, or logs.json
        data = context.whole_document(stream)
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        accounting.lines_read += lines
        accounting.lines_used += lines
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise InputError(f"{display}: not valid JSON ({error})") from error
        if head.is_list:
            accounting.note("Gemini CLI logs.json: the prompts typed, no usage (the usage is "
                            "in the session files under chats/)", display, [1])
            return []
        conversation.take_document(document, data, context)
    else:
        for number, value in json_records(stream, context):
            try:
                conversation.take(value, number)
            except BadRecord as error:
                accounting.skip(f"Gemini CLI record: {error}", display, [number])
                continue
            accounting.lines_used += 1
    return [conversation.steps(context)]


@dataclass
class Message:
    kind: str
    line: int
    time: datetime | None
    model: str | None = None
    usage: Buckets | None = None
    all_zero: bool = False
    tools: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)


@dataclass
class Conversation:
    """A session's messages, the last record of each; in the order they first appeared."""

    session_id: str | None = None
    kind: str | None = None
    directories: list[str] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)
    rewritten: int = 0
    rewinds: int = 0
    bad_messages: list[tuple[int, str]] = field(default_factory=list)

    def take(self, value: Any, number: int) -> None:
        """One line of the `.jsonl`."""
        if not isinstance(value, dict):
            raise BadRecord("not a JSON object")
        if "$rewindTo" in value:
            self.rewinds += 1
        elif "$set" in value:
            update = value["$set"]
            if not isinstance(update, dict):
                raise BadRecord("$set is not an object")
            self._metadata(update, number)
        elif isinstance(value.get("id"), str):
            self._message(value, number)
        elif isinstance(value.get("sessionId"), str):
            self._metadata(value, number)
        else:
            raise BadRecord("neither a message, a metadata record, $set nor $rewindTo")

    def take_document(self, document: Any, data: bytes, context: ReadContext) -> None:
        """The legacy `.json`: one conversation record, its messages found on their lines."""
        if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
            raise InputError(f"{context.display}: not a Gemini CLI session (no messages list)")
        self._metadata({key: value for key, value in document.items() if key != "messages"}, 1)
        finder = _LineFinder(data)
        for item in document["messages"]:
            identity = mapping(item).get("id")
            number = finder.line_of(identity) if isinstance(identity, str) else finder.line
            try:
                if not isinstance(identity, str):
                    raise BadRecord("message without an id")
                self._message(item, number, whole=True)
            except BadRecord as error:
                self.bad_messages.append((number, str(error)))

    def _metadata(self, record: dict[str, Any], number: int) -> None:
        self.session_id = text_of(record.get("sessionId")) or self.session_id
        self.kind = text_of(record.get("kind")) or self.kind
        directories = record.get("directories")
        if isinstance(directories, list) and directories:
            self.directories = [item for item in directories if isinstance(item, str)]
        checkpoint = record.get("messages")
        if checkpoint is not None and not isinstance(checkpoint, list):
            raise BadRecord("messages is not a list")
        if isinstance(checkpoint, list):
            for item in checkpoint:
                if isinstance(mapping(item).get("id"), str):
                    try:
                        self._message(item, number, whole=True)
                    except BadRecord as error:
                        self.bad_messages.append((number, str(error)))

    def _message(self, record: dict[str, Any], number: int, *, whole: bool = False) -> None:
        """One message record. `whole`: it is part of a document or a checkpoint, whose other
        messages are read whatever is wrong with this one: a reply whose token counts cannot
        be read is then a request of unknown usage, and the reason is noted."""
        kind = record.get("type")
        if kind not in MESSAGE_TYPES:
            raise BadRecord(f"unknown message type {shown(kind)}")
        message = Message(kind, number, time_of(record.get("timestamp")))
        if kind == "gemini":
            message.model = text_of(record.get("model"))
            try:
                self._usage(message, record.get("tokens"))
            except BadRecord as error:
                if not whole:
                    raise
                self.bad_messages.append((number, str(error)))
            calls = record.get("toolCalls")
            calls = calls if isinstance(calls, list) else []
            message.tools = [_tool(call) for call in calls if text_of(mapping(call).get("name"))]
            if len(message.tools) < len(calls):
                self.bad_messages.append((number, "a tool call without a name, left out"))
        if record["id"] in self.messages:
            self.rewritten += 1
        self.messages[record["id"]] = message

    @staticmethod
    def _usage(message: Message, tokens: Any) -> None:
        if tokens is None:
            return
        if not isinstance(tokens, dict):
            raise BadRecord("tokens is not an object")
        values = {name: count(tokens.get(name), f"tokens.{name}") for name in TOKEN_FIELDS}
        if not any(values.values()):
            message.all_zero = True
            return
        if values["input"] is None or values["output"] is None:
            raise BadRecord("tokens without input or output")
        message.usage = buckets(prompt=values["input"], cached=values["cached"],
                                output=values["output"], thoughts=values["thoughts"],
                                tool=values["tool"], total=values["total"])

    def prompt_starts(self) -> PromptStarts:
        starts = PromptStarts()
        for message in self.messages.values():
            if message.kind == "user":
                starts.add(message.time)
        return starts

    def steps(self, context: ReadContext) -> pl.DataFrame:
        """A step per reply with usage and per tool call, each under the prompt it answers
        (a sub-agent's: the parent's prompt that was running when it started)."""
        display, path = context.display, context.source.path
        session = self.session_id or Path(display).stem
        project = _project_root(path, self.kind) or next(iter(self.directories), None)
        parent, parent_prompts, name = self._parent(path)
        requests: list[Request] = []
        calls: list[ToolCall] = []
        counts: dict[str, list[int]] = {"no tokens": [], "zero": [], "thoughts unknown": []}
        start = min((m.time for m in self.messages.values() if m.time is not None),
                    default=None)
        spawned = None if parent_prompts is None else parent_prompts.prompt_at(start)
        counted = self._counted_elsewhere(context)
        prompt = 0
        for identity, message in self.messages.items():
            if message.kind == "user":
                prompt += 1
            if message.kind != "gemini" or identity in counted:
                continue
            where = Where(parent or session, spawned or max(prompt, 1), message.line,
                          message.time, project, None, name)
            calls.extend(ToolCall(where, tool, args, call_id)
                         for tool, args, call_id, _ in message.tools)
            if message.all_zero:
                counts["zero"].append(message.line)
                continue
            usage = message.usage
            if usage is None:
                counts["no tokens"].append(message.line)
            elif usage.reasoning_tokens is None:
                counts["thoughts unknown"].append(message.line)
            requests.append(Request(
                where, message.model,
                input_tokens=None if usage is None else usage.input_tokens,
                output_tokens=None if usage is None else usage.output_tokens,
                cache_read_tokens=None if usage is None else usage.cache_read_tokens,
                reasoning_tokens=None if usage is None else usage.reasoning_tokens,
                cache_write_5m_tokens=None if usage is None else 0,
                cache_write_1h_tokens=None if usage is None else 0,
                request_id=identity))
        self._notes(context, counts)
        frame = steps_frame(requests, calls, agent=AGENT, source_file=display,
                            task_key=context.task_key)
        if parent is not None and parent_prompts is None:
            context.accounting.note(f"Gemini CLI sub-agent: its parent session's file "
                                    f"({parent}) was not found beside it; its work is a task "
                                    "of its own in that session", display, [1])
            frame = own_tasks(frame, parent, session, context.task_key)
        return frame

    def _counted_elsewhere(self, context: ReadContext) -> set[str]:
        """The messages of this session already counted from its other file in this run.
        Resuming a legacy `session-x.json` writes all its messages again into a new
        `session-x.jsonl` beside it, and leaves the `.json` there: whichever of the two is
        read second leaves out the messages the first one counted."""
        path = context.source.path
        if path is None or path.suffix not in (".json", ".jsonl"):
            return set()
        other = path.with_suffix(".jsonl" if path.suffix == ".json" else ".json")
        read_before = {Path(name).resolve() for name in context.accounting.files[:-1]}
        if not other.is_file() or other.resolve() not in read_before:
            return set()
        earlier = _read_session(other)
        if earlier is None or earlier.session_id != self.session_id:
            return set()
        counted = {identity for identity, message in earlier.messages.items()
                   if message.kind == "gemini"} & set(self.messages)
        if counted:
            context.accounting.note(f"Gemini CLI messages already counted from {other.name} "
                                    "(the same session, in its legacy and current files)",
                                    context.display, [], count=len(counted))
        return counted

    def _parent(self, path: Path | None) -> tuple[str | None, PromptStarts | None, str]:
        """A sub-agent conversation's parent session (the folder it is in), when the parent
        session's prompts are known, and the name its steps go by."""
        if self.kind != "subagent":
            return None, None, "main"
        if path is None or path.parent.name == "chats":
            return None, None, SUB_AGENT
        parent = path.parent.name
        for candidate in sorted(path.parent.parent.glob(f"session-*-{parent[:8]}.json*")):
            found = _read_session(candidate)
            if found is not None and found.session_id == parent:
                return parent, found.prompt_starts(), found.agent_name(self.session_id)
        return parent, None, SUB_AGENT

    def agent_name(self, agent_id: str | None) -> str:
        """The name of the tool call that ran the sub-agent `agent_id`."""
        for message in self.messages.values():
            for tool, _, _, spawned in message.tools:
                if spawned is not None and spawned == agent_id:
                    return tool
        return SUB_AGENT

    def _notes(self, context: ReadContext, counts: dict[str, list[int]]) -> None:
        accounting, display = context.accounting, context.display
        if self.rewritten:
            accounting.note("Gemini CLI message records written again as they changed: the "
                            "last record of each message counts", display, [],
                            count=self.rewritten)
        if self.rewinds:
            accounting.note("Gemini CLI rewind ($rewindTo): the messages rewound were billed "
                            "and still count", display, [], count=self.rewinds)
        for number, reason in self.bad_messages:
            accounting.note(f"Gemini CLI message not read whole: {reason}", display, [number])
        what = {
            "no tokens": "Gemini CLI reply with no token counts: usage unknown, unpriced",
            "zero": "Gemini CLI reply whose token counts are all 0: no request",
            "thoughts unknown": "Gemini CLI reply with no thoughts count and no total: "
                                "thinking tokens unknown, unpriced",
        }
        for key, lines in counts.items():
            if lines:
                accounting.note(what[key], display, lines[:5], count=len(lines))


def _tool(call: dict[str, Any]) -> tuple[str, str | None, str | None, str | None]:
    """A tool call's name, arguments (JSON text), id, and the sub-agent it ran, if any."""
    args = call.get("args")
    return (call["name"], None if args is None else orjson.dumps(args).decode(),
            text_of(call.get("id")), text_of(call.get("agentId")))


class _LineFinder:
    """The line each message of a pretty-printed document starts on: its id's text, looked
    for after the previous message's."""

    def __init__(self, data: bytes) -> None:
        self.data, self.position, self.line = data, 0, 1

    def line_of(self, identity: str) -> int:
        found = self.data.find(orjson.dumps(identity), self.position)
        if found >= 0:
            self.line += self.data.count(b"\n", self.position, found)
            self.position = found
        return self.line


def _project_root(path: Path | None, kind: str | None) -> str | None:
    """The project's directory, from the file newer builds keep in the project's folder."""
    if path is None:
        return None
    folder = path.parent.parent if kind != "subagent" else path.parent.parent.parent
    try:
        with (folder / PROJECT_ROOT_FILE).open("rb") as handle:
            text = handle.read(PROJECT_ROOT_MAX_BYTES).decode("utf-8", errors="replace").strip()
    except OSError:
        return None
    return text or None


def _read_session(path: Path) -> Conversation | None:
    """A parent session's messages, for its prompts; None when it cannot be read."""
    conversation = Conversation()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if path.suffix == ".json":
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(document, dict):
            return None
        try:
            conversation._metadata(document, 1)
        except BadRecord:
            return None
        return conversation
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            conversation.take(orjson.loads(line), number)
        except (orjson.JSONDecodeError, BadRecord):
            continue
    return conversation


READER = Reader(AGENT, "Gemini CLI session", recognises, read,
                evidence=lambda head: "a session's records (sessionId, messages)",
                markers=("projectHash",))
