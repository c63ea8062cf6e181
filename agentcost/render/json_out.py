"""JSON output: the report document, stable key order, one trailing newline."""

from __future__ import annotations

import json

import polars as pl

from agentcost.analysis.report import Report
from agentcost.render.document import report_document


def render_json(report: Report, tasks: pl.DataFrame) -> str:
    return json.dumps(report_document(report, tasks), indent=2, ensure_ascii=False) + "\n"
