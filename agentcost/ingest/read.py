"""Read trace inputs into the canonical step table, accounting for every line."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import polars as pl

from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.native_decode import KIND_OF_KEY, READ_DTYPES, decode_chunk, sample_keys
from agentcost.ingest.native_fields import CONCEPTS_FOR_COLUMN, FIELDS_BY_CONCEPT, KNOWN_KEYS
from agentcost.ingest.native_normalise import (
    NOTE_COLUMN,
    PROBLEM_COLUMN,
    canonical_columns,
    problems,
    start_time,
)
from agentcost.ingest.prefetch import prefetch
from agentcost.ingest.sources import Chunk, Source, expand_inputs, open_source, read_chunks
from agentcost.schema import COLUMN_NAMES, conform

# Concepts every command needs: identity, ordering, and all token buckets (the uncached input
# is derived from the prompt and the cache fields together).
CORE_CONCEPTS = frozenset({
    "task_id", "step", "start_time", "kind", "model", "prompt_tokens", "uncached_input_tokens",
    "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens",
    "reasoning_tokens", "tool_name",
})
EXAMPLE_LINES = 5


@dataclass
class Ingested:
    steps: pl.DataFrame
    accounting: LineAccounting


def read_steps(inputs: Sequence[str], *, columns: Collection[str] | None = None) -> Ingested:
    """Read every input into canonical steps. `columns` limits which canonical columns are
    filled from the input (others stay null): fields nobody asked for are not even decoded."""
    wanted = set(CORE_CONCEPTS)
    for column in COLUMN_NAMES if columns is None else columns:
        wanted.update(CONCEPTS_FOR_COLUMN.get(column, ()))
    wanted_aliases = {alias for concept in wanted for alias in FIELDS_BY_CONCEPT[concept].aliases}
    accounting = LineAccounting()
    frames: list[pl.DataFrame] = []
    for source in expand_inputs(inputs):
        accounting.files.append(source.display)
        frames.extend(_read_source(source, wanted_aliases, accounting))
    steps = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    return Ingested(_number_steps(conform(steps)), accounting)


def _read_source(
    source: Source, wanted_aliases: set[str], accounting: LineAccounting
) -> list[pl.DataFrame]:
    frames: list[pl.DataFrame] = []
    seen_keys: set[str] = set()
    reported_unknown: set[str] = set()
    stream = open_source(source)
    with nullcontext(stream) if source.is_stdin else stream:
        for chunk in prefetch(read_chunks(stream)):
            accounting.lines_read += chunk.line_count
            if chunk.stream_error:
                last = chunk.first_line + max(chunk.line_count - 1, 0)
                accounting.note(f"input cut off ({chunk.stream_error})", source.display, [last])
            sightings = sample_keys(chunk)
            for key, sighting in sightings.items():
                if key not in KNOWN_KEYS and key not in reported_unknown:
                    reported_unknown.add(key)
                    accounting.note(f"unknown field {key!r} ignored (count: sampled lines)",
                                    source.display,
                                    [sighting.first_line(chunk)], count=sighting.lines)
            seen_keys.update(key for key in sightings if key in wanted_aliases)
            frames.append(_read_chunk(chunk, seen_keys, source.display, accounting))
    return frames


def _read_chunk(
    chunk: Chunk, keys: set[str], file: str, accounting: LineAccounting
) -> pl.DataFrame:
    schema = {key: READ_DTYPES[KIND_OF_KEY[key]] for key in sorted(keys)}
    decoded = decode_chunk(chunk, schema)
    accounting.lines_blank += len(decoded.blank_lines)
    for bad in decoded.bad_lines:
        accounting.skip(bad.reason, file, [bad.line])
    frame = decoded.frame
    checked = frame.with_columns(start_time(frame, keys)).with_columns(problems(keys))
    rejected = checked.filter(pl.col(PROBLEM_COLUMN).is_not_null())
    if rejected.height:
        tallies = rejected.group_by(PROBLEM_COLUMN).agg(
            pl.len().alias("count"), pl.col("source_line").sort().head(EXAMPLE_LINES)
        ).sort(PROBLEM_COLUMN)
        for reason, count, lines in tallies.iter_rows():
            accounting.skip(reason, file, lines, count=count)
    good = checked.filter(pl.col(PROBLEM_COLUMN).is_null()).select(canonical_columns(keys, file))
    accounting.lines_used += good.height
    noted = good.filter(pl.col(NOTE_COLUMN).is_not_null())
    if noted.height:
        for note, count, lines in noted.group_by(NOTE_COLUMN).agg(
            pl.len(), pl.col("source_line").sort().head(EXAMPLE_LINES)
        ).iter_rows():
            accounting.note(note, file, lines, count=count)
    return good.drop(NOTE_COLUMN)


def _number_steps(steps: pl.DataFrame) -> pl.DataFrame:
    """Fill missing step numbers: 1-based within the task by start time, ties in input order."""
    if steps.is_empty() or steps["step"].null_count() == 0:
        return steps
    order = pl.col("start_time").cast(pl.Int64).fill_null(2**62)
    return steps.with_columns(
        pl.coalesce("step", order.rank("ordinal").over("task_id").cast(pl.Int64)).alias("step")
    )
