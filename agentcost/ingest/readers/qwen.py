"""Qwen Code session logs (`~/.qwen/projects/<project>/chats/<session>.jsonl`): one record a
line, `{"uuid", "sessionId", "timestamp", "type", "cwd", ...}`.

A billed request is an `assistant` record with Gemini-shaped `usageMetadata`
(`promptTokenCount` includes `cachedContentTokenCount`; `thoughtsTokenCount` apart from
`candidatesTokenCount`, unless the total says the output count holds them). Qwen Code writes
the same numbers again in a `system` record (`subtype: "ui_telemetry"`,
`qwen-code.api_response`): each assistant record is paired with the telemetry record of the
same usage and counted once; a telemetry record with no assistant record (a reply that was
not saved) is counted from there. Tool calls are the `functionCall` parts of assistant
records. A task is a `user` record (not one sent while a turn runs, `mid_turn_user_message`);
a sub-agent's records (`isSidechain`) belong to the prompt they run in. A branch (`/branch`)
starts with copies of the records of the session it branched from (`forkedFrom`): billed
there, they are not counted again."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from agentcost.ingest.coding.gemini_usage import Buckets, buckets
from agentcost.ingest.coding.steps import Request, ToolCall, Where, steps_frame
from agentcost.ingest.coding.values import BadRecord, count, mapping, shown, text_of, time_of
from agentcost.ingest.json_lines import json_records
from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

AGENT = "qwen-code"
# A tuple, not a set: a record's type may be any JSON value, a list among them.
RECORD_TYPES = ("user", "assistant", "tool_result", "system")
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)
API_RESPONSE = "qwen-code.api_response"
MID_TURN = "mid_turn_user_message"  # a message sent while a turn runs: it steers that turn
SUB_AGENT = "subagent"
# usageMetadata's names, and the api_response telemetry's for the same counts.
METADATA_FIELDS = ("promptTokenCount", "cachedContentTokenCount", "candidatesTokenCount",
                   "thoughtsTokenCount", "toolUsePromptTokenCount", "totalTokenCount")
TELEMETRY_FIELDS = ("input_token_count", "cached_content_token_count", "output_token_count",
                    "thoughts_token_count", "tool_token_count", "total_token_count")


def recognises(head: Head) -> bool:
    record = head.record if head.json_lines else None
    if record is None or record.get("type") not in RECORD_TYPES:
        return False
    if not {"uuid", "sessionId"} <= set(record) or set(record) & TASK_ID_NAMES:
        return False
    return ("parts" in mapping(record.get("message")) or "systemPayload" in record
            or "usageMetadata" in record)


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    session = Session(Path(context.display).stem)
    accounting = context.accounting
    for number, value in json_records(stream, context):
        try:
            session.take(value, number)
        except BadRecord as error:
            accounting.skip(f"Qwen Code record: {error}", context.display, [number])
            continue
        accounting.lines_used += 1
    requests = session.requests(context)
    return [steps_frame(requests, session.calls, agent=AGENT, source_file=context.display,
                        task_key=context.task_key)]


@dataclass
class Copy:
    """One copy of a request's usage: from an assistant record or from telemetry."""

    where: Where
    model: str | None
    usage: Buckets
    key: tuple[int | None, ...]  # the counts as written, to pair the two copies
    request_id: str | None = None


