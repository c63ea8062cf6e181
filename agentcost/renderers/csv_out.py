"""CSV output: the per-task table, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import polars as pl

from agentcost.renderers.text import safe_text

# A cost column is empty where nothing of it is known; `priced` says whole, partial (the cost
# columns hold the priced part only) or unpriced.
CSV_COLUMNS = ("task_id", "steps", "tokens_in", "tokens_out", "llm_cost_usd", "tool_cost_usd",
               "compute_cost_usd", "total_cost_usd", "priced", "unpriced_steps", "flagged")
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(text: str) -> str:
    text = safe_text(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render_csv(tasks: pl.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in tasks.select(CSV_COLUMNS).iter_rows():
        task_id, *rest = row
        writer.writerow([spreadsheet_safe(task_id), *(_cell(value) for value in rest)])
    return buffer.getvalue()


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10f}".rstrip("0").rstrip(".") if value else "0"
    return "" if value is None else str(value)
