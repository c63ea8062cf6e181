"""What every reader declares, what recognising a file looks at, and what a read is given.

A reader module holds one input format: its name (the `--input-format` value), its label (for
"Recognised:"), how it recognises a file from its head, and how it reads one into canonical
steps. Recognising is cheap and imports no polars; reading imports what it needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeVar

import orjson

from agentcost.ingest.sources import UTF8_BOM, read_whole

# Where the marker keys of a cut-off document are looked for: its top-level keys come first.
MARKER_SEARCH_CHARACTERS = 4096

if TYPE_CHECKING:
    import polars as pl

    from agentcost.ingest.accounting import LineAccounting
    from agentcost.ingest.sources import Source
    from agentcost.ingest.span_read import RunSpans
    from agentcost.parallel import Jobs


@dataclass(frozen=True)
class Head:
    """A file's first bytes (its whole first line, however long) and its first record, as
    recognising sees them."""

    data: bytes
    # The first JSON object: the first line of JSON Lines, or the whole document when the head
    # holds all of it. None for a list, no JSON, or a document longer than the head.
    record: dict[str, Any] | None
    # For a file that is a JSON list: its first item, when that is an object.
    list_item: dict[str, Any] | None
    is_list: bool
    # More lines follow the first record (JSON Lines, not one document).
    lines: bool
    # The first line alone is a whole JSON object: JSON Lines, or a one-line document.
    json_lines: bool = False
    # The head is one whole JSON document (an object or a list), parsed.
    document: bool = False
    # For a document longer than the head: the readers' marker keys found near its start (the
    # values are not known, only that the keys are there).
    cut_keys: frozenset[str] = frozenset()
    # The first line runs past the line limit: only its start is here. It is skipped as too
    # long by a reader of lines; a document that starts with it is over the limit.
    long_first_line: bool = False

    @classmethod
    def of(cls, data: bytes, markers: Iterable[str] = (), *, long_first_line: bool = False
           ) -> Head:
        """`markers`: the keys to look for in a document longer than the head."""
        text = data.removeprefix(UTF8_BOM).lstrip(b" \t\r\n")
        if long_first_line:
            return cls(data, None, None, is_list=False, lines=False, long_first_line=True,
                       cut_keys=_markers_near_start(text, markers))
        first_line, _, rest = text.partition(b"\n")
        value = parse_json(first_line)
        if isinstance(value, dict):  # JSON Lines (or a one-line document)
            return cls(data, value, None, is_list=False, lines=bool(rest.strip()),
                       json_lines=True, document=not rest.strip())
        if not rest.strip():  # one line: its parse was the whole document's
            whole = value
        else:
            whole = parse_json(text) if text[:1] in (b"{", b"[") else None
            later = None if whole is not None else next_record(rest)
            if later is not None:  # JSON Lines whose first line is broken: the reader says so
                return cls(data, later, None, is_list=False, lines=True, json_lines=True)
        if isinstance(whole, list):
            first = whole[0] if whole and isinstance(whole[0], dict) else None
            return cls(data, None, first, is_list=True, lines=False, document=True)
        if isinstance(whole, dict):
            return cls(data, whole, None, is_list=False, lines=False, document=True)
        if text.startswith(b"["):
            return cls(data, None, _first_list_item(text), is_list=True, lines=False)
        return cls(data, None, None, is_list=False, lines=False,
                   cut_keys=_markers_near_start(text, markers))

    def first_line_broken(self) -> bool:
        """The first line is not JSON, and the head holds no whole line after it to tell
        JSON Lines from a document longer than the head."""
        if self.record is not None or self.is_list or self.document or self.long_first_line:
            return False
        text = self.data.removeprefix(UTF8_BOM).lstrip(b" \t\r\n")
        return text[:1] == b"{" and text.count(b"\n", 0, len(text.rstrip(b"\n"))) < 2

    def record_keys(self) -> set[str]:
        """The first record's keys, or the markers found in a document longer than the head."""
        return set(self.record or ()) | self.cut_keys


class Finishing(Protocol):
    """What a reader keeps across the files of a run, to finish once every file is read: its
    rules then apply across files (a response logged again in another file counts once). It
    gives the steps of all its files, canonical (`schema.conform`), each file's together and
    the files in the order they were added; read_steps puts each file's steps (`source_file`)
    in its place among the others."""

    def steps(self, accounting: LineAccounting) -> pl.DataFrame: ...

    def close(self) -> None:
        """Let go of what it holds (processes started ahead): the run is over, finished or
        not."""


