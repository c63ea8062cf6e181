"""A coding agent's JSON Lines log, record by record: read in bounded chunks, each line parsed
with orjson, every line accounted for. Lines that are blank, too long, not JSON or cut off at
the end of the file are accounted here; the reader accounts for each record it is given, as
used or skipped, so that read = used + blank + skipped holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.limits import line_too_long
from agentcost.ingest.sources import read_chunks

if TYPE_CHECKING:
    from agentcost.ingest.readers.base import ReadContext


def json_records(stream: BinaryIO, context: ReadContext) -> Iterator[tuple[int, Any]]:
    """Each line's JSON value (any JSON value: the reader says what it expects) and its
    1-based number."""
    accounting, display = context.accounting, context.display
    for chunk in read_chunks(stream, max_line_bytes=context.max_line_bytes):
        if chunk.stream_error:
            last = chunk.first_line + max(chunk.line_count - 1, 0)
            accounting.note(f"input cut off ({chunk.stream_error})", display, [last])
        if chunk.too_long:
            accounting.lines_read += 1
            accounting.skip(line_too_long(context.max_line_bytes), display, [chunk.first_line])
            continue
        lines = chunk.data.split(b"\n")
        if not chunk.ends_unterminated:
            lines.pop()  # the empty text after the final newline
        last_line = chunk.first_line + len(lines) - 1
        for number, raw in enumerate(lines, start=chunk.first_line):
            accounting.lines_read += 1
            if not raw.strip():
                accounting.lines_blank += 1
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                cut_off = chunk.ends_unterminated and number == last_line
                accounting.skip(TRUNCATED if cut_off else "not valid JSON", display, [number])
                continue
            yield number, value


class JsonLines:
    """`for number, record in JsonLines(stream, context)`: each JSON object with its line
    number (a line holding another JSON value is skipped and named); then `used(number)` or
    `skip(number, reason)` for it."""

    def __init__(self, stream: BinaryIO, context: ReadContext) -> None:
        self._stream, self._context = stream, context

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, value in json_records(self._stream, self._context):
            if isinstance(value, dict):
                yield number, value
            else:
                self.skip(number, "not a JSON object")

    def used(self, number: int) -> None:
        self._context.accounting.lines_used += 1

    def skip(self, number: int, reason: str) -> None:
        self._context.accounting.skip(reason, self._context.display, [number])
