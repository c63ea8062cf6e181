"""Decode chunks of native JSONL into typed columns; find every bad line, keep every good one.

The fast path hands a whole chunk to polars' NDJSON reader with an explicit schema. When that
fails (a malformed line, a wrong type) or cannot be trusted (blank lines would shift the line
numbers), the chunk is bisected: halves that parse are kept whole, and only the few lines around
a problem are looked at one by one, where plain `json` names what is wrong with each.
"""

from __future__ import annotations

import io
import json
import math
import mmap
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import polars as pl

from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.native_fields import NATIVE_FIELDS, FieldKind
from agentcost.ingest.sources import Chunk

LINE_COLUMN = "source_line"
UNREADABLE = "unreadable record"  # a line that parses, is an object and has the right types
# Below this many lines a failing block is examined line by line.
SINGLE_LINE_THRESHOLD = 16
# Lines taken from the start of a source, and from spread-out windows of every chunk, to learn
# which field names it uses: the known ones are decoded as their type, the other known ones
# are only watched for (see probe_schema); unknown ones are noted (parsing every line in Python
# just to list its keys would cost more than the whole polars read).
SAMPLE_HEAD_LINES = 1000
SAMPLE_WINDOWS = 64
SAMPLE_WINDOW_LINES = 8

READ_DTYPES: dict[FieldKind, pl.DataType] = {
    "text": pl.String(),
    # Counts are read as floats so that 12.0 is accepted; wholeness is checked afterwards.
    "count": pl.Float64(),
    "number": pl.Float64(),
    "time": pl.String(),  # ISO text or epoch number: both arrive as text
    "json": pl.String(),  # objects and arrays arrive as their JSON text
}
KIND_OF_KEY = {alias: field.kind for field in NATIVE_FIELDS for alias in field.aliases}
EXPECTED_WORDS: dict[FieldKind, str] = {
    "text": "text or a number",
    "count": "a number",
    "number": "a number",
    "time": "a time (ISO 8601 text or epoch seconds)",
    "json": "any JSON value",
}


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


@dataclass
class DecodedChunk:
    frame: pl.DataFrame  # one column per schema key, plus LINE_COLUMN
    bad_lines: list[BadLine]
    blank_lines: int  # counted, not listed: a stream of blank lines holds no memory


@dataclass
class KeySighting:
    first_offset: int  # byte offset in the chunk of the first line seen on
    lines: int = 0

    def first_line(self, chunk: Chunk) -> int:
        # Counted only when asked (for unknown fields): counting every window would cost a pass.
        return chunk.first_line + bytes(chunk.data[: self.first_offset]).count(b"\n")


