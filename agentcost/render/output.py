"""Write a rendered report to stdout or, atomically, to a file."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from agentcost.errors import AgentCostError


def write_output(text: str, destination: Path | None) -> None:
    """A file is written to a temporary sibling and renamed over the target, so a reader (or a
    cron job killed halfway) never sees half a report."""
    if destination is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    directory = destination.resolve().parent
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", dir=directory)
    except OSError as error:
        raise AgentCostError(f"{destination}: cannot write: {error.strerror}") from error
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise AgentCostError(f"{destination}: cannot write: {error.strerror}") from error
