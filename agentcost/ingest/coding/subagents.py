"""What sub-agent logs need from their parent session: the prompt that was running when the
sub-agent started (its work is part of that prompt's task), and ids that carry their time.

A sub-agent that writes a log of its own (Codex CLI thread spawns, Gemini CLI sub-agent
conversations) names its parent session; the parent's log, found beside it, tells which
prompt was running. When that log is not there, the sub-agent's work is a task of its own in
the parent session, and the report notes it."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from agentcost.ingest.coding.values import EARLIEST

if TYPE_CHECKING:
    import polars as pl

UUID_LENGTH = 36


@dataclass
class PromptStarts:
    """When each prompt of a session started, in order (prompt n at index n - 1)."""

    times: list[datetime] = field(default_factory=list)

    def add(self, when: datetime | None) -> None:
        """The next prompt's start; one with no time is taken to start with the one before."""
        if when is None:
            when = self.times[-1] if self.times else EARLIEST
        self.times.append(when)

    def prompt_at(self, when: datetime | None) -> int | None:
        """The number of the prompt running at `when`; None when no prompt had started."""
        if when is None or not self.times:
            return None
        running = bisect_right(self.times, when)
        return running or None


def uuid7_milliseconds(value: str | None) -> int | None:
    """The Unix milliseconds a version 7 UUID was made at (Codex CLI's thread and turn ids);
    None for any other id."""
    if value is None or len(value) != UUID_LENGTH or value[14] != "7":
        return None
    digits = value[:8] + value[9:13]
    try:
        return int(digits, 16)
    except ValueError:
        return None


def own_tasks(steps: pl.DataFrame, session_id: str, sub_agent_id: str, task_key: str
              ) -> pl.DataFrame:
    """A sub-agent's steps as a task of its own in its parent session (whose log, which would
    tell the prompt that spawned it, was not found)."""
    import polars as pl

    if task_key == "session" or steps.is_empty():
        return steps
    return steps.with_columns(pl.lit(f"{session_id}/{sub_agent_id}").alias("task_id"))