def sample_keys(chunk: Chunk) -> dict[str, KeySighting]:
    """Field names seen in a sample of the chunk's lines: where first, and on how many lines."""
    data = chunk.data
    offsets = [0]
    step = max(len(data) // SAMPLE_WINDOWS, 1)
    offsets.extend(range(step, len(data), step))
    keys: dict[str, KeySighting] = {}
    sampled_to = 0  # windows never overlap, so each sampled line is counted once
    for window_number, start in enumerate(offsets):
        if start > 0:
            start = data.find(b"\n", max(start, sampled_to) - 1) + 1
            if start <= 0 or start >= len(data):
                break
        at_source_start = window_number == 0 and chunk.first_line == 1
        take = SAMPLE_HEAD_LINES if at_source_start else SAMPLE_WINDOW_LINES
        end = start
        for _ in range(take):
            found = data.find(b"\n", end)
            end = len(data) if found < 0 else found + 1
            if found < 0:
                break
        sampled_to = end
        line_start = start
        for raw in data[start:end].split(b"\n"):
            for key in _keys_of(raw):
                keys.setdefault(key, KeySighting(line_start)).lines += 1
            line_start += len(raw) + 1
    return keys


def _keys_of(raw: bytes) -> Iterable[str]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return ()
    return value.keys() if isinstance(value, dict) else ()


def read_schema(keys: Collection[str]) -> dict[str, pl.DataType]:
    """`keys` (known field names) with the dtype each is decoded as."""
    return {key: READ_DTYPES[KIND_OF_KEY[key]] for key in sorted(keys)}


def probe_schema(seen: Collection[str], wanted: Collection[str]) -> dict[str, pl.DataType]:
    """The wanted fields a sample saw, decoded as their type; the other wanted fields as Null
    columns. polars refuses a Null column holding a value, so a line carrying a field the
    sample missed (first written on line 2,000) fails the read, and the reader decodes again
    with every wanted field typed (read_schema): every known field is read on every line, and
    a file without such a line pays only for watching, far less than decoding each alias."""
    typed = read_schema([key for key in wanted if key in seen])
    return typed | {key: pl.Null() for key in sorted(wanted) if key not in typed}


def decode_chunk(chunk: Chunk, schema: dict[str, pl.DataType],
                 full_schema: dict[str, pl.DataType] | None = None) -> DecodedChunk:
    """Decode one chunk with `schema` (field name -> read dtype); when that fails, with
    `full_schema` (every field typed: a probe_schema may fail on a good line), and then line by
    line with it, naming the bad lines."""
    full_schema = full_schema or schema
    attempts = [schema] if full_schema == schema else [schema, full_schema]
    for attempt in attempts:
        frame = _try_read(chunk.data, attempt)
        if frame is not None and frame.height == chunk.line_count:
            lines = pl.int_range(chunk.first_line, chunk.first_line + frame.height, eager=True)
            return DecodedChunk(frame.with_columns(lines.alias(LINE_COLUMN)), [], 0)
    return _decode_line_by_line(chunk, full_schema)


def _try_read(data: bytes, schema: dict[str, pl.DataType]) -> pl.DataFrame | None:
    if not schema:
        schema = {"__none__": pl.String()}  # polars needs at least one column to count rows
    try:
        return pl.read_ndjson(io.BytesIO(data), schema=schema)
    except Exception:  # any parse failure: the bisection finds the line and says why
        return None


def _decode_line_by_line(chunk: Chunk, schema: dict[str, pl.DataType]) -> DecodedChunk:
    raw_lines = chunk.data.split(b"\n")
    if not chunk.ends_unterminated:
        raw_lines.pop()  # the empty string after the final newline
    numbered = [(chunk.first_line + offset, raw) for offset, raw in enumerate(raw_lines)
                if raw.strip()]
    blank = len(raw_lines) - len(numbered)
    last_line = chunk.first_line + len(raw_lines) - 1 if chunk.ends_unterminated else None
    del raw_lines
    frames: list[pl.DataFrame] = []
    bad: list[BadLine] = []
    _bisect(numbered, schema, frames, bad, last_line)
    empty = pl.DataFrame(schema=dict(schema) | {LINE_COLUMN: pl.Int64()})
    frame = pl.concat([empty, *frames], how="vertical_relaxed") if frames else empty
    return DecodedChunk(frame.sort(LINE_COLUMN), bad, blank)


def _bisect(
    numbered: list[tuple[int, bytes]],
    schema: dict[str, pl.DataType],
    frames: list[pl.DataFrame],
    bad: list[BadLine],
    last_line: int | None,
) -> None:
    if not numbered:
        return
    if len(numbered) > SINGLE_LINE_THRESHOLD:
        frame = _try_read(b"\n".join(raw for _, raw in numbered), schema)
        if frame is not None and frame.height == len(numbered):
            frames.append(_with_lines(frame, [line for line, _ in numbered], schema))
            return
        middle = len(numbered) // 2
        _bisect(numbered[:middle], schema, frames, bad, last_line)
        _bisect(numbered[middle:], schema, frames, bad, last_line)
        return
    for line, raw in numbered:
        frame = _try_read(raw, schema)
        if frame is not None and frame.height == 1:
            frames.append(_with_lines(frame, [line], schema))
        else:
            bad.append(BadLine(line, diagnose(raw, schema, is_last=line == last_line)))


def _with_lines(
    frame: pl.DataFrame, lines: list[int], schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    if not schema:
        frame = frame.drop("__none__")
    return frame.with_columns(pl.Series(LINE_COLUMN, lines, dtype=pl.Int64()))


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def diagnose(raw: bytes, keys: Iterable[str], *, is_last: bool) -> str:
    """Say in words why one line cannot be read (UNREADABLE if nothing shows why)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return "nested too deeply to read"
    except ValueError:
        return TRUNCATED if is_last else "not valid JSON"
    if not isinstance(value, dict):
        return "not a JSON object"
    return field_problem(value, keys) or UNREADABLE


def field_problem(record: dict[str, object], keys: Iterable[str]) -> str | None:
    """The first of `keys` whose value in `record` has the wrong type, in words; or None."""
    for key in keys:
        value = record.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            return f"{key} is not a finite number"
        if key in record and not _fits(value, KIND_OF_KEY.get(key, "json")):
            found = type(value).__name__.replace("dict", "object").replace("list", "array")
            found = found.replace("str", "text").replace("bool", "true/false")
            return f"field {key}: expected {EXPECTED_WORDS[KIND_OF_KEY[key]]}, got {found}"
    return None


def second_look(raw_lines: dict[int, bytes], keys: Iterable[str]) -> dict[int, str | None]:
    """For lines polars read but whose text fields may hold an object, an array or true/false
    (polars gives those as text): what is wrong with each, in words, or None if the line is
    fine after all."""
    keys = list(keys)
    verdicts: dict[int, str | None] = {}
    for line, raw in raw_lines.items():
        reason = diagnose(raw, keys, is_last=False)
        verdicts[line] = None if reason == UNREADABLE else reason
    return verdicts


def lines_at(data: bytes | mmap.mmap, first_line: int, wanted: Collection[int]
             ) -> dict[int, bytes]:
    """The raw text of the `wanted` lines of `data`, whose first line is `first_line`: found by
    walking the newlines up to the last one wanted (for the rare lines needing a second look)."""
    found: dict[int, bytes] = {}
    targets = set(wanted)
    line, start = first_line, 0
    last = max(targets, default=first_line - 1)
    while line <= last and start <= len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        if line in targets:
            found[line] = bytes(data[start:end])
        line, start = line + 1, end + 1
    return found


def _fits(value: object, kind: FieldKind) -> bool:
    if value is None or kind == "json":
        return True
    if kind in ("count", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "time":
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    return isinstance(value, str | int | float) and not isinstance(value, bool)
