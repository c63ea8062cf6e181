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


def render_json(report: Report, tasks: pl.DataFrame) -> bytes:
    """UTF-8 bytes, laid out as `json.dumps(indent=2)` lays them out. Written value by value:
    no text from the traces can stand for a table, or for anything but itself."""
    pieces: list[bytes | memoryview] = []
    _write(report_document(report, tasks), 0, pieces)
    pieces.append(b"\n")
    return b"".join(pieces)


def _write(value: Any, indent: int, pieces: list[bytes | memoryview]) -> None:
    inner = b"\n" + b" " * (indent + 2)
    if isinstance(value, pl.DataFrame):
        pieces += _array(value, indent)
    elif isinstance(value, dict) and value:
        pieces.append(b"{")
        for number, (key, item) in enumerate(value.items()):
            pieces += [b"," if number else b"", inner, _scalar(str(key)), b": "]
            _write(item, indent + 2, pieces)
        pieces += [b"\n", b" " * indent, b"}"]
    elif isinstance(value, list) and value:
        pieces.append(b"[")
        for number, item in enumerate(value):
            pieces += [b"," if number else b"", inner]
            _write(item, indent + 2, pieces)
        pieces += [b"\n", b" " * indent, b"]"]
    else:
        pieces.append(_scalar(value))


def _scalar(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


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
