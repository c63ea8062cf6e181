"""Codex CLI session logs (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`): one record a line,
`{"timestamp", "type", "payload"}`.

A billed request is an `event_msg` of type `token_count`: its `info.last_token_usage` is that
request (`input_tokens` with the cached tokens inside, `output_tokens` with the reasoning
tokens inside), `info.total_token_usage` the running total. Old Desktop builds write every
event twice and begin with one whose `info` is null: an event whose running total equals the
one before it repeats it. The model is the event's own (`info.model`), else the latest
`turn_context`'s. A task is a turn (`task_started` ... `task_complete`); a user message sent
while a turn runs steers it and starts none. Tool calls are `response_item` records; web
searches are OpenAI's web search tool, priced per call.

A rollout forked from another (a sub-agent's thread, a user's fork) first replays the parent's
records: they were billed in the parent and are not counted again. A sub-agent's work belongs
to its parent session and to the prompt that was running when it started."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from agentcost.ingest.coding.codex_turns import Turns, parent_prompts
from agentcost.ingest.coding.steps import Request, ToolCall, Where, steps_frame
from agentcost.ingest.coding.subagents import PromptStarts, own_tasks, uuid7_milliseconds
from agentcost.ingest.coding.values import BadRecord, count, mapping, shown, text_of, time_of
from agentcost.ingest.json_lines import json_records
from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

AGENT = "codex"
# Tuples, not sets: a record's type may be any JSON value, a list among them.
RECORD_TYPES = ("session_meta", "turn_context", "response_item", "event_msg", "compacted")
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)
WEB_SEARCH_TOOL = "openai_web_search"  # OpenAI's web search tool, in the price table
USAGE_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens",
                "reasoning_output_tokens", "total_tokens")
SUB_AGENT = "subagent"
NO_USAGE = "no usage data"


def recognises(head: Head) -> bool:
    record = head.record if head.json_lines else None
    return (record is not None and record.get("type") in RECORD_TYPES
            and isinstance(record.get("payload"), dict) and not set(record) & TASK_ID_NAMES)


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    rollout = Rollout(context.display)
    accounting = context.accounting
    for number, value in json_records(stream, context):
        try:
            earlier = rollout.take(value, number)
        except BadRecord as error:
            accounting.skip(f"Codex CLI record: {error}", context.display, [number])
            continue
        if earlier is None:
            accounting.lines_used += 1
        else:
            accounting.skip_repeats("Codex CLI token_count repeating the one before it",
                                    [(context.display, number)], [(context.display, earlier)],
                                    1)
    rollout.finish(context)
    spawned_in = None
    if rollout.parent_session is not None:
        spawned_in = parent_prompts(rollout.parent_session, context.source.path)
        rollout.attribute_to(spawned_in)
    frame = steps_frame(rollout.requests, rollout.calls, agent=AGENT,
                        source_file=context.display, task_key=context.task_key)
    if rollout.parent_session is not None and spawned_in is None:
        accounting.note(f"Codex CLI sub-agent: its parent session's rollout "
                        f"({rollout.parent_session}) was not found beside it; its work is a "
                        "task of its own in that session", context.display, [1])
        frame = own_tasks(frame, rollout.parent_session, rollout.session_id, context.task_key)
    return [frame]


@dataclass
class Rollout:
    """What one rollout holds, read a record at a time."""

    display: str
    session_id: str = ""
    parent_session: str | None = None  # a sub-agent's: the session it works for
    name: str | None = None  # the sub-agent's role, for its steps
    project: str | None = None
    git_branch: str | None = None
    model: str | None = None  # the latest turn_context's
    turns: Turns = field(default_factory=Turns)
    # A forked rollout's replay of its parent: the rollout's own id's time (ms), whether the
    # replay is still being read, and the parent's running total it ended at.
    own_since_ms: int | None = None
    replaying: bool = False
    replay_total: int | None = None
    replayed_lines: int = 0
    previous_total: tuple[int | None, ...] | None = None
    previous_line: int = 0
    usage_seen: bool = False
    forked: bool = False
    summed: tuple[int | None, int | None] = (0, 0)  # the input and output counted
    null_infos: int = 0
    derived: int = 0
    no_model: list[int] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)

    def take(self, value: Any, number: int) -> int | None:
        """Read one record; for a repeated token_count, the line it repeats."""
        if not isinstance(value, dict):
            raise BadRecord("not a JSON object")
        kind, payload = value.get("type"), value.get("payload")
        if kind not in RECORD_TYPES:
            raise BadRecord(f"unknown record type {shown(kind)}")
        if not isinstance(payload, dict):
            raise BadRecord(f"{kind} without a payload object")
        if kind == "session_meta":
            self._session_meta(payload)
            return None
        if self.replaying and not self._own_turn_starts(kind, payload):
            self.replayed_lines += 1
            if kind == "event_msg" and payload.get("type") == "token_count":
                self._replayed_total(payload)
            return None
        if kind == "turn_context":
            self.model = text_of(payload.get("model")) or self.model
            self.project = text_of(payload.get("cwd")) or self.project
        elif kind == "event_msg":
            return self._event(payload, value, number)
        elif kind == "response_item":
            self._item(payload, value, number)
        return None

    def _session_meta(self, payload: dict[str, Any]) -> None:
        own = text_of(payload.get("id"))
        if self.session_id:  # the parent's, replayed by a fork; or written again on resume
            self.replayed_lines += self.replaying
            return
        self.session_id = own or _id_from_name(self.display)
        self.project = text_of(payload.get("cwd"))
        self.git_branch = text_of(mapping(payload.get("git")).get("branch"))
        source = payload.get("source")
        spawn = mapping(mapping(source).get("subagent") or mapping(source).get("sub_agent"))
        thread = mapping(spawn.get("thread_spawn"))
        self.parent_session = text_of(thread.get("parent_thread_id"))
        if self.parent_session is not None or mapping(source).get("subagent") is not None:
            self.name = (text_of(thread.get("agent_role")) or text_of(payload.get("agent_role"))
                         or text_of(thread.get("agent_nickname"))
                         or text_of(payload.get("agent_nickname")) or SUB_AGENT)
        if text_of(payload.get("forked_from_id")) or self.parent_session is not None:
            self.replaying = self.forked = True
            self.own_since_ms = uuid7_milliseconds(own)

    def _own_turn_starts(self, kind: str, payload: dict[str, Any]) -> bool:
        """Whether this record starts the forked rollout's own first turn, ending the replay:
        a turn made after the fork (its id's time is not older than the rollout's), or, where
        the ids carry no time, the first turn met."""
        if kind != "turn_context" and not (kind == "event_msg"
                                           and payload.get("type") == "task_started"):
            return False
        made = uuid7_milliseconds(text_of(payload.get("turn_id")))
        own = made is None or self.own_since_ms is None or made >= self.own_since_ms
        if own:
            self.replaying = False
        return own

    def _replayed_total(self, payload: dict[str, Any]) -> None:
        total = _usage(mapping(payload.get("info")).get("total_token_usage"), "total")
        if total is not None:
            self.replay_total = max(self.replay_total or 0, _size(total))

    def _event(self, payload: dict[str, Any], record: dict[str, Any], number: int
               ) -> int | None:
        kind = payload.get("type")
        if kind == "token_count":
            return self._token_count(payload, record, number)
        self.turns.event(kind, time_of(record.get("timestamp")))
        return None

    def _token_count(self, payload: dict[str, Any], record: dict[str, Any], number: int
                     ) -> int | None:
        info = payload.get("info")
        if info is None:  # rate limits only
            self.null_infos += 1
            return None
        if not isinstance(info, dict):
            raise BadRecord("token_count info is not an object")
        total = _usage(info.get("total_token_usage"), "total_token_usage")
        last = _usage(info.get("last_token_usage"), "last_token_usage")
        if total is None and last is None:
            raise BadRecord("token_count without total_token_usage or last_token_usage")
        if self.replay_total is not None:  # a fork's own turn: parent rows still replayed
            if total is not None and _size(total) <= self.replay_total:
                self.replayed_lines += 1
                return None
            self.replay_total = None
        if total is not None and total == self.previous_total:
            return self.previous_line
        if last is None:  # the change in the running total is this request
            assert total is not None
            last = _difference(total, self.previous_total)
            self.derived += 1
        prompt, cached = last[0], last[1] or 0
        if prompt is not None and cached > prompt:
            raise BadRecord(f"cached_input_tokens ({cached:,}) exceed input_tokens "
                            f"({prompt:,}) that include them")
        if total is not None:
            self.previous_total, self.previous_line = total, number
        self.usage_seen = True
        self.summed = (_plus(self.summed[0], last[0]), _plus(self.summed[1], last[2]))
        self._request(last, text_of(info.get("model")) or self.model, record, number)
        return None

    def _request(self, usage: tuple[int | None, ...], model: str | None,
                 record: dict[str, Any], number: int) -> None:
        prompt, cached, output = usage[0], usage[1] or 0, usage[2]
        if model is None:
            self.no_model.append(number)
        self.turns.worked()
        self.requests.append(Request(
            self._where(record, number), model,
            input_tokens=None if prompt is None else prompt - cached,
            output_tokens=output, cache_read_tokens=cached))

    def _item(self, payload: dict[str, Any], record: dict[str, Any], number: int) -> None:
        kind = payload.get("type")
        if kind == "function_call" or kind == "custom_tool_call":
            name = text_of(payload.get("name"))
            if name is None:
                raise BadRecord(f"{kind} without a tool name")
            namespace = text_of(payload.get("namespace"))  # an MCP server's tools
            if namespace is not None:
                name = namespace + name if namespace.endswith("__") else f"{namespace}__{name}"
            arguments = payload.get("arguments" if kind == "function_call" else "input")
            call = ToolCall(self._where(record, number), name, _json_text(arguments),
                            text_of(payload.get("call_id")))
        elif kind == "local_shell_call":
            call = ToolCall(self._where(record, number), "local_shell",
                            _json_text(payload.get("action")), text_of(payload.get("call_id")))
        elif kind == "web_search_call":
            call = ToolCall(self._where(record, number), WEB_SEARCH_TOOL,
                            _json_text(payload.get("action")), text_of(payload.get("id")))
        else:
            return
        self.turns.worked()
        self.calls.append(call)

    def _where(self, record: dict[str, Any], number: int) -> Where:
        return Where(self.session_id or _id_from_name(self.display), max(self.turns.count, 1),
                     number, time_of(record.get("timestamp")), self.project, self.git_branch,
                     self.name or "main")

    def finish(self, context: ReadContext) -> None:
        """Say what was left out or not known; a rollout with no usage at all gets one
        request of unknown usage per prompt, so that its prompts are unpriced, never $0."""
        accounting, display = context.accounting, context.display
        if self.null_infos:
            accounting.note("Codex CLI token_count with no usage (info: null), nothing billed",
                            display, [], count=self.null_infos)
        if self.replayed_lines:
            accounting.note("Codex CLI forked rollout: records replayed from the parent "
                            "session, billed there, not counted again", display, [],
                            count=self.replayed_lines)
        if self.derived:
            accounting.note("Codex CLI token_count without last_token_usage: the request's "
                            "usage is the change in the running total", display, [],
                            count=self.derived)
        if self.no_model:
            accounting.note("Codex CLI usage without a model (no turn_context before it): "
                            "unpriced", display, self.no_model[:5], count=len(self.no_model))
        if self.usage_seen:
            self._check_total(context)
            return
        prompts = max(self.turns.count, 1 if self.calls else 0)
        accounting.note(f"{NO_USAGE}: Codex CLI rollout with no token counts; its usage is "
                        "unknown and its prompts unpriced", display, [1], count=max(prompts, 1))
        for prompt in range(1, prompts + 1):
            times = self.turns.times
            when = times[prompt - 1] if prompt <= len(times) else None
            where = Where(self.session_id or _id_from_name(display), prompt, 1, when,
                          self.project, self.git_branch, NO_USAGE)
            self.requests.append(Request(where, self.model, None, None, None, None, None, None))

    def _check_total(self, context: ReadContext) -> None:
        """The requests counted add up to the rollout's last running total (a fork's holds its
        parent's too); where they do not, events were lost or the total restarted."""
        total = self.previous_total
        if self.forked or total is None or None in (total[0], total[2], *self.summed):
            return
        if self.summed != (total[0], total[2]):
            counted_input, counted_output = self.summed
            context.accounting.note(
                f"Codex CLI requests counted (input {counted_input:,}, output "
                f"{counted_output:,}) do not add up to the rollout's running total (input "
                f"{total[0]:,}, output {total[2]:,}): events lost, or the total restarted",
                context.display, [self.previous_line])

    def attribute_to(self, parent: PromptStarts | None) -> None:
        """A sub-agent's steps, into its parent session, under the prompt that was running
        when it started."""
        if self.parent_session is None:
            return
        places = [step.where for step in self.requests] + [step.where for step in self.calls]
        start = min((where.start_time for where in places if where.start_time is not None),
                    default=None)
        prompt = None if parent is None else parent.prompt_at(start)
        for where in places:
            where.session_id = self.parent_session
            where.prompt = prompt or 1


