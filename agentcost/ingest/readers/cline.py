"""Cline and its forks Roo Code and Kilo Code: a task's `ui_messages.json`, the JSON list of the
messages its chat shows (`{ts, type: "say"|"ask", say|ask, text, ...}`).

A request is a `say: "api_req_started"` whose `text` is JSON with `tokensIn`, `tokensOut`,
`cacheWrites`, `cacheReads` and `cost`; `deleted_api_reqs` (requests of deleted messages) and
`subagent_usage` (a batch of sub-agents) carry the same fields and were billed too. Cline keeps
the buckets apart (`tokensIn` without the cache: cline/cline apps/vscode/src/sdk/
message-translator.ts, normalizeUsageEvent). Roo Code marks its requests with `apiProtocol`
and, since 3.30 (RooCodeInc/Roo-Code #8954), counts the cache inside `tokensIn`; before that
only its OpenAI-protocol requests did. So where `apiProtocol` is written, `tokensIn` holds the
cache unless it is smaller than the cache alone. A task's prompts are its first message (the
task) and each `say: "user_feedback"`. The model is the message's `modelInfo.modelId`, or the
task's `task_metadata.json` `model_usage` in force at the time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from agentcost.ingest.coding.values import BadRecord, count, from_epoch_ms, usd
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

    from agentcost.ingest.coding.steps import Request, ToolCall

# The VS Code extension's storage folder names the agent; ~/.cline/data is Cline's own.
AGENT_BY_FOLDER = {"saoudrizwan.claude-dev": "cline", "rooveterinaryinc.roo-cline": "roo-code",
                   "kilocode.kilo-code": "kilo-code"}
DEFAULT_AGENT = "cline"
# Messages that carry the usage of billed requests, and the step name each is given.
USAGE_SAYS = {"api_req_started": "main", "deleted_api_reqs": "deleted requests",
              "subagent_usage": "subagents"}
PROMPT_SAYS = frozenset({"task", "user_feedback"})
# Messages (say or ask) that record a tool call.
TOOL_MESSAGES = frozenset({"tool", "command", "use_mcp_server", "browser_action_launch",
                           "browser_action"})
USAGE_FIELDS = ("tokensIn", "tokensOut", "cacheWrites", "cacheReads")
# Where the first request's text names the working directory (Cline; Roo Code).
WORKING_DIRECTORY_HEADINGS = ("# Current Working Directory (", "# Current Workspace Directory (")
UI_MESSAGES = "ui_messages.json"
TASK_METADATA = "task_metadata.json"


def recognises(head: Head) -> bool:
    item = head.list_item
    return (head.is_list and item is not None and isinstance(item.get("ts"), int)
            and item.get("type") in ("say", "ask") and ("say" in item or "ask" in item))


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.coding.steps import steps_frame

    data = context.whole_document(stream)
    accounting, display = context.accounting, context.display
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    accounting.lines_read += lines
    try:
        messages = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        accounting.skip(f"not valid JSON ({error}); the file is left unread", display, [1],
                        count=lines)
        return []
    if not isinstance(messages, list):
        accounting.skip("not a list of Cline messages; the file is left unread", display, [1],
                        count=lines)
        return []
    accounting.lines_used += lines
    path = context.source.path
    task = _Task(context, session_id=_session_id(path, display),
                 project=_working_directory(messages), models=_model_usage(path))
    for number, message in enumerate(messages, start=1):
        task.take(number, message)
    return [steps_frame(task.requests, task.calls, agent=_agent(path), source_file=display,
                        task_key=context.task_key)]


@dataclass
class _Task:
    context: ReadContext
    session_id: str
    project: str | None
    models: list[tuple[int, str]]  # (from when, model id) of task_metadata.json
    prompt: int = 0
    requests: list[Request] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)

    def take(self, number: int, message: Any) -> None:
        if not isinstance(message, dict):
            self._bad(number, "not a message object")
            return
        kind = message.get("type")
        said = message.get("say") if kind == "say" else None
        asked = message.get("ask") if kind == "ask" else None
        if number == 1 or said in PROMPT_SAYS:
            self.prompt += 1
        if said in USAGE_SAYS:
            self._request(number, message, str(said))
        elif said == "condense_context":
            self._condensing(number, message)
        elif (said or asked) in TOOL_MESSAGES and not message.get("partial"):
            # a tool message still streaming (partial) is a call that never ran
            self._tool_call(number, message, str(said or asked))

    def _where(self, number: int, message: dict[str, Any], name: str | None = None) -> Any:
        from agentcost.ingest.coding.steps import Where

        return Where(self.session_id, max(self.prompt, 1), number,
                     start_time=from_epoch_ms(message.get("ts")), project=self.project,
                     name=name)

    def _request(self, number: int, message: dict[str, Any], said: str) -> None:
        from agentcost.ingest.coding.steps import Request

        info = _json_object(message.get("text"))
        if info is None:
            self._bad(number, f"{said} text is not a JSON object")
            return
        try:
            counts = {name: count(info.get(name), name) for name in USAGE_FIELDS}
            cost = usd(info.get("cost"), "cost")
        except BadRecord as error:
            self._bad(number, f"{said} {error}")
            return
        if not any(counts.values()):  # none recorded, or all 0
            self.context.accounting.note(
                "Cline request with no usage recorded (failed, cancelled or still running "
                "before any came back): not a billed request", self.context.display, [number])
            return
        reads, writes = counts["cacheReads"] or 0, counts["cacheWrites"] or 0
        tokens_in = counts["tokensIn"]
        if tokens_in is not None and "apiProtocol" in info and tokens_in >= reads + writes:
            tokens_in -= reads + writes  # Roo Code: the cache is inside tokensIn
        self.requests.append(Request(
            self._where(number, message, USAGE_SAYS[said]), self._model(message),
            input_tokens=tokens_in, output_tokens=counts["tokensOut"], cache_read_tokens=reads,
            cache_write_5m_tokens=writes,
            # 0 is what Cline writes for a model it has no price for: unknown, not free
            reported_cost_usd=cost or None))

    def _condensing(self, number: int, message: dict[str, Any]) -> None:
        """Roo Code's summary of the conversation: a billed request whose tokens it does not
        record, only its cost."""
        from agentcost.ingest.coding.steps import Request

        condensed = message.get("contextCondense")
        if not isinstance(condensed, dict):
            return  # still running, or it failed: nothing billed is recorded
        try:
            cost = usd(condensed.get("cost"), "contextCondense cost")
        except BadRecord as error:
            self._bad(number, str(error))
            return
        self.requests.append(Request(self._where(number, message, "condense"), None,
                                     input_tokens=None, output_tokens=None,
                                     cache_read_tokens=None, cache_write_5m_tokens=None,
                                     cache_write_1h_tokens=None, reasoning_tokens=None,
                                     reported_cost_usd=cost or None))

    def _tool_call(self, number: int, message: dict[str, Any], kind: str) -> None:
        from agentcost.ingest.coding.steps import ToolCall

        text = message.get("text")
        if kind == "command":
            name, args = "execute_command", json.dumps({"command": text})
        elif kind == "browser_action_launch":
            name, args = "browser_action", json.dumps({"action": "launch", "url": text})
        else:
            info = _json_object(text)
            if info is None:
                self._bad(number, f"{kind} text is not a JSON object")
                return
            name = _tool_name(kind, info)
            args = json.dumps(info.get("arguments") if kind == "use_mcp_server" else info)
        self.calls.append(ToolCall(self._where(number, message, "main"), name, args))

    def _model(self, message: dict[str, Any]) -> str | None:
        info = message.get("modelInfo")
        if isinstance(info, dict) and isinstance(info.get("modelId"), str) and info["modelId"]:
            return str(info["modelId"])
        ts = message.get("ts")
        chosen = None
        for since, model in self.models:
            if chosen is None or (isinstance(ts, int | float) and since <= ts):
                chosen = model
        return chosen

    def _bad(self, number: int, reason: str) -> None:
        self.context.accounting.span_skip(f"Cline message: {reason}", self.context.display,
                                          [number])


def _tool_name(kind: str, info: dict[str, Any]) -> str:
    if kind == "use_mcp_server":
        tool = info.get("toolName") or info.get("uri") or "resource"
        return f"mcp__{info.get('serverName')}__{tool}"
    if kind == "browser_action":
        return "browser_action"
    return str(info.get("tool") or kind)


def _json_object(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _session_id(path: Path | None, display: str) -> str:
    """The task id: the name of the task's folder, which holds ui_messages.json."""
    if path is None:
        return display
    return path.parent.name if path.name == UI_MESSAGES and path.parent.name else path.stem


