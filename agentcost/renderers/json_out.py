"""JSON output: the report document, stable key order, one trailing newline.

Tables inside the document stay polars frames until the end and are written by polars, one row
object per line: a report with a hundred thousand tasks serialises in milliseconds.
"""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl

from agentcost.analysis.report import Report
from agentcost.renderers.document import report_document

PLACEHOLDER = "\u0000table:{}"


def render_json(report: Report, tasks: pl.DataFrame) -> bytes:
    """UTF-8 bytes: a hundred thousand task rows are tens of megabytes, and each text copy of
    them (decode, re-encode) costs as much as writing them."""
    tables: list[pl.DataFrame] = []

    def stand_in(value: Any) -> Any:
        if isinstance(value, pl.DataFrame):
            tables.append(value)
            return PLACEHOLDER.format(len(tables) - 1)
        if isinstance(value, dict):
            return {key: stand_in(item) for key, item in value.items()}
        if isinstance(value, list):
            return [stand_in(item) for item in value]
        return value

    text = json.dumps(stand_in(report_document(report, tasks)), indent=2, ensure_ascii=False)
    pieces: list[bytes | memoryview] = []
    done = 0
    for number, table in enumerate(tables):  # placeholders appear in the order they were made
        placeholder = json.dumps(PLACEHOLDER.format(number))
        at = text.index(placeholder, done)
        line_start = text.rfind("\n", 0, at) + 1
        indent = len(text[line_start:at]) - len(text[line_start:at].lstrip(" "))
        pieces += [text[done:at].encode(), *_array(table, indent)]
        done = at + len(placeholder)
    pieces += [text[done:].encode(), b"\n"]
    return b"".join(pieces)


def _array(table: pl.DataFrame, indent: int) -> list[bytes | memoryview]:
    """One row object per line, indented to sit where the placeholder stood."""
    if table.is_empty():
        return [b"[]"]
    inner = b"\n" + b" " * (indent + 2)
    written = io.BytesIO()
    table.write_ndjson(written)
    # A newline inside a value is written escaped, so every raw newline ends a row; the
    # separator after the last row is cut off by a view, not a copy.
    rows = written.getvalue().replace(b"\n", b"," + inner)
    return [b"[", inner, memoryview(rows)[: -len(inner) - 1], b"\n" + b" " * indent + b"]"]
