"""The HTML report's tables: the shared blocks (views.py) as HTML, and the task table, capped at
its first rows with every task kept in the page as a compressed CSV to download."""

from __future__ import annotations

import base64
import gzip
import math

import polars as pl

from agentcost.analysis.report import Report
from agentcost.renderers import views
from agentcost.renderers.csv_out import render_csv
from agentcost.renderers.html_text import e
from agentcost.renderers.text import count, money

# The task rows drawn in the page (more is a page no one scrolls and a browser renders slowly).
TABLE_ROWS = 100
# The embedded CSV's compressed size at most: a page of a few MB whatever the number of tasks.
CSV_BUDGET_BYTES = 2_500_000


def block(item: views.Block) -> str:
    if isinstance(item, views.Table):
        return table(item)
    if not item.title:
        return "".join(f"<p>{e(line)}</p>" for line in item.lines)
    return (f"<section><h2>{e(item.title)}</h2><ul>"
            + "".join(f"<li>{e(line)}</li>" for line in item.lines) + "</ul></section>")


def table(item: views.Table, *, title_tag: str = "h2") -> str:
    heads = "".join(f"<th{' class=n' if n else ''}>{e(h)}</th>"
                    for h, n in zip(item.headers, item.numeric, strict=True))
    rows = []
    for index, row in enumerate(item.rows):
        flag = " class=flag" if index < len(item.flagged) and item.flagged[index] else ""
        rows.append(f"<tr{flag}>" + "".join(
            f"<td{' class=n' if n else ''}>{e(cell)}</td>"
            for cell, n in zip(row, item.numeric, strict=True)) + "</tr>")
    caption = "".join(f"<p class=note>{e(line)}</p>" for line in item.caption.split("\n")
                      if line)
    heading = f"<{title_tag}>{e(item.title)}</{title_tag}>" if item.title else ""
    return (f"<section{' class=warn' if item.warn else ''}>{heading}<div class=scroll><table>"
            f"<thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            f"{caption}</section>")


TASK_COLUMNS = ("task_id", "steps", "tokens_in", "tokens_out", "llm_cost_usd", "tool_cost_usd",
                "compute_cost_usd", "total_cost_usd")
TASK_HEADERS = ("task", "steps", "tokens in", "tokens out", "LLM", "tools", "compute", "total",
                "flag")


def task_table(report: Report, tasks: pl.DataFrame, *, shown: int, sorted_by: str) -> str:
    """The first `shown` of `tasks` (already sorted) as a table sortable by its headings, a
    flag column beside the colour, and every one of `tasks` as a CSV to download."""
    threshold = report.distribution.flag_threshold if report.distribution else math.inf
    rows = []
    for row in tasks.head(shown).iter_rows(named=True):
        shown_cost = {
            "llm_cost_usd": views.part_cost(row["llm_cost_usd"], row["unpriced_llm_steps"]),
            "tool_cost_usd": views.part_cost(row["tool_cost_usd"], row["unpriced_tool_calls"]),
            "compute_cost_usd": money(row["compute_cost_usd"]),
            "total_cost_usd": views.task_total(row["total_cost_usd"], row["priced"]),
        }
        cells = [f"<td>{e(row['task_id'])}</td>"]
        for name in TASK_COLUMNS[1:]:
            value = row[name]
            text = shown_cost.get(name) or count(value)
            cells.append(f"<td class=n data-v='{'' if value is None else value}'>{e(text)}</td>")
        cells.append(f"<td class=mark>{'high' if row['flagged'] else ''}</td>")
        rows.append(f"<tr{' class=flag' if row['flagged'] else ''}>" + "".join(cells) + "</tr>")
    heads = "".join(f"<th{'' if i in (0, 8) else ' class=n'}>{e(h)}</th>"
                    for i, h in enumerate(TASK_HEADERS))
    order = "A to Z" if sorted_by == "task" else "most first"
    notes = [f"{count(min(shown, tasks.height))} of {count(report.tasks.height)} tasks, "
             f"sorted by {sorted_by} ({order})", "click a heading to sort the rows shown"]
    if report.distribution is not None:
        notes.append(f"high (red): above 2 x P50 = {money(threshold)}")
    if (tasks["priced"] != "whole").any():
        notes.append("partial: has unpriced steps, its priced part only; unpriced: no step "
                     "of it priced")
    return (f"<section id=task-section><h2>Tasks</h2>{csv_download(tasks)}"
            f"<div class=scroll><table class=sortable id=tasks><thead><tr>{heads}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            f"<p class=note>{e('; '.join(notes))}</p></section>")


def csv_download(tasks: pl.DataFrame) -> str:
    """A link to the task table as CSV (the `-f csv` output), kept in the page gzip-compressed
    and base64-encoded; the page's script unpacks it on a click. When even compressed it
    would make the page too large, it holds the first tasks that fit and says so."""
    text = render_csv(tasks)
    packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    kept = tasks.height
    while len(packed) > CSV_BUDGET_BYTES and kept > 1:
        kept = max(1, int(kept * CSV_BUDGET_BYTES / len(packed) * 0.95))
        text = render_csv(tasks.head(kept))
        packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    label = f"Download the {count(kept)} tasks as CSV"
    if kept < tasks.height:
        label = (f"Download the first {count(kept)} of {count(tasks.height)} tasks as CSV "
                 "(all of them: agentcost report -f csv)")
    return (f"<a class=download id=csv-download href='#' download='agentcost-tasks.csv'>"
            f"{e(label)}</a><script type='application/octet-stream' id=csv-data>"
            f"{base64.b64encode(packed).decode('ascii')}</script>")
