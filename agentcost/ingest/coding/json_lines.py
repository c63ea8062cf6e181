"""A coding agent's JSON Lines log, record by record, every line accounted for: blank lines,
lines over the limit, lines that are not a JSON object and a last line cut off (the agent is
still writing) are counted and named here; the reader says of each record it is given whether
it used it or skipped it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from agentcost.ingest.accounting import TRUNCATED

if TYPE_CHECKING:
    from agentcost.ingest.readers.base import ReadContext


class JsonLines:
    """`for number, record in JsonLines(stream, context)`: each JSON object with its line
    number; then `used(number)` or `skip(number, reason)` for it."""

    def __init__(self, stream: BinaryIO, context: ReadContext) -> None:
        self._stream, self._context = stream, context

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        from agentcost.ingest.limits import line_too_long
        from agentcost.ingest.sources import read_chunks

        accounting, display = self._context.accounting, self._context.display
        for chunk in read_chunks(self._stream, max_line_bytes=self._context.max_line_bytes):
            if chunk.stream_error:
                last = chunk.first_line + max(chunk.line_count - 1, 0)
                accounting.note(f"input cut off ({chunk.stream_error})", display, [last])
            if chunk.too_long:
                accounting.lines_read += 1
                accounting.skip(line_too_long(self._context.max_line_bytes), display,
                                [chunk.first_line])
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
                    record = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    cut = chunk.ends_unterminated and number == last_line
                    accounting.skip(TRUNCATED if cut else "not valid JSON", display, [number])
                    continue
                if not isinstance(record, dict):
                    accounting.skip("not a JSON object", display, [number])
                    continue
                yield number, record

    def used(self, number: int) -> None:
        self._context.accounting.lines_used += 1

    def skip(self, number: int, reason: str) -> None:
        self._context.accounting.skip(reason, self._context.display, [number])
