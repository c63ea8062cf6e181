"""JSON output: the report document, stable key order, one trailing newline.

Tables inside the document stay polars frames until the end and are written by polars, one row
object per line: a report with a hundred thousand tasks serialises in milliseconds. The
document is written into one buffer as it goes, a table a slice of rows at a time (polars
encodes the rows and joins them with their separators), so that a table of every task is
held once, not once per step of its writing.
"""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl

from agentcost.analysis.report import Report
from agentcost.renderers.document import report_document

ROWS_PER_SLICE = 20_000


def render_json(report: Report, tasks: pl.DataFrame) -> bytes:
    """UTF-8 bytes, laid out as `json.dumps(indent=2)` lays them out. Written value by value:
    no text from the traces can stand for a table, or for anything but itself."""
    out = io.BytesIO()
    _write(report_document(report, tasks), 0, out)
    out.write(b"\n")
    return out.getvalue()


def _write(value: Any, indent: int, out: io.BytesIO) -> None:
    inner = b"\n" + b" " * (indent + 2)
    if isinstance(value, pl.DataFrame):
        _array(value, indent, out)
    elif isinstance(value, dict) and value:
        out.write(b"{")
        for number, (key, item) in enumerate(value.items()):
            out.write(b"".join([b"," if number else b"", inner, _scalar(str(key)), b": "]))
            _write(item, indent + 2, out)
        out.write(b"\n" + b" " * indent + b"}")
    elif isinstance(value, list) and value:
        out.write(b"[")
        for number, item in enumerate(value):
            out.write(b"," + inner if number else inner)
            _write(item, indent + 2, out)
        out.write(b"\n" + b" " * indent + b"]")
    else:
        out.write(_scalar(value))


def _scalar(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _array(table: pl.DataFrame, indent: int, out: io.BytesIO) -> None:
    """One row object per line, indented to sit where the placeholder stood: each slice of
    rows encoded and joined by polars, its text handed over as bytes, never copied again."""
    if table.is_empty():
        out.write(b"[]")
        return
    inner = b"\n" + b" " * (indent + 2)
    # Written as write_ndjson writes a row (the same escapes, the same numbers).
    rows = (pl.struct(pl.all()).struct.json_encode().str.join("," + inner.decode())
            .cast(pl.Binary))
    out.write(b"[")
    for offset in range(0, table.height, ROWS_PER_SLICE):
        out.write(b"," + inner if offset else inner)
        out.write(table.slice(offset, ROWS_PER_SLICE).select(rows).item())
    out.write(b"\n" + b" " * indent + b"]")
