"""Write a rendered report to stdout, into a descriptor, device or pipe, or atomically to a file."""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from agentcost.errors import AgentCostError

if TYPE_CHECKING:
    from agentcost.analysis.report import Report

# The folders whose entries are this process's open descriptors, once resolved: /proc/self/fd
# and /dev/fd become /proc/<pid>/fd, /proc/thread-self/fd becomes /proc/<pid>/task/<tid>/fd.
_DESCRIPTOR_FOLDER = re.compile(r"/proc/(\d+)(?:/task/\d+)?/fd|/dev/fd")
_SYMLINKS_FOLLOWED = 40  # as the kernel does before ELOOP


def write_output(text: str | bytes, destination: Path | None) -> None:
    """Where the report goes, by what `destination` names:

    - one of our open descriptors (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
      `/proc/self/fd/N`): written into that descriptor, as the shell opened it, whatever it is
      (a pipe, a terminal, a file opened with `>` or `>>`), as if it were stdout;
    - another device, a named pipe or a socket (`/dev/null`, a FIFO): written into;
    - a regular file, or none yet: written to a temporary sibling and renamed over the target,
      so a reader (or a cron job killed halfway) never sees half a report. Through a symlink the
      link stays and the file it points to is renewed.

    A reader that closes early (`| head`) ends the writing quietly: what it did not read is
    dropped, the command goes on, and later writes to that descriptor are discarded."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if destination is None:
        _write_stdout(data)
        return
    try:
        descriptor = _own_descriptor(destination)
        if descriptor is not None:
            os.stat(destination)  # not open: "No such file or directory", as for any path
            if not os.get_inheritable(descriptor):
                # Made here, close-on-exec (the runtime's, polars' own), not handed to us.
                raise AgentCostError(f"{destination}: cannot write: not a descriptor that "
                                     "agentcost was given")
            _write_descriptor(data, descriptor)
            return
        if _is_there_and_not_a_regular_file(destination):
            _write_into(data, destination)
            return
        # Through symlinks: the link stays, its target is renewed. A loop is an error here.
        target = Path(os.path.realpath(destination, strict=False))
        mode = _mode_for(target)
        _remove_stale_temporaries(target)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.",
                                             suffix=TEMPORARY_SUFFIX, dir=target.parent)
    except OSError as error:
        raise AgentCostError(f"{destination}: cannot write: {error.strerror}") from error
    try:
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:  # an error, Ctrl-C or SIGTERM: no stray temporary file
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise AgentCostError(f"{destination}: cannot write: {error.strerror}") from error


TEMPORARY_SUFFIX = ".agentcost-tmp"


def _mode_for(target: Path) -> int:
    """The replaced file's permissions (a private report stays private); for a new file, what
    the umask gives, as for any file the user creates."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_stale_temporaries(target: Path) -> None:
    """Temporary siblings of `target` left by a run killed outright (SIGKILL, out of memory)
    while writing: named by that run's pid, they are removed once no such process lives."""
    for left in target.parent.glob(f".{glob.escape(target.name)}.*{TEMPORARY_SUFFIX}"):
        pid = left.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                left.unlink()
                print(f"agentcost: removed {left}, left by an earlier run that was killed "
                      "while writing", file=sys.stderr)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _own_descriptor(path: Path) -> int | None:
    """The descriptor of this process that `path` names, through symlinks (`/dev/stdout` ->
    `/proc/self/fd/1`), or None. Each link is followed one step at a time: the last, from
    `/proc/self/fd/1` to `pipe:[12345]` or `/dev/pts/0`, would lose what it was."""
    current = os.path.abspath(path)
    for _ in range(_SYMLINKS_FOLLOWED):
        folder, name = os.path.split(current)
        folder = os.path.realpath(folder)
        if name.isdigit() and _is_descriptor_folder(folder):
            return int(name)
        current = os.path.join(folder, name)
        if not os.path.islink(current):
            return None
        current = os.path.join(folder, os.readlink(current))
    return None


def _is_descriptor_folder(folder: str) -> bool:
    match = _DESCRIPTOR_FOLDER.fullmatch(folder)
    return match is not None and match.group(1) in (None, str(os.getpid()))


def _is_there_and_not_a_regular_file(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode  # the path as given: resolving `pipe:[…]` finds nothing
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(mode)


def _write_stdout(data: bytes) -> None:
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a text-only stand-in, as some test harnesses install
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    try:
        sys.stdout.flush()
        binary.write(data)
        binary.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):
            discard_further_writes(sys.stdout.fileno())
    except OSError as error:  # a full disk, /dev/full
        with contextlib.suppress(OSError, ValueError):
            discard_further_writes(sys.stdout.fileno())
        raise AgentCostError(f"cannot write to stdout: {error.strerror}") from error


def _write_descriptor(data: bytes, descriptor: int) -> None:
    """Into a descriptor we inherited, after what Python holds for stdout and stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        _write_all(descriptor, data)
    except BrokenPipeError:
        discard_further_writes(descriptor)


def _write_into(data: bytes, path: Path) -> None:
    """Into a device, a named pipe (waiting for its reader) or a socket, opened by path."""
    descriptor = os.open(path, os.O_WRONLY)
    try:
        with contextlib.suppress(BrokenPipeError):  # the reader has had enough
            _write_all(descriptor, data)
    finally:
        os.close(descriptor)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def discard_further_writes(descriptor: int) -> None:
    """Its reader is gone: what is still buffered for it, or printed to it later, goes to the
    null device, not into an error at exit ("Exception ignored … BrokenPipeError")."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def write_tasks_parquet(report: Report, destination: Path) -> None:
    """Every task's row, costliest first, as a Parquet file written as `write_output` writes
    (atomically, through symlinks)."""
    from agentcost.analysis.report import sort_tasks

    buffer = io.BytesIO()
    sort_tasks(report.tasks, "total_cost_usd", top=None).write_parquet(buffer)
    write_output(buffer.getvalue(), destination)
