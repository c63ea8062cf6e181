"""Read trace inputs into the canonical step table, accounting for every line."""

from __future__ import annotations

import gzip
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import BinaryIO, Protocol, cast

import polars as pl

from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.canonical_json import canonical_tool_args
from agentcost.ingest.duplicates import drop_duplicates
from agentcost.ingest.native_fields import CONCEPTS_FOR_COLUMN, FIELDS_BY_CONCEPT
from agentcost.ingest.readers import AUTO, head_of, reader_named, recognise
from agentcost.ingest.readers.base import ReadContext, Reader
from agentcost.ingest.readers.native import READER as NATIVE
from agentcost.ingest.sources import PrependedStream, expand_inputs, open_source
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
SNIFF_BYTES = 256 * 1024


class ReadProgress(Protocol):
    """Told what is being read, for a progress display; reading does not depend on it."""

    def start(self, total_bytes: int) -> None: ...
    def reading(self, name: str) -> None: ...
    def read(self, size_bytes: int) -> None: ...


@dataclass
class Ingested:
    steps: pl.DataFrame
    accounting: LineAccounting


def read_steps(
    inputs: Sequence[str],
    *,
    columns: Collection[str] | None = None,
    input_format: str = "auto",
    task_key: str = "trace",
    progress: ReadProgress | None = None,
    jobs: Jobs = 1,
) -> Ingested:
    """Read every input into canonical steps. `columns` limits which canonical columns are
    filled (others stay null): native fields nobody asked for are not even decoded.
    `input_format` forces a format instead of recognising it; `task_key` groups spans into
    tasks by trace (default), session, or `resource.NAME` / `attribute.NAME`. `progress`
    hears of each source as it is read (for a progress bar). `jobs`: the processes a big span
    file is read on ("auto": every usable core, for a file big enough to repay them)."""
    wanted = set(CORE_CONCEPTS)
    for column in COLUMN_NAMES if columns is None else columns:
        wanted.update(CONCEPTS_FOR_COLUMN.get(column, ()))
    wanted_aliases = frozenset(alias for concept in wanted
                               for alias in FIELDS_BY_CONCEPT[concept].aliases)
    accounting = LineAccounting()
    frames: list[pl.DataFrame] = []
    sources, repeated = expand_inputs(inputs)
    for display in repeated:
        accounting.note(f"{display}: named more than once, read once", display, [], count=1)
    sizes = [0 if source.read_once or source.path is None else source.path.stat().st_size
             for source in sources]
    if progress is not None:
        progress.start(sum(sizes))
    forced = None if input_format == AUTO else reader_named(input_format)
    native_files: list[str] = []
    for source, size in zip(sources, sizes, strict=True):
        accounting.files.append(source.display)
        if progress is not None:
            progress.reading(source.display)
        context = ReadContext(
            source, accounting, task_key, None if columns is None else frozenset(columns),
            wanted_aliases, plain_file=None, forced=forced is not None, jobs=1)
        reader, read = _read_source(context, forced, jobs)
        if reader is NATIVE:
            native_files.append(source.display)
        frames.extend(conform(frame) for frame in read)
        if progress is not None:
            progress.read(size)
    steps = pl.concat(frames, how="vertical") if frames else conform(pl.DataFrame())
    if native_files:  # a native step read twice counts once (spans: by span id, when read)
        steps = drop_duplicates(
            steps, accounting, None if len(native_files) == len(sources) else native_files)
    return Ingested(canonical_tool_args(number_steps(steps)), accounting)


def _read_source(context: ReadContext, forced: Reader | None, jobs: Jobs
                 ) -> tuple[Reader, list[pl.DataFrame]]:
    """One source read by the reader named, or by the one that recognises its head: the
    reader, and what it read."""
    source = context.source
    stream = open_source(source)
    with nullcontext(stream) if source.is_stdin else stream:
        data = _peek(stream)
        head = head_of(data)
        reader = forced or recognise(head)
        formats = context.accounting.formats
        formats[reader.label] = formats.get(reader.label, 0) + 1
        if not (isinstance(stream, gzip.GzipFile) or source.read_once):
            context.plain_file = source.path
        # A gzip file's size on disk says little of what it holds: its size is unknown.
        plain_size = None if context.plain_file is None else context.plain_file.stat().st_size
        context.jobs = jobs_for(jobs, plain_size)
        whole = cast(BinaryIO, PrependedStream(data, stream))
        return reader, reader.read(whole, head, context)


def _peek(stream: BinaryIO) -> bytes:
    try:
        return stream.read(SNIFF_BYTES)
    except (OSError, EOFError):
        return b""


def number_steps(steps: pl.DataFrame) -> pl.DataFrame:
    """Fill missing step numbers: 1-based within the task by start time, ties in input order."""
    if steps.is_empty() or steps["step"].null_count() == 0:
        return steps
    order = pl.col("start_time").cast(pl.Int64).fill_null(2**62)
    return steps.with_columns(
        pl.coalesce("step", order.rank("ordinal").over("task_id").cast(pl.Int64)).alias("step")
    )
