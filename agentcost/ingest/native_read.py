"""The native JSONL reader: a clean plain file is decoded by polars whole; anything else (gzip,
stdin, a file with bad or blank lines) in chunks, bad lines found by bisection and named."""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import BinaryIO

import polars as pl

from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.limits import MAX_LINE_BYTES, line_too_long
from agentcost.ingest.native_decode import (
    LINE_COLUMN,
    DecodedChunk,
    KeySighting,
    decode_chunk,
    lines_at,
    probe_schema,
    read_schema,
    sample_keys,
    second_look,
)
from agentcost.ingest.native_fields import KNOWN_KEYS
from agentcost.ingest.native_normalise import (
    MAYBE_NOT_TEXT,
    MISSING_TASK,
    NOTE_COLUMN,
    PROBLEM_COLUMN,
    canonical_columns,
    looks_like_json,
    problems,
    start_time,
)
from agentcost.ingest.sources import (
    GZIP_MAGIC,
    UTF8_BOM,
    Chunk,
    Source,
    first_long_line,
    open_source,
    plain_chunks,
    read_chunks,
)
from agentcost.parallel import read_ahead

EXAMPLE_LINES = 5


class NotCleanInPieces(Exception):
    """A file read in pieces had a line the whole-file decoding would have refused: read it
    again, whole, to account for it as a whole read does (its pieces are already given)."""


def read_native(source: Source, wanted_aliases: set[str], accounting: LineAccounting, *,
                stream: BinaryIO | None = None, missing_task: str = MISSING_TASK,
                max_line_bytes: int = MAX_LINE_BYTES, piece_bytes: int | None = None
                ) -> Iterable[pl.DataFrame]:
    """Canonical steps of one native source. `stream`: the source already opened (stdin, a
    pipe), read from where it stands and left open. `missing_task`: the reason given for lines
    without a task id. A line longer than `max_line_bytes` is skipped as too long.
    `piece_bytes`: a clean plain file bigger than this is decoded piece by piece, each
    piece's steps given as it is taken, with the same steps and accounting as a whole read
    (NotCleanInPieces when a piece finds that it is not clean)."""
    if source.path is not None and not source.read_once:
        if piece_bytes is not None and source.path.stat().st_size > piece_bytes:
            pieces = _clean_file_in_pieces(source, wanted_aliases, accounting, missing_task,
                                           max_line_bytes, piece_bytes)
            if pieces is not None:
                return pieces
        whole = _read_clean_file(source.path, source.display, wanted_aliases, accounting,
                                 missing_task, source.on_read, max_line_bytes)
        if whole is not None:
            return [whole]
    return _read_in_chunks(source, wanted_aliases, accounting, missing_task, max_line_bytes,
                           stream=stream)


def _read_clean_file(
    path: Path, display: str, wanted_aliases: set[str], accounting: LineAccounting,
    missing_task: str, on_read: Callable[[int], None] | None, max_line_bytes: int,
) -> pl.DataFrame | None:
    """The fast path: a plain file whose every line parses is handed to polars whole (memory
    mapped, decoded on all cores). Anything else (gzip, a bad line, blank lines that would
    shift line numbers, a line over the limit) returns None, and the file is read in chunks
    instead. `on_read` hears of the bytes decoded, batch by batch, in proportion to the
    lines."""
    with path.open("rb") as handle:
        if handle.read(2) == GZIP_MAGIC or os.fstat(handle.fileno()).st_size == 0:
            return None
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            if first_long_line(mapped, max_line_bytes) is not None:
                return None
            line_count = count_lines(path)
            if line_count is None:
                return None
            whole = Chunk(mapped, 1, line_count,  # type: ignore[arg-type]
                          ends_unterminated=mapped[-1:] != b"\n")
            sightings = sample_keys(whole)
            try:
                frame = _decode_whole(path, probe_schema(sightings, wanted_aliases), line_count,
                                      len(mapped), on_read)
            except Exception:  # a bad line, or a field the sample missed: the chunks find it
                return None
            if frame.height != line_count:
                return None
            _note_unknown_fields(sightings, whole, display, set(), accounting)
    accounting.lines_read += line_count
    lines = pl.int_range(1, line_count + 1, eager=True, dtype=pl.Int64).alias(LINE_COLUMN)
    decoded = DecodedChunk(frame.with_columns(lines), [], 0)
    return _finish(decoded, display, accounting, missing_task, partial(_lines_of_file, path))


