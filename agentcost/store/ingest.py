"""`agentcost ingest`: add what is new in the inputs to the store, and only that.

Each source is read on its own. A file the store has read before is compared with what was
stored of it (its size and a hash of the prefix stored): unchanged, it is not read; grown, an
agentcost JSONL log is read from where the store stopped (its lines stand alone), any other
file is read again and only the steps not yet held are kept; rewritten, it is read again as a
new version. A log is stored up to its last line end: a line still being written is read
whole by the next ingest. Steps already held (from this or another source) are not stored
twice; the account of lines says so as a run reading the same files would."""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from agentcost.errors import InputError
from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.limits import MAX_LINE_BYTES
from agentcost.ingest.readers.native import READER as NATIVE
from agentcost.ingest.sources import Source, expand_inputs
from agentcost.parallel import Jobs
from agentcost.schema import COLUMN_NAMES
from agentcost.store.identity import KNOWN_COLUMNS, ROW, already_known, known_columns
from agentcost.store.location import RemoteStore, Where
from agentcost.store.manifest import (
    UNTIMED,
    Manifest,
    StoredSource,
    is_store,
    load_manifest,
    locked,
    save_manifest,
)
from agentcost.store.parts import SOURCE_ORDER, STEP_ORDER, scan_parts, write_parts

GZIP_MAGIC = b"\x1f\x8b"
HASH_BLOCK = 1 << 20
# Steps another source stored first, from a format whose repeats are not lines.
ALREADY_STORED = ("steps the store already held (read before, from another source or an "
                  "earlier version of this one): stored once")
CHANGED_SINCE_STORED = ("steps that changed since this log was stored (a response still being "
                        "written then): the stored version is kept, so its figures may fall "
                        "short of the log's; a new store takes the log as it is now")


@dataclass
class SourceRead:
    """What one ingest took from one source."""

    display: str
    lines_read: int = 0
    steps_stored: int = 0
    steps_held: int = 0  # read, but the store held them already
    unchanged: bool = False


@dataclass
class IngestResult:
    sources: list[SourceRead] = field(default_factory=list)
    accounting: LineAccounting = field(default_factory=LineAccounting)  # this ingest's reads
    steps_stored: int = 0
    store_steps: int = 0  # in the whole store, after
    days: list[str] = field(default_factory=list)  # days the new steps were stored under


@dataclass
class _Pending:
    """A source read, before its steps are checked against the store."""

    entry: StoredSource
    steps: pl.DataFrame
    accounting: LineAccounting
    replaces: bool  # the read covers the whole source and its stored steps: the account
    # replaces the stored one, and its steps already stored are no repeat
    report: SourceRead


@dataclass
class Options:
    input_format: str = "auto"
    task_key: str = "trace"
    jobs: Jobs = 1
    max_line_bytes: int = MAX_LINE_BYTES


def ingest(inputs: Sequence[str], directory: Where, options: Options) -> IngestResult:
    """Read `inputs` and store what the store does not hold yet."""
    # Refused before anything is written: a directory that is no store, inputs not found.
    load_manifest(directory, create=True)
    expand_inputs(inputs)
    with writing(directory):
        manifest = load_manifest(directory, create=True)
        if isinstance(directory, RemoteStore):
            read_by, manifest.writer = manifest.writer, secrets.token_hex(8)
        result = IngestResult()
        pending = pending_steps(inputs, directory, manifest, options, result)
        fresh = fresh_steps(directory, manifest, pending, result)
        if fresh.height:
            parts = write_parts(directory, manifest, fresh)
            manifest.parts.extend(parts)
            manifest.next_part += 1
            result.days = sorted({part.day for part in parts})
        result.steps_stored = fresh.height
        manifest.next_seq += fresh.height
        if isinstance(directory, RemoteStore):
            _require_unchanged(directory, read_by)
        save_manifest(directory, manifest)
        result.store_steps = manifest.steps
        return result


@contextmanager
def writing(directory: Where) -> Iterator[None]:
    """On disk, one ingest at a time (a lock); object storage has none to take."""
    if isinstance(directory, RemoteStore):
        yield
        return
    with locked(directory):
        yield


def _require_unchanged(directory: RemoteStore, read_by: str) -> None:
    """Another ingest wrote the manifest since this one read it: this one's manifest would
    drop that one's parts, so it is not written (its parts stay unlisted, never read)."""
    now = load_manifest(directory) if is_store(directory) else Manifest()
    if now.writer != read_by:
        raise InputError(f"--store {directory}: another ingest wrote to this store while this "
                         "one ran; nothing of this one was kept: run it again")


def pending_steps(inputs: Sequence[str], directory: Where, manifest: Manifest,
                  options: Options, result: IngestResult) -> list[_Pending]:
    """Each input's new steps and account, in the order named; the manifest's entries for
    them updated (sources new to it added)."""
    sources, repeated = expand_inputs(inputs)
    for display in repeated:
        result.accounting.note(f"{display}: named more than once, read once", display, [],
                               count=1)
    pending = []
    for source in sources:
        read = _read_source(source, manifest, options)
        result.sources.append(read.report if read is not None else SourceRead(
            source.display, unchanged=True))
        if read is not None:
            pending.append(read)
    return pending


