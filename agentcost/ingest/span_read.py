"""Spans into canonical steps, for every span format: OTLP/JSON lines in chunks (on several
processes for a big file) or as a document, and the documents other readers find spans in."""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson
import polars as pl

from agentcost.errors import InputError
from agentcost.ingest.accounting import TRUNCATED, LineAccounting
from agentcost.ingest.limits import line_too_long
from agentcost.ingest.sources import Chunk, plain_chunks, read_chunks, span_chunk_bytes
from agentcost.ingest.spans.frame import attribute_keys, spans_frame
from agentcost.ingest.spans.model import Span
from agentcost.ingest.spans.otlp_lines import SpanColumns, parse_lines
from agentcost.ingest.spans.otlp_model import decode_traces, lenient_traces
from agentcost.ingest.spans.to_steps import (
    SKIP_DUPLICATE,
    Classified,
    Outcome,
    classify,
    resolve,
)
from agentcost.ingest.spans.values import SPAN_ERRORS, BadSpan, ContainerError
from agentcost.parallel import ordered_map, read_ahead

if TYPE_CHECKING:
    from agentcost.ingest.readers.base import Head, ReadContext



@dataclass
class RunSpans:
    """The classified spans of every span source of a run. The once-only rules (a span
    exported twice, usage repeated by a wrapper span) apply across files, as a trace may
    straddle them (rotated exporter files, overlapping exports); steps come out per file."""

    batches: list[Classified] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # each file's first span number
    spans: int = 0

    def add(self, batches: list[Classified], display: str) -> None:
        self.files.append(display)
        self.starts.append(self.spans)
        for batch in batches:
            self.batches.append(batch.offset(self.spans))
        self.spans += sum(batch.links.height for batch in batches)

    def steps(self, accounting: LineAccounting) -> dict[str, pl.DataFrame]:
        """Each file's steps, once all spans are known; what did not become a step is
        accounted for, by reason and where."""
        accounting.spans_read += self.spans
        converted = resolve(self.batches)
        self.batches = []
        for reason, outcome in converted.skipped.items():
            for file, lines, count in self._by_file(outcome):
                accounting.span_skip(reason, file, lines, count=count)
                if reason == SKIP_DUPLICATE:
                    accounting.spans_repeated += count
        for reason, outcome in converted.not_steps.items():
            for file, lines, count in self._by_file(outcome):
                accounting.not_step(reason, file, lines, count=count)
        for what, outcome in converted.cycles_broken.items():
            for file, lines, count in self._by_file(outcome):
                accounting.note(what, file, lines, count=count)
        accounting.spans_used += converted.steps.height
        if converted.steps.is_empty():
            return {}
        parts = converted.steps.partition_by("source_file", as_dict=True, maintain_order=True)
        return {str(key[0]): part for key, part in parts.items()}

    def _by_file(self, outcome: Outcome) -> Iterator[tuple[str, list[int], int]]:
        """The outcome's examples grouped by file, in input order; its count goes with the
        first group."""
        count = outcome.count
        grouped: dict[int, list[int]] = {}
        for sequence, line in outcome.first:
            grouped.setdefault(bisect_right(self.starts, sequence) - 1, []).append(line)
        for index, lines in grouped.items():
            yield self.files[index], lines, count
            count = 0


def read_otlp(stream: BinaryIO, head: Head, context: ReadContext) -> None:
    """An OTLP/JSON source's spans, into the run's: file exporter lines, read in chunks on
    `context.jobs` processes, or one document."""
    if head.json_lines or head.long_first_line:  # a line over the limit is skipped as one
        work = ChunkWork(context.display, context.task_key, context.columns,
                         context.max_line_bytes)
        batches = _otlp_lines(stream, context.display, work, context.accounting,
                              context.plain_file, context.jobs, context.source.on_read)
    else:
        keys = attribute_keys(context.task_key, context.columns)
        spans = SpanColumns(keys, frozenset(k for k in keys if k.startswith("resource.")))
        _otlp_document(context.whole_document(stream), head, context.display, spans,
                       context.accounting)
        batches = [_classify(spans.frame(), context)]
    context.spans.add(batches, context.display)


def read_document(data: bytes, context: ReadContext, label: str,
                  spans_of: Callable[[Any], Iterable[Span | BadSpan]], *,
                  ids_required: bool = True) -> None:
    """The spans of a whole JSON document, found by `spans_of`, into the run's; a span that
    cannot be read is named and skipped, the others kept."""
    display, accounting = context.display, context.accounting
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise InputError(f"{display}: not valid JSON ({error})") from error
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    accounting.lines_read += lines
    spans: list[Span] = []
    try:
        for span in spans_of(document):
            if isinstance(span, BadSpan):
                accounting.spans_read += 1
                accounting.span_skip(f"not a valid {label} span: {span.reason}", display,
                                     [span.number])
            else:
                spans.append(span)
    except SPAN_ERRORS as error:  # the document's own shape, around its spans
        raise InputError(f"{display}: not a valid {label} document: {error}") from error
    accounting.lines_used += lines
    add_spans(spans, context, ids_required=ids_required)


def add_spans(spans: list[Span], context: ReadContext, *, ids_required: bool = True) -> None:
    """Spans read in Python, into the run's."""
    keys = attribute_keys(context.task_key, context.columns)
    context.spans.add([_classify(spans_frame(spans, keys), context, ids_required=ids_required)],
                      context.display)


def _classify(frame: pl.DataFrame, context: ReadContext, *, ids_required: bool = True
              ) -> Classified:
    return classify(frame, source_file=context.display, task_key=context.task_key,
                    ids_required=ids_required, columns=context.columns)


