"""Codex CLI's prompts: which records start one, for the reader of a rollout and for a
sub-agent's look into its parent's rollout.

A task is a turn (`task_started` ... `task_complete`, or `turn_aborted`); a user message sent
while a turn runs steers it and starts none. A user message outside any turn (builds that
write no turn events) starts a task, and a `task_started` that follows it before any work is
that task's turn, not another."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from agentcost.ingest.coding.subagents import PromptStarts
from agentcost.ingest.coding.values import mapping, time_of

# The words on the lines that start or end a turn, or show a request made in one: the only
# lines of a parent's rollout parsed to find its prompts.
SCANNED = (b"task_started", b"task_complete", b"turn_aborted", b"user_message", b"token_count")


@dataclass
class Turns:
    count: int = 0
    times: list[datetime | None] = field(default_factory=list)  # each prompt's start
    in_turn: bool = False
    open: bool = False  # a prompt begun by a user message, nothing done for it yet

    def event(self, kind: Any, when: datetime | None) -> None:
        """An `event_msg` of type `kind`, written at `when`."""
        if kind == "task_started":
            if not self.open:
                self._start(when)
            self.in_turn, self.open = True, False
        elif kind in ("task_complete", "turn_aborted"):
            self.in_turn = False
        elif kind == "user_message" and not self.in_turn:
            self._start(when)
            self.open = True

    def worked(self) -> None:
        """A request or a tool call was made for the current prompt."""
        self.open = False

    def _start(self, when: datetime | None) -> None:
        self.count += 1
        self.times.append(when)

    def starts(self) -> PromptStarts:
        starts = PromptStarts()
        for when in self.times:
            starts.add(when)
        return starts


def parent_prompts(parent: str, path: Path | None) -> PromptStarts | None:
    """When each prompt of the parent session started, from its rollout beside this one (in
    the same day's folder, that month's or that year's); None when it is not found."""
    if path is None:
        return None
    name = f"rollout-*-{parent}.jsonl"
    day = path.parent
    for found in (*day.glob(name), *day.parent.glob(f"*/{name}"),
                  *day.parent.parent.glob(f"*/*/{name}")):
        try:
            with found.open("rb") as handle:
                return _turns(handle).starts()
        except OSError:
            continue
    return None


def _turns(handle: BinaryIO) -> Turns:
    turns = Turns()
    for line in handle:
        if not any(word in line for word in SCANNED):
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if mapping(record).get("type") != "event_msg":
            continue
        payload = mapping(record.get("payload"))
        kind = payload.get("type")
        if kind == "token_count":
            if payload.get("info") is not None:
                turns.worked()
        else:
            turns.event(kind, time_of(record.get("timestamp")))
    return turns