def _usage(value: Any, name: str) -> tuple[int | None, ...] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRecord(f"{name} is not an object")
    return tuple(count(value.get(key), f"{name}.{key}") for key in USAGE_FIELDS)


def _size(usage: tuple[int | None, ...]) -> int:
    """A running total's size: its total_tokens, else input and output."""
    if usage[4] is not None:
        return usage[4]
    return (usage[0] or 0) + (usage[2] or 0)


def _difference(total: tuple[int | None, ...], before: tuple[int | None, ...] | None
                ) -> tuple[int | None, ...]:
    if before is None:
        return total
    change = tuple(None if now is None or then is None else now - then
                   for now, then in zip(total, before, strict=True))
    if any(value is not None and value < 0 for value in change):
        raise BadRecord("token_count: the running total went down and no last_token_usage "
                        "says what this request used")
    return change


def _plus(total: int | None, more: int | None) -> int | None:
    return None if total is None or more is None else total + more


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()



def _id_from_name(display: str) -> str:
    """A rollout's id from its file name (`rollout-<time>-<id>.jsonl`), for a rollout with no
    session_meta."""
    stem = Path(display).name.removesuffix(".gz").removesuffix(".jsonl")
    return stem[-36:] if len(stem) > 36 and stem[-37] == "-" else stem


READER = Reader(AGENT, "Codex CLI session log", recognises, read,
                evidence=lambda head: "records with type and payload (rollout)")