def _clean_file_in_pieces(
    source: Source, wanted_aliases: set[str], accounting: LineAccounting, missing_task: str,
    max_line_bytes: int, piece_bytes: int,
) -> Iterator[pl.DataFrame] | None:
    """The fast path's reading, piece by piece: the same checks first (None when the file is
    not for the fast path), the keys sampled over the whole file, then each line-aligned
    piece decoded with the one schema and numbered through."""
    path, display = source.path, source.display
    assert path is not None
    with path.open("rb") as handle:
        head = handle.read(len(UTF8_BOM))
        if head[:2] == GZIP_MAGIC or head == UTF8_BOM or os.fstat(handle.fileno()).st_size == 0:
            return None
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            if first_long_line(mapped, max_line_bytes) is not None:
                return None
            # Counted piece by piece below: the lines are not known yet, and sampling does
            # not need them.
            whole = Chunk(mapped, 1, 0,  # type: ignore[arg-type]
                          ends_unterminated=mapped[-1:] != b"\n")
            sightings = sample_keys(whole)
            schema = probe_schema(sightings, wanted_aliases)
            _note_unknown_fields(sightings, whole, display, set(), accounting)
            del whole

    def pieces() -> Iterator[pl.DataFrame]:
        first_line = 1
        for piece in plain_chunks(path, piece_bytes, max_line_bytes):
            data = piece.load()
            if b"\x1f" in data:  # where count_lines gives up, and the whole read with it
                raise NotCleanInPieces(display)
            lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            accounting.lines_read += lines
            try:
                frame = pl.read_ndjson(io.BytesIO(data), schema=schema)
            except Exception as error:  # a bad line: the whole read would have fallen back
                raise NotCleanInPieces(display) from error
            if frame.height != lines:  # blank lines
                raise NotCleanInPieces(display)
            if source.on_read is not None:
                source.on_read(len(data))
            del data
            numbers = pl.int_range(first_line, first_line + lines, eager=True, dtype=pl.Int64)
            first_line += lines
            decoded = DecodedChunk(frame.with_columns(numbers.alias(LINE_COLUMN)), [], 0)
            yield _finish(decoded, display, accounting, missing_task,
                          partial(_lines_of_file, path))

    return pieces()


def _decode_whole(path: Path, schema: dict[str, pl.DataType], line_count: int, size: int,
                  on_read: Callable[[int], None] | None) -> pl.DataFrame:
    """The whole file, decoded batch by batch (the same decoding as one read, in the same
    order): a progress display moves, and a signal (Ctrl-C, SIGTERM) is acted on between
    batches rather than after the whole file."""
    batches, rows, told = [], 0, 0
    for batch in pl.scan_ndjson(path, schema=schema).collect_batches():
        batches.append(batch)
        rows += batch.height
        if on_read is not None:
            done = size * min(rows, line_count) // line_count
            on_read(done - told)
            told = done
    return pl.concat(batches) if batches else pl.DataFrame(schema=schema)


def count_lines(path: Path) -> int | None:
    """Lines in a file, blank ones and an unterminated last one included, counted by polars'
    CSV scanner with a separator and no quoting that JSON lines cannot trip over."""
    try:
        counted = (
            pl.scan_csv(path, has_header=False, separator="\x1f", quote_char=None,
                        schema={"line": pl.String()})
            .select(pl.len()).collect().item()
        )
    except Exception:  # a raw \x1f in a line: not valid JSON anyway, let the chunks tell
        return None
    return int(counted)


RawLines = Callable[[list[int]], dict[int, bytes]]


def _lines_of_file(path: Path, lines: list[int]) -> dict[int, bytes]:
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ
                                              ) as mapped:
        return lines_at(mapped, 1, lines)


def _settle_text_fields(checked: pl.DataFrame, rejected: pl.DataFrame, keys: set[str],
                        raw_lines: RawLines) -> pl.DataFrame:
    """Rows held back because a text field may be an object, an array or true/false: their raw
    JSON says which. The wrong type becomes the row's problem; real text clears it."""
    doubtful = rejected.filter(pl.col(PROBLEM_COLUMN) == MAYBE_NOT_TEXT)
    if doubtful.is_empty():
        return checked
    to_look_at = doubtful.filter(looks_like_json(keys))["source_line"].to_list()
    verdicts = second_look(raw_lines(to_look_at), sorted(keys)) if to_look_at else {}
    settled = pl.col("source_line").replace_strict(
        verdicts, default=None, return_dtype=pl.String())
    return checked.with_columns(
        pl.when(pl.col(PROBLEM_COLUMN) == MAYBE_NOT_TEXT).then(settled)
        .otherwise(pl.col(PROBLEM_COLUMN)).alias(PROBLEM_COLUMN))