@dataclass
class Session:
    default_id: str
    prompts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    replies: list[Copy] = field(default_factory=list)
    telemetry: list[Copy] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    copied: int = 0  # records a branch copied from the session it branched from
    nameless: list[int] = field(default_factory=list)  # tool calls with no name, left out

    def take(self, value: Any, number: int) -> None:
        if not isinstance(value, dict):
            raise BadRecord("not a JSON object")
        kind = value.get("type")
        if kind not in RECORD_TYPES:
            raise BadRecord(f"unknown record type {shown(kind)}")
        if isinstance(value.get("forkedFrom"), dict):  # billed in the session branched from
            self.copied += 1
            return
        session = text_of(value.get("sessionId")) or self.default_id
        sidechain = value.get("isSidechain") is True
        if kind == "user" and not sidechain and value.get("subtype") != MID_TURN:
            self.prompts[session] += 1
        elif kind == "assistant":
            self._assistant(value, number, session, sidechain)
        elif kind == "system" and value.get("subtype") == "ui_telemetry":
            event = mapping(mapping(value.get("systemPayload")).get("uiEvent"))
            if event.get("event.name") == API_RESPONSE:
                self._api_response(event, value, number, session, sidechain)

    def _where(self, record: dict[str, Any], number: int, session: str, sidechain: bool
               ) -> Where:
        name = (text_of(record.get("agentName")) or SUB_AGENT) if sidechain else "main"
        return Where(session, max(self.prompts[session], 1), number,
                     time_of(record.get("timestamp")), text_of(record.get("cwd")),
                     text_of(record.get("gitBranch")), name)

    def _assistant(self, record: dict[str, Any], number: int, session: str, sidechain: bool
                   ) -> None:
        where = self._where(record, number, session, sidechain)
        metadata = record.get("usageMetadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise BadRecord("usageMetadata is not an object")
            key = tuple(count(metadata.get(name), f"usageMetadata.{name}")
                        for name in METADATA_FIELDS)
            self.replies.append(Copy(where, text_of(record.get("model")), _buckets(key), key,
                                     text_of(record.get("uuid"))))
        parts = mapping(record.get("message")).get("parts")
        for part in parts if isinstance(parts, list) else []:
            call = mapping(mapping(part).get("functionCall"))
            if call:
                name = text_of(call.get("name"))
                if name is None:
                    self.nameless.append(number)
                    continue
                args = call.get("args")
                self.calls.append(ToolCall(where, name, None if args is None
                                           else orjson.dumps(args).decode(),
                                           text_of(call.get("id"))))

    def _api_response(self, event: dict[str, Any], record: dict[str, Any], number: int,
                      session: str, sidechain: bool) -> None:
        key = tuple(count(event.get(name), name) for name in TELEMETRY_FIELDS)
        self.telemetry.append(Copy(self._where(record, number, session, sidechain),
                                   text_of(event.get("model")), _buckets(key), key,
                                   text_of(event.get("response_id"))))

    def requests(self, context: ReadContext) -> list[Request]:
        """One request per assistant record with usage, and one per telemetry record that no
        assistant record repeats."""
        waiting: dict[tuple[int | None, ...], list[Copy]] = defaultdict(list)
        for copy in self.telemetry:
            waiting[_comparable(copy.key)].append(copy)
        paired = 0
        for copy in self.replies:
            if waiting[_comparable(copy.key)]:
                waiting[_comparable(copy.key)].pop(0)
                paired += 1
        alone = sorted((copy for copies in waiting.values() for copy in copies),
                       key=lambda copy: copy.where.source_line)
        chosen = sorted([*self.replies, *alone], key=lambda copy: copy.where.source_line)
        accounting, display = context.accounting, context.display
        if self.copied:
            accounting.note("Qwen Code records a branch copied from the session it branched "
                            "from (forkedFrom): billed there, not counted again", display, [],
                            count=self.copied)
        if self.nameless:
            accounting.note("Qwen Code functionCall without a name: left out", display,
                            self.nameless[:5], count=len(self.nameless))
        if paired:
            accounting.note("Qwen Code usage written twice (assistant record and ui_telemetry "
                            "api_response): counted once", display, [], count=paired)
        if alone:
            accounting.note("Qwen Code usage only in a ui_telemetry api_response (no assistant "
                            "record): counted from there", display,
                            [copy.where.source_line for copy in alone[:5]], count=len(alone))
        missing = [copy.where.source_line for copy in chosen if copy.model is None]
        if missing:
            accounting.note("Qwen Code usage without a model: unpriced", display, missing[:5],
                            count=len(missing))
        return [Request(copy.where, copy.model, input_tokens=copy.usage.input_tokens,
                        output_tokens=copy.usage.output_tokens,
                        cache_read_tokens=copy.usage.cache_read_tokens,
                        reasoning_tokens=copy.usage.reasoning_tokens,
                        request_id=copy.request_id)
                for copy in chosen]


def _buckets(key: tuple[int | None, ...]) -> Buckets:
    prompt, cached, output, thoughts, tool, total = key
    if prompt is None or output is None:
        raise BadRecord("usage without prompt or output token counts")
    return buckets(prompt=prompt, cached=cached, output=output, thoughts=thoughts, tool=tool,
                   total=total)


def _comparable(key: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """The counts both copies always carry (prompt, cached, output, thoughts), absent ones as
    0: the telemetry writes 0 where usageMetadata leaves a count out."""
    return tuple(value or 0 for value in key[:4])



READER = Reader(AGENT, "Qwen Code session log", recognises, read,
                evidence=lambda head: "records with uuid, sessionId and Gemini-shaped parts")
