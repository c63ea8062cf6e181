"""Where input bytes come from (files, directories, globs, gzip, stdin), in line-aligned chunks."""

from __future__ import annotations

import glob
import gzip
import io
import mmap
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

from agentcost.errors import InputError
from agentcost.ingest.limits import MAX_LINE_BYTES, document_too_big
from agentcost.ingest.remote import is_remote, remote_objects

# Big enough that polars parses each chunk on all cores, small enough to bound memory.
CHUNK_BYTES = 32 * 1024 * 1024
# Span files are walked in Python: chunks small enough that every process reading a file of a
# few chunks gets a share; smaller still for a small file (span_chunk_bytes).
SPAN_CHUNK_BYTES = 16 * 1024 * 1024
SPAN_CHUNKS_WANTED = 24
MIN_SPAN_CHUNK_BYTES = 4 * 1024 * 1024
TRACE_SUFFIXES = (".jsonl", ".ndjson", ".json")
UTF8_BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
READ_PIECE_BYTES = 4 * 1024 * 1024
NEWLINE_SEARCH_BYTES = 64 * 1024


@dataclass(frozen=True)
class Source:
    """One input: a file path, or stdin when `path` is None. `pipe`: the path is a named pipe
    or a device (`<(zcat log.gz)`, /dev/stdin), whose bytes can be read only once, in order."""

    display: str
    path: Path | None
    pipe: bool = False
    # Told how many bytes were read each time some are (compressed bytes for gzip), for a
    # progress display: reading does not depend on it.
    on_read: Callable[[int], None] | None = field(default=None, compare=False)
    # A file's size on disk when it was found (none for stdin and pipes).
    size: int | None = field(default=None, compare=False)
    # An object in object storage: the address the user named and the object's path in its
    # file system (`display` is the object's address). `path` is where it is copied to be
    # read, None until then.
    remote: tuple[str, str] | None = None

    @property
    def is_stdin(self) -> bool:
        return self.path is None and self.remote is None

    @property
    def read_once(self) -> bool:
        """No size, no memory map, no second opening: stdin and pipes."""
        return self.is_stdin or self.pipe


@dataclass(frozen=True)
class Chunk:
    """Whole lines of one source. `first_line` is the 1-based number of the chunk's first line."""

    data: bytes
    first_line: int
    line_count: int
    # The source ended without a final newline inside this chunk: its last line may be cut off.
    ends_unterminated: bool
    # Reading stopped early (a cut-off gzip stream, an I/O error): what, in words.
    stream_error: str | None = None
    # Where `data` starts in the source's bytes, and its length.
    start: int = 0
    size: int = 0
    # Set instead of `data` for a chunk of a plain file (plain_chunks): whichever process works
    # on it reads the bytes itself, which is much cheaper than sending them down a pipe.
    path: Path | None = None
    # The chunk stands for one line over the limit, which is skipped: its bytes are not kept
    # (`start` and `size` say where it was; `first_line` is its number).
    too_long: bool = False

    def load(self) -> bytes:
        if self.path is None:
            return self.data
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            data = handle.read(self.size)
        if len(data) != self.size:
            raise InputError(f"{self.path}: file changed while being read")
        return data


