"""Markdown output. Untrusted text is escaped so it cannot add markup, links or HTML."""

from __future__ import annotations

import re

import polars as pl

from agentcost.analysis.report import Report
from agentcost.renderers import views

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_markdown(report: Report, tasks: pl.DataFrame) -> str:
    return render_blocks("agentcost report", views.report_blocks(report, tasks))


def render_blocks(title: str, blocks: list[views.Block]) -> str:
    out = [f"# {title}", ""]
    for block in blocks:
        out += _table(block) if isinstance(block, views.Table) else _section(block)
    return "\n".join(out).rstrip("\n") + "\n"


def _section(section: views.Section) -> list[str]:
    heading = [f"## {escape(section.title)}", ""] if section.title else []
    return [*heading, *(f"- {escape(line.strip())}" for line in section.lines), ""]


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