def _read_source(source: Source, manifest: Manifest, options: Options) -> _Pending | None:
    if source.read_once or source.path is None:  # stdin, a pipe: read whole every time
        entry = _entry(manifest, source.display, None, None)
        steps, accounting = _read(source.display, options)
        return _Pending(entry, steps, accounting, False, SourceRead(source.display))
    stat = source.path.stat()
    path = str(source.path.resolve())
    entry = _entry(manifest, source.display, path, (stat.st_dev, stat.st_ino))
    size = stat.st_size
    grown = bool(entry.prefix_sha256) and size >= entry.stored_bytes and _prefix_hash(
        source.path, entry.stored_bytes) == entry.prefix_sha256
    if grown and size == entry.stored_bytes:
        return None
    if grown and entry.tail_readable:
        cut = _last_line_end(source.path, entry.stored_bytes, size)
        if cut == entry.stored_bytes:  # only a line still being written
            return None
        steps, accounting, lines = _read_bytes(source.path, entry.stored_bytes, cut,
                                               entry.display, entry.stored_lines, options)
        entry.stored_bytes, entry.stored_lines = cut, entry.stored_lines + lines
        entry.prefix_sha256 = _prefix_hash(source.path, cut)
        return _Pending(entry, steps, accounting, False,
                        SourceRead(entry.display, accounting.lines_read))
    steps, accounting = _read(source.display, options)
    native = (set(accounting.formats) == {NATIVE.label}
              and not _starts_with(source.path, GZIP_MAGIC))
    stored_bytes = size
    if native:
        stored_bytes = _last_line_end(source.path, 0, size)
        if stored_bytes < size:  # the last line is still being written: read it next time
            steps, accounting, _ = _read_bytes(source.path, 0, stored_bytes, entry.display,
                                               0, options)
    if entry.display != source.display:  # stored under the name it was first read by
        steps, accounting = _renamed(steps, accounting, source.display, entry.display, 0)
    entry.tail_readable = native
    entry.stored_bytes = stored_bytes
    entry.stored_lines = _count_lines(source.path, stored_bytes) if native else 0
    entry.prefix_sha256 = _prefix_hash(source.path, stored_bytes)
    return _Pending(entry, steps, accounting, grown,
                    SourceRead(entry.display, accounting.lines_read))


def fresh_steps(directory: Where, manifest: Manifest, pending: list[_Pending],
           result: IngestResult) -> pl.DataFrame:
    """The pending steps the store does not hold, in order, with their order columns; each
    source's account updated in the manifest."""
    read = [item.steps for item in pending if item.steps.height]
    if not read:
        for item in pending:
            _account(item, manifest, result)
        return pl.DataFrame()
    days = set(pl.concat([frame.select(
        pl.col("start_time").dt.date().cast(pl.String).fill_null(UNTIMED).unique())
        for frame in read])["start_time"].to_list())
    parts = [part for part in manifest.parts if part.day in days]
    known = scan_parts(directory, parts, KNOWN_COLUMNS)
    known_frame = known.select(known_columns(known)).collect()
    kept: list[pl.DataFrame] = []
    for item in pending:
        steps = item.steps
        if steps.height:
            matches = already_known(steps, known_frame)
            repeats = matches
            if item.replaces:  # its own steps stored before are no repeat: not counted
                repeats = matches.filter(pl.col("first_file") != item.entry.display)
                _account_changed(item, matches.filter(
                    (pl.col("first_file") == item.entry.display) & ~pl.col("same")))
            _account_repeats(item, repeats)
            steps = _without(steps, matches[ROW])
            item.report.steps_held += matches.height
            item.report.steps_stored = steps.height
            known_frame = pl.concat([known_frame, steps.select(known_columns(steps))])
            source_number = next(number for number, entry in enumerate(manifest.sources)
                                 if entry is item.entry)
            kept.append(steps.with_columns(pl.lit(source_number, pl.Int64).alias(SOURCE_ORDER)))
        _account(item, manifest, result)
    fresh = pl.concat(kept) if kept else pl.DataFrame()
    if fresh.height:
        fresh = fresh.with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int64) + manifest.next_seq).alias(STEP_ORDER))
    return fresh


def _account(item: _Pending, manifest: Manifest, result: IngestResult) -> None:
    accounting = item.accounting
    if item.replaces:
        item.entry.accounting = accounting
    else:
        item.entry.accounting.append(accounting)
        # one source is one file of its format, however many times it was read
        item.entry.accounting.formats = dict.fromkeys(item.entry.accounting.formats, 1)
    result.accounting.append(accounting)