def span_chunk_bytes(file_bytes: int | None) -> int:
    """SPAN_CHUNK_BYTES, or less for a file of fewer than SPAN_CHUNKS_WANTED chunks: with few
    chunks, the last ones keep one process busy while the others wait. Not under
    MIN_SPAN_CHUNK_BYTES, as each chunk has a fixed cost. A stream of unknown size gets the
    full size."""
    if file_bytes is None:
        return SPAN_CHUNK_BYTES
    return min(SPAN_CHUNK_BYTES, max(MIN_SPAN_CHUNK_BYTES, file_bytes // SPAN_CHUNKS_WANTED))


def expand_inputs(inputs: Sequence[str]) -> tuple[list[Source], list[str]]:
    """Turn command-line arguments into sources: '-' is stdin, directories are searched
    recursively for trace files, globs are expanded (also when the shell did not), and an
    object storage address (s3://, gs://) is an object or a prefix searched like a directory.

    Each file is read once however many arguments name it (a glob and a name, a directory and
    a file in it, a path through a symlink): read twice, its steps would be counted twice. The
    repeats are returned, as named, for the report to say so."""
    sources: list[Source] = []
    for item in inputs:
        if item == "-":
            sources.append(Source("-", None))
            continue
        if is_remote(item):
            sources.extend(Source(address, None, size=size, remote=(item, path))
                           for address, path, size in remote_objects(item, _is_trace_name))
            continue
        path = Path(item)
        if path.is_dir():
            found = _trace_files(path)
            if not found:
                raise InputError(f"{item}: directory holds no trace files (*.jsonl, *.json, *.gz, "
                                 "opencode.db)")
            sources.extend(Source(str(p), p) for p in found)
        elif path.is_file():
            sources.append(Source(item, path))
        elif path.exists():  # a named pipe or a device: read as a stream, like stdin
            sources.append(Source(item, path, pipe=True))
        elif glob.has_magic(item):
            matched = sorted(glob.glob(item, recursive=True))
            files = [Path(m) for m in matched if Path(m).is_file()]
            if not files:
                raise InputError(f"{item}: no file matches this pattern")
            sources.extend(Source(str(p), p) for p in files)
        else:
            raise InputError(f"{item}: no such file or directory")
    return _each_once(sources)


def _each_once(sources: list[Source]) -> tuple[list[Source], list[str]]:
    seen: set[tuple[int, int] | str] = set()
    kept: list[Source] = []
    repeated: list[str] = []
    for source in sources:
        if source.remote is not None:
            identity: tuple[int, int] | str = source.display
        elif source.path is None:
            identity = "-"  # stdin can be read only once anyway
        else:
            status = source.path.stat()
            identity = (status.st_dev, status.st_ino)
            if not source.pipe:
                source = Source(source.display, source.path, on_read=source.on_read,
                                size=status.st_size)
        if identity in seen:
            repeated.append(source.display)
        else:
            seen.add(identity)
            kept.append(source)
    return kept, repeated


def _trace_files(folder: Path) -> list[Path]:
    """The trace files under `folder` (`trace_files_found`), in path order."""
    found = [entry.path for entry in trace_files_found(str(folder))]
    # Path order (part by part), without making a Path of each to compare them.
    return [Path(path) for path in sorted(found, key=lambda path: path.split(os.sep))]


def trace_files_found(folder: str) -> Iterator[os.DirEntry[str]]:
    """The trace files under `folder`, as found: its folders are searched, not those a link
    points to (as `Path.rglob` does), and a file is looked at only when its name is a trace
    file's."""
    folders = [folder]
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif _is_trace_name(entry.name) and entry.is_file():
                        yield entry
        except OSError:  # a folder that cannot be listed holds nothing to read
            continue


def _is_trace_name(name: str) -> bool:
    name = name.lower().removesuffix(".gz")
    return name.endswith(TRACE_SUFFIXES) or _is_opencode_database(name)


def _is_opencode_database(name: str) -> bool:
    """OpenCode's SQLite database: opencode.db, or opencode-<channel>.db for a release channel
    (anomalyco/opencode packages/opencode/src/storage/db.ts); other databases are not looked
    at."""
    return name == "opencode.db" or (name.startswith("opencode-") and name.endswith(".db"))


def open_source(source: Source) -> BinaryIO:
    """Open for binary reading; gzip is recognised by its magic bytes, not by the file name."""
    if source.read_once:  # looked at without being consumed: it cannot be read again
        try:
            stream: BinaryIO = (sys.stdin.buffer if source.path is None
                                else source.path.open("rb"))
        except OSError as error:
            raise InputError(f"{source.display}: cannot open: {error.strerror}") from error
        head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
        stream = _counted(stream, source.on_read)
        if head == GZIP_MAGIC:
            return gzip.GzipFile(fileobj=stream)  # type: ignore[return-value]
        return stream
    assert source.path is not None
    try:
        handle = source.path.open("rb")
    except OSError as error:
        raise InputError(f"{source.display}: cannot open: {error.strerror}") from error
    is_gzip = handle.read(2) == GZIP_MAGIC
    handle.seek(0)
    counted = _counted(handle, source.on_read)
    if is_gzip:
        return gzip.GzipFile(fileobj=counted)  # type: ignore[return-value]
    return counted


def _counted(stream: BinaryIO, on_read: Callable[[int], None] | None) -> BinaryIO:
    return stream if on_read is None else cast(BinaryIO, CountingReader(stream, on_read))


class CountingReader(io.RawIOBase):
    """A stream that tells `on_read` how many bytes each read returned."""

    def __init__(self, stream: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._stream, self._on_read = stream, on_read

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        self._on_read(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def read_chunks(stream: BinaryIO, chunk_bytes: int | None = None,
                max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Chunk]:
    """Yield line-aligned chunks. Only the last chunk can end without a newline. A line longer
    than `max_line_bytes` (its newline not counted) is not kept: a chunk of its own stands for
    it (`too_long`), and reading goes on after its newline. Memory stays bounded by the limit
    and the chunk size whatever the input (no newline at all, a gzip bomb), and time linear."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    lines = _LineChunker(max_line_bytes)
    first = True
    if isinstance(stream, PrependedStream) and stream.cut_line:
        # Recognising the format stopped inside a line over the limit: the lines before it
        # are given back, then that line is skipped to its end.
        yield from lines.feed(lines.after_bom(stream.take_head()))
        lines.skip_open_line()
        first = False
    while True:
        block, error = read_block(stream, max(chunk_bytes, len(UTF8_BOM)) if first
                                   else chunk_bytes)
        at_end = not block
        if first:
            first = False
            block = lines.after_bom(block)
        if error is not None:  # keep every good line read so far; the caller reports the cut
            yield from lines.end(block, error)
            return
        if at_end:
            yield from lines.end(b"", None)
            return
        yield from lines.feed(block)


class _LineChunker:
    """Blocks of a source's bytes in, chunks of whole numbered lines out; a line over the limit
    becomes a chunk that stands for it, its bytes dropped as they come."""

    def __init__(self, max_line_bytes: int) -> None:
        self.limit = max_line_bytes
        self.next_line = 1
        self.position = 0  # in the source, of the first byte not yet in a chunk
        self._open: list[bytes] = []  # the line not yet ended, in pieces
        self._open_bytes = 0
        self._skipping = False  # the open line is over the limit: its bytes are dropped

    def after_bom(self, block: bytes) -> bytes:
        """A byte order mark (Windows editors, PowerShell) is not part of line 1."""
        if block.startswith(UTF8_BOM):
            self.position = len(UTF8_BOM)
            return block[len(UTF8_BOM):]
        return block

    def skip_open_line(self) -> None:
        self._open, self._skipping = [], True

    def feed(self, block: bytes) -> Iterator[Chunk]:
        start = 0
        while start < len(block):
            if self._skipping:
                newline = block.find(b"\n", start)
                if newline < 0:
                    self._open_bytes += len(block) - start
                    return
                self._open_bytes += newline + 1 - start
                yield self._too_long(unterminated=False)
                start = newline + 1
                continue
            cut = block.rfind(b"\n", start)
            if cut < 0:
                self._extend(block[start:] if start else block)
                return
            # One copy: the open line joined to the block up to its last newline.
            data = b"".join((*self._open, memoryview(block)[start : cut + 1]))
            self._open, self._open_bytes = [], 0
            yield from self._complete(data, unterminated=False)
            start = cut + 1

    def end(self, block: bytes, error: str | None) -> Iterator[Chunk]:
        """The source's last bytes, and what cut it short (None: its end)."""
        if self._skipping:
            newline = block.find(b"\n")
            if newline < 0:
                self._open_bytes += len(block)
                yield self._too_long(unterminated=True, error=error)
                return
            self._open_bytes += newline + 1
            yield self._too_long(unterminated=False)
            block = block[newline + 1 :]
        data = b"".join((*self._open, block))
        if data or error is not None:
            yield from self._complete(data, unterminated=not data.endswith(b"\n"), error=error)

    def _extend(self, piece: bytes) -> None:
        self._open_bytes += len(piece)
        if self._open_bytes > self.limit:
            self.skip_open_line()
        else:
            self._open.append(piece)

    def _complete(self, data: bytes, *, unterminated: bool, error: str | None = None
                  ) -> Iterator[Chunk]:
        """Chunks of whole lines (the last unterminated when `unterminated`), the lines over
        the limit among them standing alone."""
        if len(data) <= self.limit:  # no line in it can be over
            yield self._lines(data, unterminated, error)
            return
        chunks: list[Chunk] = []
        done = 0
        for begin, end in long_lines(data, self.limit):
            if begin > done:
                chunks.append(self._lines(data[done:begin], False, None))
            self._open_bytes = end - begin
            chunks.append(self._too_long(unterminated=unterminated and end == len(data)))
            done = end
        if done < len(data):
            chunks.append(self._lines(data[done:] if done else data, unterminated, None))
        if error is not None:
            chunks[-1] = replace(chunks[-1], stream_error=error)
        yield from chunks

    def _lines(self, data: bytes, unterminated: bool, error: str | None) -> Chunk:
        chunk = _chunk(data, self.next_line, self.position, unterminated=unterminated,
                       error=error)
        self.next_line += chunk.line_count
        self.position += len(data)
        return chunk

    def _too_long(self, *, unterminated: bool, error: str | None = None) -> Chunk:
        chunk = Chunk(b"", self.next_line, 1, ends_unterminated=unterminated,
                      stream_error=error, start=self.position, size=self._open_bytes,
                      too_long=True)
        self.next_line += 1
        self.position += self._open_bytes
        self._open, self._open_bytes, self._skipping = [], 0, False
        return chunk


def long_lines(data: bytes, max_line_bytes: int) -> Iterator[tuple[int, int]]:
    """Where each line longer than `max_line_bytes` (its newline not counted) starts and ends
    (after its newline, or at the end of `data`)."""
    start = 0
    while (begin := first_long_line(data, max_line_bytes, start)) is not None:
        end = data.find(b"\n", begin + max_line_bytes + 1)
        start = len(data) if end < 0 else end + 1
        yield begin, start


def first_long_line(data: bytes | mmap.mmap, max_line_bytes: int, start: int = 0) -> int | None:
    """Where the first line longer than `max_line_bytes` starts, at or after `start` (a line
    start). A line is within the limit when a newline comes at most `max_line_bytes` bytes
    after its start: looking for the last newline in that window jumps over many lines at
    once, so the search costs a few steps per `max_line_bytes` of data, not one per line, and
    reads little past the start of a long line (of a memory-mapped file, few pages)."""
    size = len(data)
    while size - start > max_line_bytes:
        newline = data.rfind(b"\n", start, start + max_line_bytes + 1)
        if newline < 0:
            return start
        start = newline + 1
    return None


def plain_chunks(path: Path, chunk_bytes: int, max_line_bytes: int = MAX_LINE_BYTES
                 ) -> Iterator[Chunk]:
    """Line-aligned chunks of an uncompressed file as references to its bytes: nothing is read
    here but a little past each cut, to find where its line ends, and whoever works on a chunk
    reads it (two processes never copy the same bytes). Lines are numbered from 1 within each
    chunk (`line_count` is left 0): the reader counts them, and whoever collects the results
    numbers them through.

    A line that runs more than `max_line_bytes` past a cut is not read: the chunk ends before
    it, a chunk of its own stands for it (`too_long`), and the next starts after its newline.
    A chunk is thus never longer than `chunk_bytes` and the limit; a line over the limit
    inside one is for its reader to find."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        start = len(UTF8_BOM) if handle.read(len(UTF8_BOM)) == UTF8_BOM else 0
        handle.seek(max(size - 1, 0))
        unterminated_end = size > start and handle.read(1) != b"\n"
        while start < size:
            cut = start + chunk_bytes - 1  # a byte of the line the chunk ends with
            end = size if cut >= size - 1 else _line_end(handle, cut, within=max_line_bytes)
            if end is None:  # that line is over the limit
                begin = _line_start(handle, cut, start)
                if begin > start:
                    yield Chunk(b"", 1, 0, ends_unterminated=False, start=start,
                                size=begin - start, path=path)
                end = _line_end(handle, cut)
                assert end is not None
                yield Chunk(b"", 1, 1, ends_unterminated=end == size and unterminated_end,
                            start=begin, size=end - begin, path=path, too_long=True)
            else:
                yield Chunk(b"", 1, 0, ends_unterminated=end == size and unterminated_end,
                            start=start, size=end - start, path=path)
            start = end


def _line_end(handle: BinaryIO, position: int, within: int | None = None) -> int | None:
    """Where the line holding byte `position` ends (after its newline), or the file's end;
    None when that is more than `within` bytes on."""
    handle.seek(position)
    scanned = 0
    while piece := handle.read(NEWLINE_SEARCH_BYTES):
        found = piece.find(b"\n")
        if found >= 0:
            if within is not None and scanned + found > within:
                return None
            return position + scanned + found + 1
        scanned += len(piece)
        if within is not None and scanned > within:
            return None
    return position + scanned


def _line_start(handle: BinaryIO, position: int, floor: int) -> int:
    """Where the line holding byte `position` starts, not before `floor` (a line start)."""
    end = position
    while end > floor:
        begin = max(floor, end - NEWLINE_SEARCH_BYTES)
        handle.seek(begin)
        found = handle.read(end - begin).rfind(b"\n")
        if found >= 0:
            return begin + found + 1
        end = begin
    return floor


def read_whole(stream: BinaryIO, display: str, max_line_bytes: int) -> bytes:
    """The whole of a JSON document, refused when it is larger than the limit (it would be
    held in memory several times over as it is parsed) or cut short (no part of a document can
    be read on its own)."""
    if isinstance(stream, PrependedStream) and stream.cut_line:
        raise InputError(document_too_big(display, max_line_bytes))
    data, error = read_block(stream, max_line_bytes + 1)
    if len(data) > max_line_bytes:
        raise InputError(document_too_big(display, max_line_bytes))
    if error is not None:
        raise InputError(f"{display}: input cut off ({error}): the whole document is needed")
    return data


def read_block(stream: BinaryIO, size: int) -> tuple[bytes, str | None]:
    """Read up to `size` bytes in pieces, so that a stream cut short (a truncated gzip file)
    still gives back everything before the cut."""
    if not isinstance(stream, gzip.GzipFile | PrependedStream):
        try:
            return stream.read(size), None
        except (OSError, EOFError) as error:
            return b"", str(error) or type(error).__name__
    pieces: list[bytes] = []
    wanted = size
    read = stream.read1  # one decompression step at a time
    while wanted > 0:
        try:
            piece = read(min(wanted, READ_PIECE_BYTES))
        except (OSError, EOFError) as error:
            return b"".join(pieces), str(error) or type(error).__name__
        if not piece:
            break
        pieces.append(piece)
        wanted -= len(piece)
    return b"".join(pieces), None


def _chunk(data: bytes, first_line: int, start: int, *, unterminated: bool,
           error: str | None = None) -> Chunk:
    count = data.count(b"\n") + (1 if unterminated else 0)
    return Chunk(data, first_line, count, ends_unterminated=unterminated, stream_error=error,
                 start=start, size=len(data))


class PrependedStream(io.RawIOBase):
    """Bytes already read (to recognise the format) followed by the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO, *, cut_line: bool = False) -> None:
        self._head = head
        self._rest = rest
        # `rest` starts inside a line over the limit, whose first bytes were read and dropped;
        # `head` holds the lines before it, whole.
        self.cut_line = cut_line

    def take_head(self) -> bytes:
        head, self._head = self._head, b""
        return head

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(size)

    def read1(self, size: int = -1) -> bytes:
        """At most `size` bytes, from one read of the stream below: a gzip stream cut short
        loses no more than one decompression step."""
        if self._head:
            return self.read(size)
        return getattr(self._rest, "read1", self._rest.read)(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
