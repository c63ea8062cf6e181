"""Read trace inputs into the canonical step table, accounting for every line."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Collection, Generator, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Protocol, cast

import polars as pl

from agentcost.errors import InputError
from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.canonical_json import canonical_tool_args
from agentcost.ingest.duplicates import drop_duplicates
from agentcost.ingest.limits import (
    MAX_LINE_BYTES,
    binary_data,
    check_max_line_bytes,
    document_too_big,
)
from agentcost.ingest.native_fields import CONCEPTS_FOR_COLUMN, FIELDS_BY_CONCEPT
from agentcost.ingest.readers import (
    AUTO,
    head_of,
    reader_named,
    recognise,
    recognise_binary,
)
from agentcost.ingest.readers.base import Finishing, Head, ReadContext, Reader
from agentcost.ingest.readers.native import READER as NATIVE
from agentcost.ingest.sources import (
    READ_PIECE_BYTES,
    UTF8_BOM,
    PrependedStream,
    Source,
    expand_inputs,
    open_source,
    read_block,
)
from agentcost.ingest.span_read import RunSpans
from agentcost.ingest.steps import Ingested as Ingested
from agentcost.ingest.steps import number_steps as number_steps
from agentcost.parallel import Jobs, jobs_for
from agentcost.schema import COLUMN_NAMES, conform

# Concepts every command needs: identity (the step id tells a native step read twice),
# ordering, and all token buckets (the uncached input is derived from the prompt and the cache
# fields together).
CORE_CONCEPTS = frozenset({
    "task_id", "step", "span_id", "start_time", "kind", "model", "prompt_tokens",
    "uncached_input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
    "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "tool_name", "service_tier",
})
SNIFF_BYTES = 16 * 1024
NOT_A_TRACE_KEYS_SHOWN = 8


class ReadProgress(Protocol):
    """Told what is being read, then which stage of the work after it is under way (a
    simulation's replays), for a progress display; the work does not depend on it."""

    def start(self, total_bytes: int) -> None: ...
    def reading(self, name: str) -> None: ...
    def read(self, size_bytes: int) -> None: ...
    def stage(self, name: str, number: int, total: int) -> None: ...


def read_steps(
    inputs: Sequence[str],
    *,
    columns: Collection[str] | None = None,
    input_format: str = "auto",
    task_key: str = "trace",
    progress: ReadProgress | None = None,
    jobs: Jobs = 1,
    max_line_bytes: int = MAX_LINE_BYTES,
    number: bool = True,
) -> Ingested:
    """Read every input into canonical steps. `columns` limits which canonical columns are
    filled (others stay null): native fields nobody asked for are not even decoded.
    `input_format` forces a format instead of recognising it; `task_key` groups spans into
    tasks by trace (default), session, or `resource.NAME` / `attribute.NAME`. `progress`
    hears of each source as it is read (for a progress bar). `jobs`: the processes a big span
    file is read on ("auto": every usable core, for a file big enough to repay them).
    `max_line_bytes`: a longer line is skipped as too long, a larger JSON document refused.
    `number`: fill missing step numbers (the steps store numbers them when it reads them
    back, among all of each task's steps, as a log read in pieces leaves them unknown)."""
    reading = SourceReading(inputs, columns=columns, input_format=input_format,
                            task_key=task_key, progress=progress, jobs=jobs,
                            max_line_bytes=max_line_bytes)
    placed: list[tuple[int, pl.DataFrame]] = []
    finished: list[pl.DataFrame] = []
    for index, frame in reading.frames():
        if index is None:
            finished.append(frame)
        else:
            placed.append((index, frame))
    placed.sort(key=lambda item: item[0])  # stable: a file's frames keep their order
    steps = _in_file_order([frame for _, frame in placed], finished, reading.order)
    accounting = reading.accounting
    if reading.native_files:  # a native step read twice counts once (spans: by span id)
        steps = drop_duplicates(steps, accounting, reading.native_only())
    return Ingested(canonical_tool_args(number_steps(steps) if number else steps), accounting)


class SourceReading:
    """The inputs read one source at a time: `frames()` gives each source's canonical frames
    with the source's place among the inputs, as they are read, then those of span files and
    of readers that finish once every file is read. What is left to do over all of them
    together (repeats across files, missing step numbers) is the caller's: `read_steps` does
    it over the whole input, a bounded-memory executor task by task."""

    def __init__(self, inputs: Sequence[str] | Sequence[Source], *,
                 columns: Collection[str] | None, input_format: str, task_key: str,
                 progress: ReadProgress | None, jobs: Jobs, max_line_bytes: int,
                 piece_bytes: int | None = None, alone: bool | None = None) -> None:
        """`inputs`: as named, or sources found already (a share of a run's, read apart
        from the rest); `alone`: whether they are the run's only source (default: when
        there is one), which is refused outright when it is binary data."""
        check_max_line_bytes(max_line_bytes)
        wanted = set(CORE_CONCEPTS)
        for column in COLUMN_NAMES if columns is None else columns:
            wanted.update(CONCEPTS_FOR_COLUMN.get(column, ()))
        self.wanted_aliases = frozenset(alias for concept in wanted
                                        for alias in FIELDS_BY_CONCEPT[concept].aliases)
        self.columns = None if columns is None else frozenset(columns)
        self.accounting = LineAccounting()
        repeated: list[str] = []
        if all(isinstance(item, Source) for item in inputs):
            self.sources = [cast(Source, item) for item in inputs]
        else:
            self.sources, repeated = expand_inputs([cast(str, item) for item in inputs])
        self.alone = len(self.sources) == 1 if alone is None else alone
        for display in repeated:
            self.accounting.note(f"{display}: named more than once, read once", display, [],
                                 count=1)
        self.sizes = [0 if source.read_once else _size(source) for source in self.sources]
        self.run_bytes = sum(self.sizes)
        # Each source's place among the inputs, by its display name.
        self.order = {source.display: index for index, source in enumerate(self.sources)}
        self.input_format, self.task_key, self.progress = input_format, task_key, progress
        self.jobs, self.max_line_bytes = jobs, max_line_bytes
        # Big clean native files read in pieces of this many bytes (None: whole).
        self.piece_bytes = piece_bytes
        self.native_files: list[str] = []

    def native_only(self) -> list[str] | None:
        """The sources read as native JSONL, or None when all were."""
        return None if len(self.native_files) == len(self.sources) else self.native_files

    def frames(self) -> Generator[tuple[int | None, pl.DataFrame]]:
        """(the source's place among the inputs, a canonical frame of its steps); the place is
        None for the frame of a reader that finishes once every file is read, which holds
        all its files' steps, each file's together and in input order (`source_file` says
        whose they are)."""
        accounting, progress, sources = self.accounting, self.progress, self.sources
        if progress is not None:
            # A stream's size is not known: then the display counts bytes with no end to reach.
            progress.start(0 if any(source.read_once for source in sources) else self.run_bytes)
        forced = None if self.input_format == AUTO else reader_named(self.input_format)
        run_spans = RunSpans()
        finishing: dict[str, Finishing] = {}  # what readers finish once every file is read
        doubts: list[tuple[str, str]] = []
        fetched = _Fetched()
        try:
            for index, (source, size) in enumerate(zip(sources, self.sizes, strict=True)):
                accounting.files.append(source.display)
                if source.remote is not None:
                    source = fetched.copy_of(source, *source.remote)
                advanced = None
                if progress is not None:
                    progress.reading(source.display)
                    advanced = _Advance(progress, None if source.read_once else size)
                    source = replace(source, on_read=advanced)
                context = ReadContext(
                    source, accounting, self.task_key, self.columns, self.wanted_aliases,
                    plain_file=None, forced=forced is not None, jobs=1, spans=run_spans,
                    max_line_bytes=self.max_line_bytes, finishing=finishing,
                    run_jobs=self.jobs, piece_bytes=self.piece_bytes)
                reader, read, doubt = _read_source(context, forced, self.jobs,
                                                   alone=self.alone)
                if reader is NATIVE:
                    self.native_files.append(source.display)
                if doubt is not None:
                    read = list(read)
                    if not any(frame.height for frame in read):
                        doubts.append((source.display, doubt))
                for frame in read:
                    yield index, conform(frame)
                del read
                if advanced is not None:
                    advanced.finish()
            # Span files' steps take their file's place among the others; so do those of
            # readers that finish once every file is read, one frame for all their files.
            late = {display: conform(frame)
                    for display, frame in run_spans.steps(accounting).items()}
            finished = [frame for work in finishing.values()
                        if (frame := work.steps(accounting)).height]
        finally:  # workers a reader started ahead are gone with the run, read or not
            for work in finishing.values():
                work.close()
            fetched.remove()
        if doubts:  # a forced format that gave no step from this file
            given = set(late).union(*(frame["source_file"].unique() for frame in finished))
            for display, doubt in doubts:
                if display not in given:
                    raise InputError(doubt)
        for display, frame in late.items():
            yield self.order[display], frame
        for frame in finished:
            yield None, frame


class _Fetched:
    """Local copies of the objects read from object storage, removed once the run is read
    (a reader that finishes once every file is read may read them again until then)."""

    def __init__(self) -> None:
        self.directory: Path | None = None

    def copy_of(self, source: Source, named: str, path: str) -> Source:
        from agentcost.ingest.remote import fetch

        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="agentcost-fetched-"))
        return replace(source, path=fetch(named, path, self.directory))

    def remove(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def _size(source: Source) -> int:
    """A file's size: as it was found, or as it is now when it was named another way."""
    if source.size is not None:
        return source.size
    assert source.path is not None
    return source.path.stat().st_size


def _in_file_order(by_file: list[pl.DataFrame], finished: list[pl.DataFrame],
                   order: dict[str, int]) -> pl.DataFrame:
    """The steps of every file, in the order the files were named: `by_file` are each one
    file's, in that order already; each of `finished` holds several files' steps, in that order
    among themselves."""
    if not finished:
        return pl.concat(by_file, how="vertical") if by_file else conform(pl.DataFrame())
    place = pl.col("source_file").cast(pl.String).replace_strict(order, return_dtype=pl.Int64)
    steps = pl.concat([*by_file, *finished], how="vertical").with_columns(place.alias("_place"))
    if not steps["_place"].is_sorted():
        steps = steps.sort("_place", maintain_order=True)
    return steps.drop("_place")


def _read_source(context: ReadContext, forced: Reader | None, jobs: Jobs, *, alone: bool
                 ) -> tuple[Reader | None, Iterable[pl.DataFrame], str | None]:
    """One source read by the reader named, or by the one that recognises its head: the
    reader (none for a file of no trace format), what it read, and, when the format named is
    not the one recognised, what to say if it gives no step. `alone`: the only source, which
    is refused outright when it is binary data."""
    source = context.source
    stream = open_source(source)
    with nullcontext(stream) if source.is_stdin else stream:
        data, given_back, long_first_line = _peek(stream, context.max_line_bytes)
        plain = None if isinstance(stream, gzip.GzipFile) or source.read_once else source.path
        binary_reader = None
        if (binary := binary_data(data)) is not None:
            # a database a reader reads (OpenCode's SQLite), or data no trace is in
            binary_reader = recognise_binary(data, plain)
            if binary_reader is None and (forced is None or forced.binary is None):
                _not_text(binary, context, alone=alone)
                return None, [], None
        head = head_of(data, long_first_line=long_first_line)
        recognised: Reader
        if binary is not None:  # read by a binary format's reader, or one named
            recognised = binary_reader or cast(Reader, forced)
        else:
            recognised, head, data, given_back = _recognise_text(stream, head, data, given_back,
                                                                  context)
        if forced is None and recognised is NATIVE and head.document and not head.json_lines:
            _not_a_trace(head, context)
            return None, [], None
        reader = forced or recognised
        formats = context.accounting.formats
        formats[reader.label] = formats.get(reader.label, 0) + 1
        if reader.label not in context.accounting.evidence:  # the first file's is shown
            context.accounting.evidence[reader.label] = (
                "named by --input-format" if forced is not None
                else reader.evidence(head) if reader.evidence is not None else "")
        context.plain_file = plain
        # A gzip file's size on disk says little of what it holds: its size is unknown.
        context.plain_size = None if context.plain_file is None else _size(source)
        context.jobs = jobs_for(jobs, context.plain_size)
        whole = cast(BinaryIO, PrependedStream(given_back, stream, cut_line=long_first_line))
        frames = reader.read(whole, head, context)
        doubt = None
        if forced is not None and recognised is not forced and data.strip():
            looks = ("no trace format agentcost reads" if recognised is NATIVE and head.document
                     else recognised.label)
            doubt = (f"{source.display}: read as {forced.label} (--input-format "
                     f"{forced.name}), it gives no step; it looks like {looks}")
        return reader, frames, doubt


def _recognise_text(stream: BinaryIO, head: Head, data: bytes, given_back: bytes,
                    context: ReadContext) -> tuple[Reader, Head, bytes, bytes]:
    """The reader of a text file, and its head, the bytes read to tell it and the bytes to give
    back to the reader (more than were first peeked at when the start could not tell)."""
    if head.first_line_broken():  # the next line tells JSON Lines from a document
        data += _through_the_next_line(stream, context.max_line_bytes)
        given_back = data
        head = head_of(data)
    recognised = recognise(head)
    if recognised is NATIVE and _document_past_the_head(head):
        # only its whole structure can tell what it is
        data += _rest(stream, len(data), context)
        given_back = data
        head = head_of(data)
        recognised = recognise(head)
    return recognised, head, data, given_back


class _Advance:
    """Moves the progress display by the bytes of one source as they are read, never past the
    source's size (a file may be opened twice: to recognise it, then to read it), and to its
    end when the reader is done (a file decoded whole by polars moves it only then)."""

    def __init__(self, progress: ReadProgress, size: int | None) -> None:
        self._progress, self._left = progress, size

    def __call__(self, count: int) -> None:
        if self._left is not None:
            count = min(count, self._left)
            self._left -= count
        if count:
            self._progress.read(count)

    def finish(self) -> None:
        if self._left:
            self._progress.read(self._left)
            self._left = 0


def _document_past_the_head(head: Head) -> bool:
    """A JSON document that does not end within the head (JSON Lines with a bad first line
    have been told apart by the lines after it)."""
    text = head.data.removeprefix(UTF8_BOM).lstrip()
    return text[:1] in (b"{", b"[") and not (head.json_lines or head.document
                                             or head.long_first_line)


def _through_the_next_line(stream: BinaryIO, max_line_bytes: int) -> bytes:
    """More of the stream, to the end of the line after the one being read: no further than
    `max_line_bytes`."""
    pieces: list[bytes] = []
    newlines = read = 0
    try:
        while newlines < 2 and read <= max_line_bytes:
            piece, _ = read_block(stream, READ_PIECE_BYTES)
            if not piece:
                break
            pieces.append(piece)
            newlines += piece.count(b"\n")
            read += len(piece)
    except (OSError, EOFError):  # what was read is kept: the reader meets the error again
        pass
    return b"".join(pieces)


def _rest(stream: BinaryIO, head_bytes: int, context: ReadContext) -> bytes:
    """The rest of a document whose first `head_bytes` were read, refused past the limit."""
    limit = context.max_line_bytes
    data, _ = read_block(stream, max(limit + 1 - head_bytes, 0))
    if head_bytes + len(data) > limit:
        raise InputError(document_too_big(context.display, limit))
    return data  # cut short: the reader meets the error again and says so


def _not_text(what: str, context: ReadContext, *, alone: bool) -> None:
    """Binary data (or text agentcost does not read) is not read past its first bytes: an
    error when it is the only input; else the whole file is one skipped line, so that the
    reading of the others goes on and --strict and `check` still see the loss."""
    if alone:
        raise InputError(f"{context.display}: {what}")
    context.accounting.lines_read += 1
    context.accounting.skip(f"{what}; the file is left unread", context.display, [1])


def _not_a_trace(head: Head, context: ReadContext) -> None:
    """A valid JSON document of no format agentcost reads: one reason for all its lines, not
    a bad line each."""
    lines = head.data.count(b"\n") + (0 if head.data.endswith(b"\n") else 1)
    native = set(FIELDS_BY_CONCEPT["task_id"].aliases)
    records = [head.list_item] if head.is_list else [head.record]
    if any(record and native & set(record) for record in records):
        what = ("agentcost JSONL steps spread over several lines: write one JSON object per "
                "line")
    elif head.is_list:
        what = "a list"
    else:
        keys = list(head.record or ())
        shown = ", ".join(keys[:NOT_A_TRACE_KEYS_SHOWN]) + (
            ", ..." if len(keys) > NOT_A_TRACE_KEYS_SHOWN else "")
        what = f"top-level keys {shown}" if keys else "an empty object"
    accounting = context.accounting
    accounting.lines_read += lines
    accounting.skip(f"valid JSON, not a trace format agentcost reads: {what}", context.display,
                    [1], count=lines)


def _peek(stream: BinaryIO, max_line_bytes: int) -> tuple[bytes, bytes, bool]:
    """The first SNIFF_BYTES, and on to the end of the first line: a JSON Lines file is
    recognised from its first whole record (an OTLP exporter's line holds a whole batch of
    spans, often megabytes). Returned: the bytes to recognise the format by, the bytes to give
    back to the reader, and whether the first line runs past `max_line_bytes`. It is not read
    to its end then: the bytes are its start only, and the blank lines before it are given
    back, the stream left inside it."""
    pieces: list[bytes] = []
    read = 0
    record_start = None  # where the first record starts: blank lines before it do not count
    # Each read after the first twice the one before: a long first line is read to its end
    # in a few reads, a short one without reading much past it.
    piece_bytes = SNIFF_BYTES
    try:
        piece, _ = read_block(stream, piece_bytes)  # a cut-off stream: what came before it
        while piece:
            pieces.append(piece)
            searched = piece
            if record_start is None:
                searched = (piece.removeprefix(UTF8_BOM) if read == 0 else piece).lstrip()
                if searched:
                    record_start = read + len(piece) - len(searched)
                    if searched[:1] not in (b"{", b"["):
                        break  # not JSON: no record to read to the end of
            read += len(piece)
            if record_start is not None and b"\n" in searched:
                break
            if record_start is not None and read - record_start > max_line_bytes:
                return _long_first_line(pieces, record_start)
            if record_start is None and read > max_line_bytes:
                break  # blank for longer than a line may be: the reader reads on
            piece_bytes = min(2 * piece_bytes, READ_PIECE_BYTES)
            piece, _ = read_block(stream, piece_bytes)
    except (OSError, EOFError):  # what was read is kept: the reader meets the error again
        pass
    data = b"".join(pieces)
    return data, data, False


def _long_first_line(pieces: list[bytes], record_start: int) -> tuple[bytes, bytes, bool]:
    """The pieces read up to the first record's start and SNIFF_BYTES of it, and the blank
    lines before it, whole."""
    kept, size = [], 0
    for piece in pieces:
        kept.append(piece)
        size += len(piece)
        if size >= record_start + SNIFF_BYTES:
            break
    data = b"".join(kept)
    return data, data[: data.rfind(b"\n", 0, record_start) + 1], True

