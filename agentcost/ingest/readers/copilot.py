"""GitHub Copilot CLI: a session's `events.jsonl` (`~/.copilot/session-state/<id>/`), one event a
line (`{type, data, id, timestamp, parentId}`; the types are github/copilot-sdk's
nodejs/src/generated/session-events.ts).

Each model request writes an `assistant.message` with its own `outputTokens` (the response's
completion tokens, reasoning inside) and `requestId`. Input and cache come only when the CLI
exits, in the `session.shutdown` rollup: per model, `usage {inputTokens (cache included),
outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens}` and `requests {count, cost}`
(`cost` counts premium requests, GitHub's billing unit, not dollars). A resumed session appends
one shutdown per run (leg), each cumulative: a leg's usage is its shutdown's less the one
before (told from a leg's own by the outputs and request counts the lines record). A leg's
input and cache tokens are spread evenly over its requests of that model, the first ones taking
the remainder of the division: the session's totals are exact, a prompt's share of the input
an even split. Requests after the last shutdown (the CLI still running, or killed) have unknown
input. Tasks are the user's `user.message` lines; a sub-agent's (`agentId`) are not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from agentcost.ingest.coding.values import BadRecord, count, text_of, time_of
from agentcost.ingest.readers.base import Head, ReadContext, Reader

if TYPE_CHECKING:
    import polars as pl

    from agentcost.ingest.coding.steps import Request, ToolCall, Where
    from agentcost.ingest.json_lines import JsonLines

AGENT = "copilot-cli"
EVENTS_FILE = "events.jsonl"
# Every event type the CLI persists (github/copilot-sdk session-events.ts); a line of another
# type is skipped and named.
EVENT_TYPE_NAMES = """
assistant.idle assistant.intent assistant.message assistant.message_delta assistant.message_start
assistant.reasoning assistant.reasoning_delta assistant.server_tool_progress
assistant.streaming_delta assistant.tool_call_delta assistant.turn_end assistant.turn_start
assistant.usage auto_mode_switch.completed auto_mode_switch.requested capabilities.changed
command.completed command.execute command.queued commands.changed elicitation.completed
elicitation.requested exit_plan_mode.completed exit_plan_mode.requested external_tool.completed
external_tool.requested factory.run_settled factory.run_started factory.run_updated hook.end
hook.progress hook.start mcp.headers_refresh_completed mcp.headers_refresh_required
mcp.oauth_completed mcp.oauth_required mcp.prompts.list_changed mcp.resources.list_changed
mcp.tools.list_changed mcp_app.tool_call_complete model.call_failure pending_messages.modified
permission.completed permission.requested sampling.completed sampling.requested
session.auto_mode_resolved session.autopilot_objective_changed session.background_tasks_changed
session.binary_asset session.canvas.closed session.canvas.opened session.canvas.recorded
session.canvas.registry_changed session.canvas.removed session.canvas.unavailable
session.compaction_complete session.compaction_start session.context_changed
session.context_cleared session.custom_agents_updated session.custom_notification session.error
session.extensions.attachments_pushed session.extensions_loaded session.handoff session.idle
session.info session.managed_settings_enforced session.managed_settings_resolved
session.mcp_server_status_changed session.mcp_servers_loaded session.mode_changed
session.model_change session.permissions_changed session.plan_changed
session.remote_steerable_changed session.resume session.schedule_cancelled
session.schedule_created session.schedule_rearmed session.session_limits_changed
session.shutdown session.skills_loaded session.snapshot_rewind session.start
session.task_complete session.title_changed session.todos_changed session.tools_updated
session.truncation session.usage_checkpoint session.usage_info session.warning
session.workspace_file_changed session_limits_exhausted.completed
session_limits_exhausted.requested skill.invoked subagent.completed subagent.deselected
subagent.failed subagent.selected subagent.started system.message system.notification
tool.execution_complete tool.execution_partial_result tool.execution_progress
tool.execution_start tool.user_requested tool_search.activated ui.ephemeral_query user.message
user_input.completed user_input.requested
"""
EVENT_TYPES = frozenset(EVENT_TYPE_NAMES.split())
USAGE_FIELDS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens",
                "reasoningTokens")


def recognises(head: Head) -> bool:
    record = head.record or {}
    kind = record.get("type")
    return (head.json_lines and isinstance(kind, str) and kind in EVENT_TYPES
            and isinstance(record.get("data"), dict) and "id" in record)


def read(stream: BinaryIO, head: Head, context: ReadContext) -> list[pl.DataFrame]:
    from agentcost.ingest.coding.steps import steps_frame
    from agentcost.ingest.json_lines import JsonLines

    lines = JsonLines(stream, context)
    session = _Session(context, _session_id(context.source.path, context.display))
    for number, record in lines:
        session.take(lines, number, record)
    session.finish()
    return [steps_frame(session.requests, session.calls, agent=AGENT,
                        source_file=context.display, task_key=context.task_key)]


@dataclass
class _Usage:
    """One model's usage in a rollup: prompt tokens (cache included), output, cache reads and
    writes, reasoning (inside output), requests and premium requests."""

    prompt: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int
    count: int | None
    premium: float | None

    def minus(self, other: _Usage | None) -> _Usage:
        return self if other is None else self._with(other, -1)

    def plus(self, other: _Usage | None) -> _Usage:
        return self if other is None else self._with(other, 1)

    def _with(self, other: _Usage, sign: int) -> _Usage:
        count = None if self.count is None or other.count is None \
            else self.count + sign * other.count
        premium = None if self.premium is None or other.premium is None \
            else self.premium + sign * other.premium
        return _Usage(self.prompt + sign * other.prompt, self.output + sign * other.output,
                      self.cache_read + sign * other.cache_read,
                      self.cache_write + sign * other.cache_write,
                      self.reasoning + sign * other.reasoning, count, premium)

    def covers(self, other: _Usage) -> bool:
        return (self.prompt >= other.prompt and self.output >= other.output
                and self.cache_read >= other.cache_read and self.cache_write >= other.cache_write)


@dataclass
class _Session:
    context: ReadContext
    session_id: str
    project: str | None = None
    git_branch: str | None = None
    model: str | None = None  # the model selected now
    prompt: int = 0
    requests: list[Request] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    # This leg's requests, keyed by request id (a response split in chunks repeats it).
    leg: dict[str, Request] = field(default_factory=dict)
    outputs_before: int = 0  # the outputs the lines of earlier legs recorded
    requests_before: int = 0
    totals: dict[str, _Usage] = field(default_factory=dict)  # each model's usage so far

    def take(self, lines: JsonLines, number: int, record: dict[str, Any]) -> None:
        kind, data = record.get("type"), record.get("data")
        if not isinstance(kind, str) or kind not in EVENT_TYPES:
            lines.skip(number, f"unknown Copilot CLI record type {str(kind)[:80]!r}")
            return
        if not isinstance(data, dict):
            lines.skip(number, f"Copilot CLI {kind} without its data")
            return
        try:
            self._event(str(kind), data, record, number)
        except BadRecord as error:
            lines.skip(number, f"Copilot CLI {kind}: {error}")
            return
        lines.used(number)

    def _event(self, kind: str, data: dict[str, Any], record: dict[str, Any], number: int
               ) -> None:
        if kind in ("session.start", "session.resume"):
            if kind == "session.start" and isinstance(data.get("sessionId"), str):
                self.session_id = data["sessionId"]
            self._context(data.get("context"))
            self.model = text_of(data.get("selectedModel")) or self.model
        elif kind == "session.context_changed":
            self._context(data)
        elif kind == "session.model_change":
            self.model = text_of(data.get("newModel")) or self.model
        elif kind == "user.message" and not record.get("agentId"):
            self.prompt += 1
        elif kind == "assistant.message":
            self._message(data, record, number)
        elif kind == "tool.execution_start":
            self._tool_call(data, record, number)
        elif kind == "session.shutdown":
            self._shutdown(data, record, number)

    def _context(self, context: Any) -> None:
        if isinstance(context, dict):
            self.project = text_of(context.get("cwd")) or self.project
            self.git_branch = text_of(context.get("branch")) or self.git_branch

    def _where(self, record: dict[str, Any], number: int, name: str | None = None) -> Where:
        from agentcost.ingest.coding.steps import Where

        return Where(self.session_id, max(self.prompt, 1), number,
                     start_time=time_of(record.get("timestamp")), project=self.project,
                     git_branch=self.git_branch, name=name)

    def _message(self, data: dict[str, Any], record: dict[str, Any], number: int) -> None:
        from agentcost.ingest.coding.steps import Request

        output = count(data.get("outputTokens"), "outputTokens")
        key = text_of(data.get("requestId")) or text_of(data.get("messageId")) or f"line {number}"
        earlier = self.leg.get(key)
        if earlier is not None:  # a later chunk of the same response
            if output is not None and (earlier.output_tokens or 0) < output:
                earlier.output_tokens = output
            return
        name = "subagent" if record.get("agentId") else "main"
        # Input and cache are unknown until the leg's shutdown gives them.
        self.leg[key] = Request(self._where(record, number, name),
                                text_of(data.get("model")) or self.model, input_tokens=None,
                                output_tokens=output, cache_read_tokens=None,
                                cache_write_5m_tokens=None,
                                request_id=text_of(data.get("requestId")))

    def _tool_call(self, data: dict[str, Any], record: dict[str, Any], number: int) -> None:
        from agentcost.ingest.coding.steps import ToolCall

        name = text_of(data.get("toolName"))
        if name is None:
            raise BadRecord("tool call without a toolName")
        server = text_of(data.get("mcpServerName"))
        if server is not None:  # an MCP server's tool, as Claude Code names them
            name = f"mcp__{server}__{text_of(data.get('mcpToolName')) or name}"
        arguments = data.get("arguments")
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        who = "subagent" if record.get("agentId") else "main"
        self.calls.append(ToolCall(self._where(record, number, who), name, args,
                                   text_of(data.get("toolCallId"))))

    def _shutdown(self, data: dict[str, Any], record: dict[str, Any], number: int) -> None:
        rollup = _rollup(data.get("modelMetrics"))
        requests = list(self.leg.values())
        leg_outputs = sum(request.output_tokens or 0 for request in requests)
        cumulative = _cumulative(rollup, self.totals, leg_outputs, self.outputs_before,
                                 len(requests), self.requests_before)
        leg = {model: usage.minus(self.totals.get(model) if cumulative else None)
               for model, usage in rollup.items()}
        for model, usage in leg.items():
            self.totals[model] = usage.plus(self.totals.get(model))
        self.outputs_before += leg_outputs
        self.requests_before += len(requests)
        self._spread(requests, leg, record, number)
        self.leg = {}

    def _spread(self, requests: list[Request], leg: dict[str, _Usage], record: dict[str, Any],
                number: int) -> None:
        """Each model's usage in the leg over that model's requests of the leg."""
        from agentcost.ingest.coding.steps import Request

        accounting, display = self.context.accounting, self.context.display
        by_model = {model: [r for r in requests if r.model == model] for model in leg}
        loose = [request for request in requests if request.model not in leg]
        unmatched = [model for model, found in by_model.items() if not found]
        if loose and len(unmatched) == 1:  # requests of no model named: the one left
            for request in loose:
                request.model = unmatched[0]
            by_model[unmatched[0]], loose = loose, []
        if loose:
            accounting.note("GitHub Copilot CLI requests of a model the exit rollup does not "
                            "list: input and cache unknown, unpriced", display, [number],
                            count=len(loose))
        self.requests.extend(loose)
        for model, usage in leg.items():
            found = by_model[model]
            if usage.reasoning:
                accounting.note("GitHub Copilot CLI reasoning tokens, counted inside output",
                                display, [number], count=usage.reasoning)
            if usage.premium:
                accounting.note("GitHub Copilot CLI premium requests (its billing unit, not "
                                "USD)", display, [number], count=round(usage.premium))
            if not found:
                if not (usage.prompt or usage.output):
                    continue
                # billed, with no line of its own: one step holds it
                found = [Request(self._where(record, number, "unattributed"), model, None,
                                 None)]
            if not _share(usage, found):
                accounting.note("GitHub Copilot CLI rollup whose inputTokens are fewer than "
                                "its cache tokens: input unknown, unpriced", display, [number])
            self.requests.extend(found)
            accounting.note("GitHub Copilot CLI input and cache tokens: one total per model "
                            "at exit, spread evenly over that run's requests", display,
                            [number], count=len(found))

    def finish(self) -> None:
        """Requests after the last shutdown: their input is unknown."""
        if self.leg:
            self.context.accounting.note(
                "GitHub Copilot CLI requests after the last session.shutdown (still running, "
                "or stopped): input and cache unknown, unpriced", self.context.display,
                [next(iter(self.leg.values())).where.source_line], count=len(self.leg))
        self.requests.extend(self.leg.values())
        self.leg = {}


def _share(usage: _Usage, requests: list[Request]) -> bool:
    """The leg's buckets over its requests: input and cache evenly; output the lines did not
    record (or more than they recorded) evenly too. False when the input cannot be known."""
    uncached = usage.prompt - usage.cache_read - usage.cache_write
    if uncached < 0:  # not a prompt count that holds its cache: the input stays unknown
        return False
    parts = len(requests)
    for request, tokens, reads, writes in zip(
            requests, _even(uncached, parts), _even(usage.cache_read, parts),
            _even(usage.cache_write, parts), strict=True):
        request.input_tokens, request.cache_read_tokens = tokens, reads
        request.cache_write_5m_tokens = writes
    extra = usage.output - sum(request.output_tokens or 0 for request in requests)
    if extra >= 0:  # else the lines' own outputs stand
        takers = [request for request in requests if request.output_tokens is None] or requests
        for request, more in zip(takers, _even(extra, len(takers)), strict=True):
            request.output_tokens = (request.output_tokens or 0) + more
    return True


def _even(total: int, parts: int) -> list[int]:
    """`total` in `parts` whole shares, the first `total % parts` one more."""
    share, left = divmod(total, parts)
    return [share + (1 if index < left else 0) for index in range(parts)]


def _cumulative(rollup: dict[str, _Usage], totals: dict[str, _Usage], leg_outputs: int,
                outputs_before: int, leg_requests: int, requests_before: int) -> bool:
    """Whether a shutdown's rollup counts the earlier legs too: its outputs (or else its
    request counts) match the whole session's lines and not this leg's; failing both, whether
    it covers every bucket of the totals so far."""
    if not totals:
        return False  # the first leg: the same either way
    for rolled, leg, whole in (
            (sum(usage.output for usage in rollup.values()), leg_outputs,
             leg_outputs + outputs_before),
            (_count(rollup), leg_requests, leg_requests + requests_before)):
        if rolled is not None and leg != whole:
            if rolled == whole:
                return True
            if rolled == leg:
                return False
    return all(model in rollup and rollup[model].covers(usage) for model, usage in totals.items())


def _count(rollup: dict[str, _Usage]) -> int | None:
    counts = [usage.count for usage in rollup.values()]
    return None if None in counts else sum(count or 0 for count in counts)


def _rollup(metrics: Any) -> dict[str, _Usage]:
    if not isinstance(metrics, dict):
        raise BadRecord("modelMetrics is not an object")
    found = {}
    for model, metric in metrics.items():
        usage = metric.get("usage") if isinstance(metric, dict) else None
        if not isinstance(usage, dict):
            raise BadRecord(f"modelMetrics {model!r} has no usage")
        counts = {name: count(usage.get(name), name) for name in USAGE_FIELDS}
        if counts["inputTokens"] is None or counts["outputTokens"] is None:
            raise BadRecord(f"modelMetrics {model!r} usage without inputTokens or outputTokens")
        requests = metric.get("requests") if isinstance(metric.get("requests"), dict) else {}
        request_count = count(requests.get("count"), "requests count")
        premium = requests.get("cost")
        found[str(model)] = _Usage(
            counts["inputTokens"] or 0, counts["outputTokens"] or 0,
            counts["cacheReadTokens"] or 0, counts["cacheWriteTokens"] or 0,
            counts["reasoningTokens"] or 0, request_count,
            float(premium) if isinstance(premium, int | float) and premium >= 0 else None)
    return found


def _session_id(path: Path | None, display: str) -> str:
    """Until session.start names it: the session's folder, which holds events.jsonl."""
    if path is None:
        return display
    return path.parent.name if path.name == EVENTS_FILE and path.parent.name else path.stem


READER = Reader("copilot-cli", "GitHub Copilot CLI session (events.jsonl)", recognises, read,
                evidence=lambda head: "session events with type and data")