def _agent(path: Path | None) -> str:
    for part in () if path is None else path.parts:
        if part.lower() in AGENT_BY_FOLDER:
            return AGENT_BY_FOLDER[part.lower()]
    return DEFAULT_AGENT


def _working_directory(messages: list[Any]) -> str | None:
    """The working directory the first request names in its environment details."""
    for message in messages:
        if not (isinstance(message, dict) and message.get("say") == "api_req_started"):
            continue
        info = _json_object(message.get("text"))
        request = info.get("request") if info else None
        if not isinstance(request, str):
            continue
        for heading in WORKING_DIRECTORY_HEADINGS:
            start = request.find(heading)
            if start >= 0:
                start += len(heading)
                end = request.find(")", start)
                return request[start:end] if end > start else None
    return None


def _model_usage(path: Path | None) -> list[tuple[int, str]]:
    """(from when, model id) for each model the task's metadata says it used, in time order."""
    if path is None:
        return []
    try:
        metadata = orjson.loads((path.parent / TASK_METADATA).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return []
    entries = metadata.get("model_usage") if isinstance(metadata, dict) else None
    found = [(int(entry["ts"]), str(entry["model_id"])) for entry in entries or []
             if isinstance(entry, dict) and isinstance(entry.get("ts"), int)
             and isinstance(entry.get("model_id"), str) and entry["model_id"]]
    return sorted(found)


READER = Reader("cline", "Cline / Roo Code / Kilo Code task (ui_messages.json)", recognises,
                read, evidence=lambda head: "a list of say/ask chat messages")
