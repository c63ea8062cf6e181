"""Claude Code files parsed in batches, on several processes when the run asks for them.

A projects folder is thousands of files of a few hundred KB: each plain file is only noted
while the run's files are recognised, and parsed once all are known, in batches of about
BATCH_BYTES (a batch per task keeps the work per task large beside its fixed cost).
`parallel.ordered_map` shares the batches among processes; results come back in file order, so
the rows and the line accounting are the same whatever the number of processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.coding.claude_lines import ClaudeRows, ParseOptions, read_claude_file

BATCH_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Deferred:
    """A plain file to parse: its number in the run, how it is shown, where it is."""

    file: int
    display: str
    path: Path
    size: int


@dataclass
class Parsed:
    """What one batch gave: its rows (as frames), the account of its lines, and the file
    that could not be read, if one could not."""

    rows: ClaudeRows
    accounting: LineAccounting
    error: str | None = None


@dataclass(frozen=True)
class ParseBatch:
    """Parses a batch of files. A value, so that it pickles for a worker process."""

    options: ParseOptions

    def __call__(self, batch: list[Deferred]) -> Parsed:
        rows, accounting = ClaudeRows(), LineAccounting()
        for each in batch:
            try:
                with each.path.open("rb") as stream:
                    read_claude_file(stream, each.display, each.file, accounting, rows,
                                     self.options, size=each.size)
            except OSError as error:  # gone or unreadable since it was recognised
                return Parsed(rows, accounting, f"{each.display}: {error}")
        rows.flush()
        return Parsed(rows, accounting)


def batches(files: list[Deferred]) -> Iterator[list[Deferred]]:
    """Consecutive files, about BATCH_BYTES a batch."""
    batch: list[Deferred] = []
    size = 0
    for each in files:
        batch.append(each)
        size += each.size
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
