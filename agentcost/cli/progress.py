"""A progress bar on stderr while inputs are read, only when stderr is a terminal (a cron job's
log stays clean)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agentcost.ingest.read import ReadProgress


class BarProgress:
    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._task: Any = None

    def start(self, total_bytes: int) -> None:
        self._task = self._bar.add_task("reading", total=total_bytes or None)

    def reading(self, name: str) -> None:
        from agentcost.render.text import safe_text

        self._bar.update(self._task, description=f"reading {safe_text(name)}")

    def read(self, size_bytes: int) -> None:
        self._bar.advance(self._task, size_bytes)


@contextmanager
def read_progress() -> Iterator[ReadProgress | None]:
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

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                   BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    with bar:
        yield BarProgress(bar)
