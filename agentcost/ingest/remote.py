"""Inputs in object storage (`s3://bucket/prefix`, `gs://bucket/prefix`), through pyarrow's
file systems: listed like a folder, and each object copied to a local file just before it is
read, so that every reader reads it as it reads a file on disk.

An object is fetched by its path in the file system that listed it, never by an address
made again from its name: a key is data, and a `?` or `#` in it must not change where the
read goes. pyarrow comes with the `ray` extra. Credentials and the endpoint are the file
system's own: the AWS variables and files (`AWS_ENDPOINT_URL` for an S3-compatible server),
Google's application default credentials.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from agentcost.errors import InputError, UsageError

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem

SCHEMES = ("s3://", "gs://", "gcs://")
INSTALL = "pip install 'agentcost-traces[ray]'"
COPY_BYTES = 8 * 1024 * 1024
# How long a Google Cloud Storage call retries before it gives up (without it, a host with no
# route to Google, or no credentials, waits for ever).
GCS_RETRY = timedelta(seconds=20)


def is_remote(name: str) -> bool:
    return name.lower().startswith(SCHEMES)


def remote_objects(named: str, is_trace_name: Callable[[str], bool]
                   ) -> list[tuple[str, str, int]]:
    """(the object's address, its path in the file system of `named`, its size) of the
    object `named`, or of every object under it whose name `is_trace_name` accepts, in path
    order."""
    from pyarrow.fs import FileSelector, FileType

    system, root = file_system(named)
    scheme = named[:named.index("://") + 3].lower()
    try:
        info = system.get_file_info(root)
        if info.type == FileType.File:
            return [(named, root, info.size)]
        if info.type == FileType.NotFound and not named.endswith("/"):
            raise InputError(f"{named}: no such object or prefix")
        found = system.get_file_info(FileSelector(root, recursive=True, allow_not_found=True))
    except (OSError, ValueError) as error:
        raise InputError(f"{named}: cannot list: {first_line(error)}") from error
    objects = sorted(((f"{scheme}{item.path}", item.path, item.size) for item in found
                      if item.type == FileType.File and is_trace_name(item.base_name)),
                     key=lambda listed: listed[1].split("/"))
    if not objects:
        raise InputError(f"{named}: holds no trace files (*.jsonl, *.json, *.gz)")
    return objects


def fetch(named: str, path: str, directory: Path) -> Path:
    """A local copy of the object at `path` in the file system of `named` (what was listed),
    under `directory`, its key's folders kept (a reader that looks beside a file finds what
    was fetched beside it)."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise InputError(f"{path}: an object key with '..' is not copied to this disk")
    local = directory.joinpath(*parts)
    system, _ = file_system(named)
    try:
        local.parent.mkdir(parents=True, exist_ok=True)
        with system.open_input_stream(path) as remote, local.open("wb") as copy:
            shutil.copyfileobj(remote, copy, COPY_BYTES)
    except (OSError, ValueError) as error:
        raise InputError(f"{named.rstrip('/')}: cannot read {path}: {first_line(error)}"
                         ) from error
    return local


def file_system(named: str) -> tuple[FileSystem, str]:
    """The file system of an address the user named, and the path in it (no trailing /)."""
    try:
        from pyarrow import fs
    except ImportError as error:
        raise UsageError(f"{named}: reading object storage needs pyarrow: {INSTALL}") from error
    scheme, rest = named.split("://", 1)
    if not rest.split("/", 1)[0]:
        raise UsageError(f"{named}: name a bucket (and a prefix), not every bucket")
    try:
        if scheme.lower() in ("gs", "gcs"):
            return fs.GcsFileSystem(retry_time_limit=GCS_RETRY), rest.rstrip("/")
        system, path = fs.FileSystem.from_uri(f"{scheme.lower()}://{rest}")
    except (OSError, ValueError) as error:
        raise InputError(f"{named}: {first_line(error)}") from error
    return system, path.rstrip("/")


def first_line(error: BaseException) -> str:
    """An error's message, its first line only."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