@dataclass(frozen=True)
class ChunkWork:
    """Parse, walk and classify one chunk of OTLP lines of the source shown as `display`,
    spans grouped into tasks by `task_key`, only `columns` filled (all when None), a line over
    `max_line_bytes` skipped as too long. A value, so that it pickles for a worker process."""

    display: str
    task_key: str
    columns: frozenset[str] | None
    max_line_bytes: int

    def __call__(self, chunk: Chunk) -> ChunkResult:
        return process_otlp_chunk(chunk, self)


@dataclass
class ChunkResult:
    batch: Classified
    first_line: int
    line_count: int
    blank_lines: int
    bad_lines: list[tuple[int, str]]
    stream_error: str | None
    size: int  # the chunk's bytes


def process_otlp_chunk(chunk: Chunk, work: ChunkWork) -> ChunkResult:
    """Parse, walk and classify one chunk of OTLP lines. Pure, so it can run in a worker."""
    keys = attribute_keys(work.task_key, work.columns)
    columns = SpanColumns(keys, frozenset(k for k in keys if k.startswith("resource.")))
    bad: list[tuple[int, str]] = []
    if chunk.too_long:  # its bytes were never read
        bad.append((chunk.first_line, line_too_long(work.max_line_bytes)))
        return ChunkResult(_classify_columns(columns, work), chunk.first_line, 1, 0, bad,
                           chunk.stream_error, chunk.size)
    data = chunk.load()
    raw_lines = data.split(b"\n")
    if not chunk.ends_unterminated:
        raw_lines.pop()
    last_line = chunk.first_line + len(raw_lines) - 1
    blank = sum(1 for raw in raw_lines if not raw.strip())
    lines = _non_blank(raw_lines, chunk.first_line)
    if len(data) > work.max_line_bytes:  # a line of it may be over (a plain file's chunk)
        lines = _within_limit(lines, work.max_line_bytes, bad)
    for line, reason in parse_lines(lines, columns):
        cut = chunk.ends_unterminated and line == last_line and reason == "not valid JSON"
        bad.append((line, TRUNCATED if cut else reason))
    return ChunkResult(_classify_columns(columns, work), chunk.first_line, len(raw_lines),
                       blank, bad, chunk.stream_error, chunk.size or len(chunk.data))


def _classify_columns(columns: SpanColumns, work: ChunkWork) -> Classified:
    return classify(columns.frame(), source_file=work.display, task_key=work.task_key,
                    columns=work.columns)


def _within_limit(lines: Iterable[tuple[int, bytes]], max_line_bytes: int,
                  bad: list[tuple[int, str]]) -> Iterator[tuple[int, bytes]]:
    """The lines no longer than the limit; the others go to `bad`, as too long."""
    for line, raw in lines:
        if len(raw) > max_line_bytes:
            bad.append((line, line_too_long(max_line_bytes)))
        else:
            yield line, raw


def _otlp_lines(stream: BinaryIO, display: str, work: ChunkWork, accounting: LineAccounting,
                path: Path | None, jobs: int, on_read: Callable[[int], None] | None
                ) -> list[Classified]:
    """The file exporter's one TracesData per line; a bad line is named and skipped, the good
    lines around it are kept. Each chunk's spans are classified before more is read: what is
    kept of a chunk is its hashed span ids and its step candidates, never its attributes.
    With `jobs` above 1, chunks are shared out among that many processes."""
    batches: list[Classified] = []
    sequence = lines_before = 0
    size = None if path is None else path.stat().st_size
    # A plain file is cut into references, each read by the process that works on it; other
    # sources are read here, one chunk ahead.
    limit = work.max_line_bytes
    chunks = (read_ahead(read_chunks(stream, span_chunk_bytes(size), limit)) if path is None
              else plain_chunks(path, span_chunk_bytes(size), limit))
    for result in ordered_map(work, chunks, jobs=jobs):
        if path is not None and on_read is not None:  # read by whichever process took it
            on_read(result.size)
        # A plain file's chunks number their lines from 1: number them through the file.
        shift = lines_before - (result.first_line - 1)
        accounting.lines_read += result.line_count
        if result.stream_error:
            accounting.note(f"input cut off ({result.stream_error})", display,
                            [lines_before + max(result.line_count, 1)])
        for line, reason in result.bad_lines:
            accounting.skip(reason, display, [line + shift])
        accounting.lines_blank += result.blank_lines
        accounting.lines_used += result.line_count - result.blank_lines - len(result.bad_lines)
        batches.append(result.batch.offset(sequence, shift))
        sequence += result.batch.links.height
        lines_before += result.line_count
    return batches


def _non_blank(raw_lines: list[bytes], first: int) -> Iterator[tuple[int, bytes]]:
    return ((first + offset, raw) for offset, raw in enumerate(raw_lines) if raw.strip())


def _otlp_document(data: bytes, head: Head, display: str, columns: SpanColumns,
                   accounting: LineAccounting) -> None:
    """One OTLP/JSON document (pretty-printed, or a Tempo export), or several: a list of
    TracesData, or one under an API's wrapper key."""
    try:
        if head.is_list:  # TracesData after TracesData
            for number, item in enumerate(orjson.loads(data), start=1):
                columns.add_traces(lenient_traces(item, columns.keys), number)
        else:  # one, perhaps under an API's wrapper key
            columns.add_traces(decode_traces(data, columns.keys), 1)
    except orjson.JSONDecodeError as error:
        raise InputError(f"{display}: not valid JSON ({error})") from error
    except (TypeError, AttributeError, KeyError, ContainerError) as error:
        raise InputError(f"{display}: not a valid OTLP/JSON document ({error})") from error
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    accounting.lines_read += lines
    accounting.lines_used += lines