def _account_repeats(item: _Pending, matches: pl.DataFrame) -> None:
    """Steps another source (or an earlier version of this one) stored first: for agentcost
    JSONL, skipped lines that say which line they repeat, as in one run; else (a line of
    other formats may hold many steps, or none) a note."""
    if matches.is_empty():
        return
    for (reason, same), group in matches.group_by("reason", "same", maintain_order=True):
        places = list(zip(group["source_file"], group["source_line"], strict=True))
        earlier = list(zip(group["first_file"], group["first_line"], strict=True))
        if set(item.accounting.formats) == {NATIVE.label}:
            item.accounting.skip_repeats(str(reason), places, earlier, group.height,
                                         same=bool(same))
            item.accounting.lines_used -= group.height
        else:
            item.accounting.note_repeats(ALREADY_STORED, places, earlier, group.height)


def _account_changed(item: _Pending, changed: pl.DataFrame) -> None:
    """Steps of this log stored before whose figures now differ: said, never silently kept."""
    if changed.height:
        item.accounting.note_repeats(
            CHANGED_SINCE_STORED, list(zip(changed["source_file"], changed["source_line"],
                                           strict=True)),
            list(zip(changed["first_file"], changed["first_line"], strict=True)),
            changed.height)


def _without(steps: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    if rows.is_empty():
        return steps
    keep = pl.repeat(True, steps.height, dtype=pl.Boolean, eager=True).scatter(rows, False)
    return steps.filter(keep)


def _entry(manifest: Manifest, display: str, path: str | None,
           identity: tuple[int, int] | None) -> StoredSource:
    """The manifest's entry for a source: by path; else by device and inode (a log renamed
    by rotation goes on from where it was); else a new one."""
    for entry in manifest.sources:
        if path is not None and entry.path == path:
            return entry
        if path is None and entry.path is None and entry.display == display:
            return entry
    if identity is not None:
        for entry in manifest.sources:
            if entry.path is not None and (entry.device, entry.inode) == identity \
                    and not Path(entry.path).exists():
                entry.path = path
                return entry
    entry = StoredSource(display, path, *(identity or (None, None)))
    manifest.sources.append(entry)
    return entry


def _read(display: str, options: Options) -> tuple[pl.DataFrame, LineAccounting]:
    from agentcost.ingest.read import read_steps

    ingested = read_steps([display], input_format=options.input_format,
                          task_key=options.task_key, jobs=options.jobs,
                          max_line_bytes=options.max_line_bytes, number=False)
    return ingested.steps, ingested.accounting


def _read_bytes(path: Path, start: int, end: int, display: str, lines_before: int,
                options: Options) -> tuple[pl.DataFrame, LineAccounting, int]:
    """Bytes [start, end) of an agentcost JSONL log read as the log, lines numbered on from
    `lines_before`; and how many lines they hold."""
    with tempfile.TemporaryDirectory(prefix="agentcost-ingest-") as temporary:
        piece = Path(temporary) / "piece.jsonl"
        lines = 0
        with open(piece, "wb") as target:
            for block in _blocks(path, start, end):
                target.write(block)
                lines += block.count(b"\n")
        forced = Options(NATIVE.name, options.task_key, options.jobs, options.max_line_bytes)
        steps, accounting = _read(str(piece), forced)
        steps, accounting = _renamed(steps, accounting, str(piece), display, lines_before)
    return steps, accounting, lines


def _renamed(steps: pl.DataFrame, accounting: LineAccounting, old: str, new: str,
             line_offset: int) -> tuple[pl.DataFrame, LineAccounting]:
    """Steps and account read from `old` as if read from `new`, `line_offset` lines on."""
    steps = steps.with_columns(
        pl.lit(new).cast(pl.Categorical).alias("source_file"),
        (pl.col("source_line") + line_offset).alias("source_line"))
    accounting.files = [new if name == old else name for name in accounting.files]
    for tallies in (accounting.skipped, accounting.notes, accounting.spans_not_steps,
                    accounting.spans_skipped):
        for tally in tallies.values():
            tally.examples = [(new if f == old else f, n + line_offset if f == old else n)
                              for f, n in tally.examples]
            tally.earlier = [(new if f == old else f, n + line_offset if f == old else n)
                             for f, n in tally.earlier]
    renamed = {}
    for text, tally in accounting.notes.items():  # notes may name the file in their text
        renamed[text.replace(old, new)] = tally
    accounting.notes = renamed
    return steps.select(COLUMN_NAMES), accounting


def _blocks(path: Path, start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of a file (fewer if it is shorter), a block at a time."""
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left:
            block = handle.read(min(HASH_BLOCK, left))
            if not block:
                return
            yield block
            left -= len(block)


def _prefix_hash(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    for block in _blocks(path, 0, size):
        digest.update(block)
    return digest.hexdigest()


def _last_line_end(path: Path, start: int, size: int) -> int:
    """Where the last whole line in [start, size) ends (start when none does)."""
    with open(path, "rb") as handle:
        end = size
        while end > start:
            begin = max(start, end - HASH_BLOCK)
            handle.seek(begin)
            block = handle.read(end - begin)
            found = block.rfind(b"\n")
            if found >= 0:
                return begin + found + 1
            end = begin
    return start


def _count_lines(path: Path, size: int) -> int:
    return sum(block.count(b"\n") for block in _blocks(path, 0, size))


def _starts_with(path: Path, magic: bytes) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(magic)) == magic

