"""What the reading commands share around the library call: the --jobs value, the progress bar,
the lines skipped on stderr, and whether to colour the output."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from agentcost.ingest.accounting import LineAccounting, Tally
    from agentcost.ingest.read import ReadProgress
    from agentcost.parallel import Jobs


@contextmanager
def reading(jobs: str, task_key: str = "trace") -> Iterator[Jobs]:
    """The --jobs and --task-key values checked; lines a read could not use are printed on
    stderr when it finds none usable, before the error that ends the command."""
    from agentcost.api import NoUsableInput, check_task_key

    check_task_key(task_key, called="--task-key")
    parsed = parse_jobs(jobs)
    interruptible_reads()
    try:
        yield parsed
    except NoUsableInput as error:
        print_skips(error.accounting)
        raise


def refuse_output_over_inputs(output: Path | None, inputs: list[str]) -> None:
    """`-o` naming one of the inputs (itself, through a symlink or a hard link) would replace
    the trace log with the report: refused before anything is read or written."""
    import os

    from agentcost.errors import UsageError

    if output is None:
        return
    from agentcost.ingest.sources import expand_inputs

    try:
        written = os.stat(output)
    except OSError:  # not there yet (or not reachable): it cannot be an input
        return
    for source in expand_inputs(inputs)[0]:
        try:  # stdin: the file or pipe the shell gave it
            read = os.fstat(0) if source.path is None else source.path.stat()
        except OSError:  # no stdin at all: nothing to replace
            continue
        if (read.st_dev, read.st_ino) == (written.st_dev, written.st_ino):
            raise UsageError(f"-o {output}: it is the input {source.display}; writing the "
                             "report there would replace the traces")


def interruptible_reads() -> None:
    """Let Ctrl-C end a read that waits on a pipe, a FIFO or a terminal. polars, once
    imported, handles SIGINT with a handler that has such reads restart instead of fail, so
    Python never sees the interruption; the handler is kept, the restarting is turned off."""
    import signal

    import polars  # noqa: F401  (its handler is installed at import: change it after)

    if hasattr(signal, "siginterrupt"):
        signal.siginterrupt(signal.SIGINT, True)


def parse_jobs(text: str) -> Jobs:
    from agentcost.errors import UsageError
    from agentcost.parallel import MAX_JOBS

    if text.strip() == "auto":
        return "auto"
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs {text!r}: write a number of processes (1 to {MAX_JOBS}) or "
                         "auto")
    return jobs


def use_color(color: bool | None, *, to_file: bool) -> bool:
    return color if color is not None else (not to_file and sys.stdout.isatty())


def print_skips(accounting: LineAccounting) -> None:
    from agentcost.renderers.text import first_of_each, lines_list, plural, safe_text

    def most_first(tallies: dict[str, Tally]) -> list[tuple[str, Tally, str]]:
        ordered = sorted(tallies.items(), key=lambda item: (-item[1].count, item[0]))
        found = []
        for reason, tally in ordered:
            where = lines_list(tally.examples, single_file=False)
            repeats = first_of_each(tally, single_file=False)
            found.append((safe_text(reason), tally, f"{where} ({repeats})" if repeats else where))
        return found

    if accounting.lines_skipped:
        print(f"agentcost: {accounting.lines_skipped:,} of {plural(accounting.lines_read, 'line')} "
              "skipped", file=sys.stderr)
    for reason, tally, where in most_first(accounting.skipped):
        print(f"  {tally.count:,} x {reason}: {where}", file=sys.stderr)
    for reason, tally, where in most_first(accounting.spans_skipped):
        print(f"agentcost: {plural(tally.count, 'span')} skipped, {reason}: {where}",
              file=sys.stderr)


class BarProgress:
    """Tells a rich progress bar what is being read."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._task: Any = None
        self._stages: Any = None

    def start(self, total_bytes: int) -> None:
        self._task = self._bar.add_task("reading", total=total_bytes or None)

    def reading(self, name: str) -> None:
        from agentcost.renderers.text import safe_text

        self._bar.update(self._task, description=f"reading {safe_text(name)}")

    def read(self, size_bytes: int) -> None:
        self._bar.advance(self._task, size_bytes)

    def stage(self, name: str, number: int, total: int) -> None:
        from agentcost.renderers.text import safe_text

        if self._stages is None:
            self._bar.update(self._task, visible=False)
            self._stages = self._bar.add_task("", total=total, stages=True)
        self._bar.update(self._stages, description=f"{safe_text(name)} ({number}/{total})",
                         completed=number - 1)


@contextmanager
def read_progress() -> Iterator[ReadProgress | None]:
    """A progress bar on stderr while inputs are read, only when stderr is a terminal (a cron
    job's log stays clean)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class BytesRead(DownloadColumn):
        """Bytes for the reading, nothing for the stages (their count is in the text)."""

        def render(self, task: Any) -> Text:
            return Text("") if task.fields.get("stages") else super().render(task)

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                   BarColumn(), BytesRead(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    with bar:
        yield BarProgress(bar)
