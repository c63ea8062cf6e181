"""Which executor runs: the one named, or for `auto` the memory executor when the input fits
comfortably in the memory this machine has free, else the local one."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentcost.engine import ENGINES
from agentcost.errors import UsageError

if TYPE_CHECKING:
    from agentcost.engine.protocol import Executor, ReadRequest
    from agentcost.ingest.sources import Source

# The memory executor holds about this many bytes per byte of plain JSON lines read (about
# 470 bytes a step of 250); a gzip file holds about ten times its size in text.
MEMORY_PER_INPUT_BYTE = 2.0
GZIP_RATIO = 10
# A stored step, as JSON lines text would hold it (the memory executor's estimate is by it).
STORED_STEP_BYTES = 250
# "Comfortably": the memory executor's estimated peak is at most this share of what is free.
COMFORTABLE_SHARE = 0.5


def executor_for(engine: str | Executor, reading: ReadRequest) -> Executor:
    from agentcost.engine.memory import MemoryExecutor

    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise UsageError(f"engine={engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "ray":
        from agentcost.engine.ray_cluster import RayExecutor

        return RayExecutor()
    if reading.store is not None:
        if engine == "auto":
            engine = pick(reading.store.rows * STORED_STEP_BYTES, available_bytes())
    elif reading.paths is None:  # steps given as a frame are in memory already
        return MemoryExecutor()
    elif engine == "auto":
        engine = pick(estimated_bytes(reading.paths), available_bytes())
    if engine == "local":  # loaded only when it runs: it brings every reader with it
        from agentcost.engine.local import LocalExecutor

        return LocalExecutor()
    return MemoryExecutor()


def pick(input_bytes: int, available: int | None) -> str:
    """`memory` when the memory executor's estimated peak for `input_bytes` of input is at
    most half of `available` (unknown: memory), else `local`."""
    if available is None or MEMORY_PER_INPUT_BYTE * input_bytes <= COMFORTABLE_SHARE * available:
        return "memory"
    return "local"


def estimated_bytes(paths: Sequence[str]) -> int:
    """The text the inputs hold, as far as their sizes tell (stdin and pipes: nothing). A
    folder's files are sized as they are found, without the reading's sources made of them
    (sorted, each read once): a file named twice counts twice in an estimate."""
    from agentcost.ingest.sources import expand_inputs, trace_files_found

    total = 0
    for path in paths:
        if os.path.isdir(path):
            sized = [(entry.name, entry.stat().st_size) for entry in trace_files_found(path)]
        else:  # a file, a glob, a pipe, object storage
            sized = [(source.display, source.size if source.size is not None
                      else _file_size(source))
                     for source in expand_inputs([path])[0] if not source.read_once]
        # By its name: an estimate is not worth opening every file of a folder for.
        total += sum(size * GZIP_RATIO if name.lower().endswith(".gz") else size
                     for name, size in sized)
    return total


def _file_size(source: Source) -> int:
    assert source.path is not None
    return source.path.stat().st_size


def available_bytes() -> int | None:
    """Memory free for use: the machine's (MemAvailable), or less when this process's
    control group (a container) has a limit with less left under it; None when not known."""
    free = _meminfo_available()
    left = _cgroup_left()
    if free is None or left is None:
        return free if left is None else left
    return min(free, left)


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _cgroup_left(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """What is left under the cgroup v2 memory limit, or None without one."""
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(int(limit) - int((root / "memory.current").read_text().strip()), 0)
    except (OSError, ValueError):
        return None
