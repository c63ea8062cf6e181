"""JSON output: the report document, stable key order, one trailing newline.

Tables inside the document stay polars frames until the end and are written by polars, one row
object per line: a report with a hundred thousand tasks serialises in milliseconds.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from agentcost.analysis.report import Report
from agentcost.render.document import report_document

PLACEHOLDER = "\u0000table:{}"


def render_json(report: Report, tasks: pl.DataFrame) -> str:
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
    pieces: list[str] = []
    done = 0
    for number, table in enumerate(tables):  # placeholders appear in the order they were made
        placeholder = json.dumps(PLACEHOLDER.format(number))
        at = text.index(placeholder, done)
        line_start = text.rfind("\n", 0, at) + 1
        indent = len(text[line_start:at]) - len(text[line_start:at].lstrip(" "))
        pieces += [text[done:at], _array(table, indent)]
        done = at + len(placeholder)
    pieces += [text[done:], "\n"]
    return "".join(pieces)


def _array(table: pl.DataFrame, indent: int) -> str:
    """One row object per line, indented to sit where the placeholder stood."""
    if table.is_empty():
        return "[]"
    inner = "\n" + " " * (indent + 2)
    # A newline inside a value is written escaped, so every raw newline ends a row.
    rows = table.write_ndjson().rstrip("\n").replace("\n", "," + inner)
    return "[" + inner + rows + "\n" + " " * indent + "]"