FinishingT = TypeVar("FinishingT", bound=Finishing)


@dataclass
class ReadContext:
    """What a reader is given besides the bytes: where they come from, what to fill, and where
    to account for every line."""

    source: Source
    accounting: LineAccounting
    # Spans become tasks by trace, session, resource.NAME or attribute.NAME.
    task_key: str
    # The canonical columns wanted (all when None): the others may be left out, to be null.
    columns: frozenset[str] | None
    # Native field names wanted (every alias of every concept the columns need).
    wanted_aliases: frozenset[str]
    # The source's path when it is an uncompressed file, whose bytes are the stream's byte for
    # byte: another process may read a part of it.
    plain_file: Path | None
    # Processes to read a big span file with.
    jobs: int
    # The user named the format (--input-format) instead of having it recognised.
    forced: bool
    # The run's spans, for span readers to add theirs to: the rules that make steps of them
    # apply across every file of the run.
    spans: RunSpans
    # The longest line read, and the largest JSON document read whole, in bytes.
    max_line_bytes: int
    # The size of `plain_file`, as it was when the run's files were found.
    plain_size: int | None = None
    # The work readers finish once every file of the run is read, by reader name (see
    # `finish_later`). Shared by every file's context.
    finishing: dict[str, Finishing] = field(default_factory=dict)
    # The processes asked for the whole run (`jobs` is what this file gets): for the work a
    # reader finishes once every file is read.
    run_jobs: Jobs = 1
    # Read a big clean native file this many bytes at a time, each piece's steps given as
    # soon as it is read (None: whole, the fastest): for executors that spill them.
    piece_bytes: int | None = None

    def finish_later(self, name: str, start: Callable[[], FinishingT]) -> FinishingT:
        """The run's `Finishing` of the reader `name`, started on its first file: a reader
        that must see every file before it can give steps adds each file to it and returns
        no frame from `read`."""
        work = self.finishing.get(name)
        if work is None:
            work = self.finishing[name] = start()
        return work  # type: ignore[return-value]

    @property
    def display(self) -> str:
        return self.source.display

    def whole_document(self, stream: BinaryIO) -> bytes:
        """All of `stream`, a JSON document: refused past the line limit, or cut short."""
        return read_whole(stream, self.display, self.max_line_bytes)


@dataclass(frozen=True)
class Reader:
    name: str
    label: str
    recognises: Callable[[Head], bool]
    # Canonical step frames (conformed later) from the whole stream, the head included; a span
    # reader adds its spans to `context.spans` instead and returns none, and so does a reader
    # that finishes once every file is read (`ReadContext.finish_later`).
    # A list, or frames produced as they are taken (a big file read in pieces).
    read: Callable[[BinaryIO, Head, ReadContext], Iterable[pl.DataFrame]]
    # Top-level keys that show this format near the start of a document too big to parse
    # from its head (`Head.cut_keys`).
    markers: tuple[str, ...] = ()
    # What in a head it recognised, in a few words, for "Recognised:".
    evidence: Callable[[Head], str] | None = None
    # For a binary format (a database): recognises a file that is not text from its first
    # bytes and, for an uncompressed file, its path. Text formats leave it None; binary data
    # no reader claims is refused.
    binary: Callable[[bytes, Path | None], bool] | None = None


def parse_json(text: bytes) -> Any:
    """The JSON value of `text`, or None when it is not JSON. orjson first (it is fast on a
    first line of many megabytes); what it refuses and the standard parser reads (NaN, an
    integer past 64 bits) is still JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _markers_near_start(text: bytes, markers: Iterable[str]) -> frozenset[str]:
    start = text[:MARKER_SEARCH_CHARACTERS].decode("utf-8", errors="replace")
    return frozenset(key for key in markers if f'"{key}"' in start)


def _first_list_item(text: bytes) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    body = text.decode("utf-8", errors="replace")[1:].lstrip()
    try:
        item, _ = decoder.raw_decode(body)
    except (ValueError, RecursionError):
        return None
    return item if isinstance(item, dict) else None


# Lines after a first line that is not JSON looked at to tell JSON Lines from a document.
LINES_LOOKED_AT = 6


def next_record(rest: bytes) -> dict[str, Any] | None:
    """The first of the next lines that is a whole JSON object written from the start of its
    line, as JSON Lines are (a pretty-printed document indents the objects inside it)."""
    for line in rest.split(b"\n", LINES_LOOKED_AT)[:LINES_LOOKED_AT]:
        if line[:1] == b"{":
            value = parse_json(line)
            if isinstance(value, dict):
                return value
    return None
