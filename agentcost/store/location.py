"""Where a store is: a directory on this machine (or a shared disk), or a prefix in object
storage (`s3://bucket/prefix`, `gs://bucket/prefix`) read and written through pyarrow's file
systems, with the credentials and endpoint of the environment (ingest/remote.py).

Every reader of the store goes through here: the manifest as text, the parts as Parquet, by
their path relative to the store. A remote store is named by its address only, so that it
travels to a cluster's tasks as text and each opens its own file system there."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from agentcost.errors import InputError, UsageError
from agentcost.ingest.remote import file_system, first_line, is_remote

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem


@dataclass(frozen=True)
class RemoteStore:
    """A store in object storage: `address` as named, without a trailing /."""

    address: str

    def __str__(self) -> str:
        return self.address

    def system(self) -> tuple[FileSystem, str]:
        """The file system and the store's path in it."""
        return file_system(self.address)


Where = Path | RemoteStore


def store_at(name: str | PathLike[str]) -> Where:
    """The store `name` names: an object-storage address, else a directory."""
    text = os.fspath(name)
    if is_remote(text):
        return RemoteStore(text.rstrip("/"))
    return Path(text)


def read_text(where: Where, relative: str) -> str | None:
    """The text of the store's file `relative`; None when there is none."""
    if isinstance(where, Path):
        local = where / relative
        try:
            return local.read_text(encoding="utf-8") if local.is_file() else None
        except (OSError, ValueError) as error:
            raise InputError(f"{local}: cannot read: {first_line(error)}") from None
    from pyarrow.fs import FileType

    system, root = where.system()
    path = f"{root}/{relative}"
    try:
        if system.get_file_info(path).type != FileType.File:
            _require_bucket(where, system, root)
            return None
        with system.open_input_stream(path) as stream:
            return bytes(stream.read()).decode("utf-8")
    except (OSError, ValueError) as error:
        raise UsageError(f"--store {where}: cannot read {relative}: {first_line(error)}"
                         ) from None


def holds_nothing(where: Where, ignored: str) -> bool:
    """The store's place does not exist or is empty (but for a file named `ignored`)."""
    if isinstance(where, Path):
        return not where.exists() or (where.is_dir() and not any(
            entry.name != ignored for entry in where.iterdir()))
    from pyarrow.fs import FileSelector

    system, root = where.system()
    try:
        _require_bucket(where, system, root)
        found = system.get_file_info(FileSelector(root, recursive=False, allow_not_found=True))
    except (OSError, ValueError) as error:
        raise UsageError(f"--store {where}: cannot list: {first_line(error)}") from None
    return all(item.base_name == ignored for item in found)


def write_bytes(where: Where, relative: str, data: bytes) -> None:
    """`data` as the store's file `relative`. On disk, written beside and renamed over, so
    that a reader sees the old file or the new one; in object storage one object is put
    whole, which a reader also sees all or nothing of."""
    if isinstance(where, Path):
        target = where / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        return
    system, root = where.system()
    try:
        with system.open_output_stream(f"{root}/{relative}") as stream:
            stream.write(data)
    except (OSError, ValueError) as error:
        raise InputError(f"{where}: cannot write {relative}: {first_line(error)}") from None


def write_parquet(where: Where, relative: str, frame: pl.DataFrame) -> None:
    buffer = io.BytesIO()
    # LZ4: read back nearly as fast as uncompressed (every report reads the parts), in about
    # 60% of the disk.
    frame.write_parquet(buffer, compression="lz4", statistics=True)
    write_bytes(where, relative, buffer.getvalue())


def scan_files(where: Where, relatives: Sequence[str], columns: Sequence[str],
               schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    """`columns` of the store's Parquet files `relatives`, one after another."""
    if isinstance(where, Path):
        return pl.scan_parquet([str(where / relative) for relative in relatives],
                               hive_partitioning=False).select(*columns)
    return pl.concat([read_file(where, relative, columns, schema) for relative in relatives],
                     how="vertical").lazy()


def read_file(where: Where, relative: str, columns: Sequence[str],
              schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`columns` of the store's Parquet file `relative`, with the dtypes of `schema` (in
    object storage only those columns' bytes are fetched)."""
    if isinstance(where, Path):
        return pl.read_parquet(where / relative, columns=list(columns), hive_partitioning=False)
    import pyarrow.parquet as parquet

    system, root = where.system()
    try:
        with system.open_input_file(f"{root}/{relative}") as handle:
            table = parquet.ParquetFile(handle).read(columns=list(columns))
    except (OSError, ValueError) as error:
        raise InputError(f"{where}: cannot read {relative}: {first_line(error)}") from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(name).cast(schema[name]) for name in columns)


def _require_bucket(where: RemoteStore, system: FileSystem, root: str) -> None:
    """A bucket that does not exist (or that these credentials may not see) is said as
    such, not taken for an empty store."""
    from pyarrow.fs import FileType

    bucket = root.split("/", 1)[0]
    if system.get_file_info(bucket).type == FileType.NotFound:
        raise UsageError(f"--store {where}: no bucket {bucket!r} (or these credentials may "
                         "not see it)")
