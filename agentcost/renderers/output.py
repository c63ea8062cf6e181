"""Write a rendered report to stdout or, atomically, to a file."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

from agentcost.errors import AgentCostError


def write_output(text: str | bytes, destination: Path | None) -> None:
    """A regular file is written to a temporary sibling and renamed over the target, so a reader
    (or a cron job killed halfway) never sees half a report. A device or a pipe (`/dev/null`,
    `/dev/stdout`, a FIFO) is written in place: renaming over it would replace it."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if destination is None:
        _write_stdout(data)
        return
    target = destination.resolve()  # through symlinks: the link stays, its target is renewed
    try:
        if target.exists() and not stat.S_ISREG(target.stat().st_mode):
            with target.open("wb") as stream:
                stream.write(data)
            return
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise AgentCostError(f"{destination}: cannot write: {error.strerror}") from error
    try:
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:  # an error or a Ctrl-C: no stray temporary file either way
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise AgentCostError(f"{destination}: cannot write: {error.strerror}") from error


def _write_stdout(data: bytes) -> None:
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a text-only stand-in, as some test harnesses install
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    sys.stdout.flush()
    binary.write(data)
    binary.flush()