def _note_unknown_fields(
    sightings: dict[str, KeySighting], chunk: Chunk, display: str, reported: set[str],
    accounting: LineAccounting,
) -> None:
    for key, sighting in sightings.items():
        if key not in KNOWN_KEYS and key not in reported:
            reported.add(key)
            accounting.note(unknown_field_note(key), display, [sighting.first_line(chunk)],
                            count=sighting.lines)


def unknown_field_note(key: str) -> str:
    """Unknown fields are looked for in a sample of the lines only (known ones are read on
    every line): the note says so, and its count is of the sampled lines carrying the field."""
    return f"unknown field {key!r} ignored (found in a sample of the lines; count: sampled lines)"


def _read_in_chunks(
    source: Source, wanted_aliases: set[str], accounting: LineAccounting, missing_task: str,
    max_line_bytes: int, stream: BinaryIO | None = None,
) -> list[pl.DataFrame]:
    frames: list[pl.DataFrame] = []
    full_schema = read_schema(wanted_aliases)
    seen_keys: set[str] = set()  # wanted fields seen so far, in a sample or decoded
    reported_unknown: set[str] = set()
    owned = stream is None
    stream = stream or open_source(source)
    with stream if owned else nullcontext(stream):
        for chunk in read_ahead(read_chunks(stream, max_line_bytes=max_line_bytes)):
            accounting.lines_read += chunk.line_count
            if chunk.stream_error:
                last = chunk.first_line + max(chunk.line_count - 1, 0)
                accounting.note(f"input cut off ({chunk.stream_error})", source.display, [last])
            if chunk.too_long:
                accounting.skip(line_too_long(max_line_bytes), source.display,
                                [chunk.first_line])
                continue
            sightings = sample_keys(chunk)
            _note_unknown_fields(sightings, chunk, source.display, reported_unknown, accounting)
            seen_keys.update(key for key in sightings if key in wanted_aliases)
            decoded = decode_chunk(chunk, probe_schema(seen_keys, wanted_aliases), full_schema)
            decoded.frame = _present(decoded.frame)
            seen_keys.update(name for name in decoded.frame.columns if name != LINE_COLUMN)
            frames.append(_finish(decoded, source.display, accounting, missing_task,
                                  partial(lines_at, chunk.data, chunk.first_line)))
    return frames


def _present(frame: pl.DataFrame) -> pl.DataFrame:
    """The decoded frame without the fields no line of it carries (Null columns of a probe
    among them): a column of nulls changes no check and no value (a line without any token
    field still has unknown usage), so the checks and the canonical columns are built from
    the fields present only."""
    empty = [name for name in frame.columns
             if name != LINE_COLUMN and frame[name].null_count() == frame.height]
    return frame.drop(empty)


def _finish(
    decoded: DecodedChunk, file: str, accounting: LineAccounting, missing_task: str,
    raw_lines: RawLines,
) -> pl.DataFrame:
    """Account for blank and bad lines, reject rows that fail the checks, and give the rest
    canonical columns. `raw_lines` gives the text of lines by number, for a second look."""
    accounting.lines_blank += decoded.blank_lines
    for bad in decoded.bad_lines:
        accounting.skip(bad.reason, file, [bad.line])
    frame = _present(decoded.frame)
    keys = set(frame.columns) - {LINE_COLUMN}
    checked = (
        frame.lazy().with_columns(start_time(frame, keys))
        .with_columns(problems(keys, missing_task)).collect(engine="streaming")
    )
    rejected = checked.filter(pl.col(PROBLEM_COLUMN).is_not_null())
    if rejected.height:
        checked = _settle_text_fields(checked, rejected, keys, raw_lines)
        rejected = checked.filter(pl.col(PROBLEM_COLUMN).is_not_null())
    if rejected.height:
        tallies = rejected.group_by(PROBLEM_COLUMN).agg(
            pl.len().alias("count"), pl.col("source_line").sort().head(EXAMPLE_LINES)
        ).sort(PROBLEM_COLUMN)
        for reason, count, lines in tallies.iter_rows():
            accounting.skip(reason, file, lines, count=count)
    good = (
        checked.lazy().filter(pl.col(PROBLEM_COLUMN).is_null())
        .select(canonical_columns(keys, file)).collect(engine="streaming")
    )
    accounting.lines_used += good.height
    noted = good.filter(pl.col(NOTE_COLUMN).is_not_null())
    if noted.height:
        for note, count, lines in noted.group_by(NOTE_COLUMN).agg(
            pl.len(), pl.col("source_line").sort().head(EXAMPLE_LINES)
        ).iter_rows():
            accounting.note(note, file, lines, count=count)
    return good.drop(NOTE_COLUMN)


