"""Inputs in object storage (`s3://bucket/prefix`, `gs://bucket/prefix`), through pyarrow's
file systems: listed like a folder, and each object copied to a local file just before it is
read, so that every reader reads it as it reads a file on disk.

pyarrow comes with the `ray` extra (`pip install 'agentcost[ray]'`). Credentials and the
endpoint are the file system's own: the AWS variables and files (`AWS_ENDPOINT_URL` for an
S3-compatible server), Google's application default credentials.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agentcost.errors import InputError, UsageError

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem

SCHEMES = ("s3://", "gs://", "gcs://")
INSTALL = "pip install 'agentcost[ray]'"
COPY_BYTES = 8 * 1024 * 1024


def is_remote(name: str) -> bool:
    return name.lower().startswith(SCHEMES)


def remote_objects(uri: str, is_trace_name: Callable[[str], bool]) -> list[tuple[str, int]]:
    """(the object's address, its size) of `uri` itself, or of every object under it whose
    name `is_trace_name` accepts, in path order."""
    from pyarrow.fs import FileSelector, FileType

    system, path = _file_system(uri)
    scheme = uri[:uri.index("://") + 3]
    try:
        info = system.get_file_info(path.rstrip("/"))
        if info.type == FileType.File:
            return [(uri, info.size)]
        if info.type == FileType.NotFound and not uri.endswith("/"):
            raise InputError(f"{uri}: no such object or prefix")
        found = system.get_file_info(FileSelector(path.rstrip("/"), recursive=True,
                                                  allow_not_found=True))
    except OSError as error:
        raise InputError(f"{uri}: cannot list: {_first_line(error)}") from error
    objects = sorted(((f"{scheme}{item.path}", item.size) for item in found
                      if item.type == FileType.File and is_trace_name(item.base_name)),
                     key=lambda pair: pair[0].split("/"))
    if not objects:
        raise InputError(f"{uri}: holds no trace files (*.jsonl, *.json, *.gz)")
    return objects


def fetch(uri: str, directory: Path) -> Path:
    """A local copy of the object at `uri`, under `directory` (its bucket and key as folders,
    so that a reader that looks beside a file finds what was fetched beside it)."""
    system, path = _file_system(uri)
    local = directory / path.lstrip("/")
    local.parent.mkdir(parents=True, exist_ok=True)
    try:
        with system.open_input_stream(path) as remote, local.open("wb") as copy:
            shutil.copyfileobj(remote, copy, COPY_BYTES)
    except OSError as error:
        raise InputError(f"{uri}: cannot read: {_first_line(error)}") from error
    return local


def _file_system(uri: str) -> tuple[FileSystem, str]:
    try:
        from pyarrow.fs import FileSystem
    except ImportError as error:
        raise UsageError(f"{uri}: reading object storage needs pyarrow: {INSTALL}") from error
    try:
        return FileSystem.from_uri(uri)  # type: ignore[no-any-return]
    except (OSError, ValueError) as error:
        raise InputError(f"{uri}: {_first_line(error)}") from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
