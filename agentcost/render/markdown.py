"""Markdown output. Untrusted text is escaped so it cannot add markup, links or HTML."""

from __future__ import annotations

import re

import polars as pl

from agentcost.analysis.report import Report
from agentcost.render import views

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_markdown(report: Report, tasks: pl.DataFrame) -> str:
    out = ["# agentcost report", ""]
    out += _section(views.summary_section(report))
    if report.summary.steps:
        out += _table(views.task_table(report, tasks))
        if report.by_model.height:
            out += _table(views.model_table(report))
        if report.by_tool.height:
            out += _table(views.tool_table(report))
        distribution = views.distribution_table(report)
        if distribution is not None:
            out += _table(distribution)
    else:
        out += ["No steps in the input.", ""]
    for table in views.unpriced_tables(report):
        out += _table(table)
    reconciled = views.reconciliation_table(report)
    if reconciled is not None:
        out += _table(reconciled)
    out += _section(views.input_section(report))
    return "\n".join(out).rstrip("\n") + "\n"


def _section(section: views.Section) -> list[str]:
    return [f"## {section.title}", "", *(f"- {escape(line.strip())}" for line in section.lines), ""]


def _table(table: views.Table) -> list[str]:
    lines = [f"## {escape(table.title)}", ""]
    lines.append("| " + " | ".join(escape(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in table.numeric) + "|")
    for index, row in enumerate(table.rows):
        cells = [escape(cell) for cell in row]
        if index < len(table.flagged) and table.flagged[index]:
            cells[0] = f"**{cells[0]}** (flagged)"
        lines.append("| " + " | ".join(cells) + " |")
    if table.caption:
        lines += ["", escape(table.caption)]
    return [*lines, ""]
