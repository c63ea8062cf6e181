"""The store's manifest: each source read (where it is, how much of it is stored, a hash of
that prefix, the account of its lines) and each Parquet part with its day and row count.
Only parts the manifest lists are read, so a part written by an ingest that did not finish is
never counted; the manifest is replaced atomically, after the parts it names exist."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentcost.errors import InputError
from agentcost.ingest.accounting import LineAccounting, Tally
from agentcost.store.location import RemoteStore, Where, holds_nothing, read_text, write_bytes

MANIFEST = "manifest.json"
STEPS = "steps"
UNTIMED = "untimed"  # the day partition of steps without a start time
LOCK = ".lock"
# 2: parts list the columns they hold no value in. A store of format 1 is read as it is (its
# parts list none), and written as 2 from its next ingest on.
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)


@dataclass
class StoredSource:
    """One input as the store knows it. `stored_bytes` of it were read (up to a line end, for
    logs read line by line), `stored_lines` lines; `prefix_sha256` is the hash of those bytes,
    so that a file that only grew is read from there on. `tail_readable`: its lines stand
    alone (agentcost JSONL), so new lines can be read without the old ones."""

    display: str
    path: str | None
    device: int | None = None
    inode: int | None = None
    stored_bytes: int = 0
    stored_lines: int = 0
    prefix_sha256: str = ""
    tail_readable: bool = False
    accounting: LineAccounting = field(default_factory=LineAccounting)


@dataclass
class Part:
    file: str  # relative to the store
    day: str  # YYYY-MM-DD, or UNTIMED
    rows: int
    # Columns without a value in any of its rows: a read makes them null, not reads them.
    # (A store written before this was kept knows none: all its columns are read.)
    null_columns: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    sources: list[StoredSource] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    next_part: int = 1
    next_seq: int = 0  # the order of the next step stored, across the store
    # The ingest that wrote it (object storage: a writer checks that no other wrote since
    # it read the manifest).
    writer: str = ""

    @property
    def steps(self) -> int:
        return sum(part.rows for part in self.parts)

    def accounting(self) -> LineAccounting:
        """Every source's account of its lines, as if all had been read in one run."""
        merged = LineAccounting()
        for source in self.sources:
            merged.append(source.accounting)
        return merged


def is_store(directory: Where) -> bool:
    return read_text(directory, MANIFEST) is not None


def load_manifest(directory: Where, *, create: bool = False) -> Manifest:
    """The manifest of the store at `directory`; an empty one for a new store when `create`.
    A directory that is not a store is an InputError that says how to make one."""
    text = read_text(directory, MANIFEST)
    path = f"{directory}/{MANIFEST}" if isinstance(directory, RemoteStore) else str(
        directory / MANIFEST)
    if text is None:
        if create and holds_nothing(directory, LOCK):
            return Manifest()
        if create:
            raise InputError(f"--store {directory}: not a steps store (no {MANIFEST}) and not "
                             "empty: name a new or empty directory")
        raise InputError(f"--store {directory}: not a steps store (no {MANIFEST}); make one "
                         f"with `agentcost ingest TRACES --store {directory}`")
    try:
        data = json.loads(text)
        if data.get("format") not in READ_VERSIONS:
            raise InputError(f"{path}: store format {data.get('format')!r}, this agentcost "
                             f"reads formats {' and '.join(map(str, READ_VERSIONS))}")
        return Manifest(
            sources=[_source(item) for item in data["sources"]],
            parts=[Part(**item) for item in data["parts"]],
            next_part=int(data["next_part"]), next_seq=int(data["next_seq"]),
            writer=str(data.get("writer", "")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: unreadable store manifest ({error})") from None


def save_manifest(directory: Where, manifest: Manifest) -> None:
    """Written whole, after the parts it names: a reader sees the old or the new (on disk
    written beside and renamed over; in object storage one object put whole)."""
    data = {"format": FORMAT_VERSION, "next_part": manifest.next_part,
            "next_seq": manifest.next_seq, "writer": manifest.writer,
            "sources": [asdict(source) for source in manifest.sources],
            "parts": [asdict(part) for part in manifest.parts]}
    write_bytes(directory, MANIFEST, (json.dumps(data, indent=1) + "\n").encode("utf-8"))


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One ingest at a time per store: a second waits for the first."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _source(item: dict[str, Any]) -> StoredSource:
    fields = dict(item)
    fields["accounting"] = _accounting(fields.get("accounting") or {})
    return StoredSource(**fields)


def _accounting(data: dict[str, Any]) -> LineAccounting:
    def tallies(key: str) -> dict[str, Tally]:
        return {reason: Tally(int(tally["count"]),
                              [(str(f), int(n)) for f, n in tally["examples"]],
                              [(str(f), int(n)) for f, n in tally["earlier"]])
                for reason, tally in data.get(key, {}).items()}

    return LineAccounting(
        files=[str(name) for name in data.get("files", [])],
        lines_read=int(data.get("lines_read", 0)), lines_used=int(data.get("lines_used", 0)),
        lines_blank=int(data.get("lines_blank", 0)), skipped=tallies("skipped"),
        notes=tallies("notes"), spans_read=int(data.get("spans_read", 0)),
        spans_used=int(data.get("spans_used", 0)), spans_not_steps=tallies("spans_not_steps"),
        spans_skipped=tallies("spans_skipped"),
        formats={str(k): int(v) for k, v in data.get("formats", {}).items()},
        evidence={str(k): str(v) for k, v in data.get("evidence", {}).items()},
        lines_repeated=int(data.get("lines_repeated", 0)),
        spans_repeated=int(data.get("spans_repeated", 0)))
