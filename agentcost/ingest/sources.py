"""Where input bytes come from (files, directories, globs, gzip, stdin), in line-aligned chunks."""

from __future__ import annotations

import glob
import gzip
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from agentcost.errors import InputError

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

    @property
    def is_stdin(self) -> bool:
        return self.path is None

    @property
    def read_once(self) -> bool:
        """No size, no memory map, no second opening: stdin and pipes."""
        return self.path is None or self.pipe


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
    recursively for trace files, globs are expanded (also when the shell did not).

    Each file is read once however many arguments name it (a glob and a name, a directory and
    a file in it, a path through a symlink): read twice, its steps would be counted twice. The
    repeats are returned, as named, for the report to say so."""
    sources: list[Source] = []
    for item in inputs:
        if item == "-":
            sources.append(Source("-", None))
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _is_trace_file(p))
            if not found:
                raise InputError(f"{item}: directory holds no trace files (*.jsonl, *.json, *.gz)")
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
        if source.path is None:
            identity: tuple[int, int] | str = "-"  # stdin can be read only once anyway
        else:
            status = source.path.stat()
            identity = (status.st_dev, status.st_ino)
        if identity in seen:
            repeated.append(source.display)
        else:
            seen.add(identity)
            kept.append(source)
    return kept, repeated


def _is_trace_file(path: Path) -> bool:
    name = path.name.lower()
    name = name.removesuffix(".gz")
    return name.endswith(TRACE_SUFFIXES)


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


def read_chunks(stream: BinaryIO, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """Yield line-aligned chunks. Only the last chunk can end without a newline."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    carry = b""
    next_line = 1
    position = 0  # of the next chunk's first byte in the source
    first = True
    while True:
        block, error = read_block(stream, max(chunk_bytes, len(UTF8_BOM)) if first
                                   else chunk_bytes)
        at_end = not block
        if first:  # a byte order mark (Windows editors, PowerShell) is not part of line 1
            first = False
            if block.startswith(UTF8_BOM):
                block, position = block[len(UTF8_BOM):], len(UTF8_BOM)
        if error is not None:
            # Keep every good line read so far; the caller reports the cut.
            data = carry + block
            yield _chunk(data, next_line, position, unterminated=not data.endswith(b"\n"),
                         error=error)
            return
        if at_end:
            if carry:
                yield _chunk(carry, next_line, position, unterminated=True)
            return
        cut = block.rfind(b"\n")
        if cut < 0:
            carry += block
            continue
        # One copy: the carried partial line joined to the block up to its last newline.
        data = b"".join((carry, memoryview(block)[: cut + 1]))
        carry = block[cut + 1 :]
        chunk = _chunk(data, next_line, position, unterminated=False)
        next_line += chunk.line_count
        position += len(data)
        yield chunk


def plain_chunks(path: Path, chunk_bytes: int) -> Iterator[Chunk]:
    """Line-aligned chunks of an uncompressed file as references to its bytes: nothing is read
    here but a little past each cut, to find where its line ends, and whoever works on a chunk
    reads it (two processes never copy the same bytes). Lines are numbered from 1 within each
    chunk (`line_count` is left 0): the reader counts them, and whoever collects the results
    numbers them through."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        start = len(UTF8_BOM) if handle.read(len(UTF8_BOM)) == UTF8_BOM else 0
        handle.seek(max(size - 1, 0))
        unterminated_end = size > start and handle.read(1) != b"\n"
        while start < size:
            end = size if start + chunk_bytes >= size else _line_end(handle,
                                                                     start + chunk_bytes - 1)
            yield Chunk(b"", 1, 0, ends_unterminated=end == size and unterminated_end,
                        start=start, size=end - start, path=path)
            start = end


def _line_end(handle: BinaryIO, position: int) -> int:
    """Where the line holding byte `position` ends (after its newline), or the file's end."""
    handle.seek(position)
    while piece := handle.read(NEWLINE_SEARCH_BYTES):
        found = piece.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(piece)
    return position


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

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

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
