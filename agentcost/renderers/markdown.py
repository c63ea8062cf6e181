"""Markdown output. Untrusted text is escaped so it cannot add markup, links or HTML; what could
not be markup where it stands is left as it is, so the source reads as plainly as the page."""

from __future__ import annotations

import re

import polars as pl

from agentcost.analysis.report import Report
from agentcost.renderers import views

# Escaped wherever they stand: inline code, emphasis, links, table cells, strikethrough,
# raw HTML, and the backslash itself.
INLINE = re.compile(r"([\\`*\[\]|~])")
# An underscore between two letters or digits cannot open or close emphasis (web_search).
LONE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# An entity (&amp;), and what an autolinking renderer turns into a link (www., http://, a@b).
ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
AUTOLINK = re.compile(r"(?i)(?<=www)\.|:(?=//)|@")
# At the start of a line, what would begin a block: a heading, a list item, a quote, a
# thematic break or a setext underline, an ordered list ("1." or "1)").
LINE_START = re.compile(r"^(\s*)([-+=#>])", re.MULTILINE)
ORDERED = re.compile(r"^(\s*\d{1,9})([.)])", re.MULTILINE)
# A heading's closing sequence: a # after a space.
HASH_AFTER_SPACE = re.compile(r"(?<=\s)#")


def escape(text: str, *, block: bool = True) -> str:
    """`text` as markdown that shows it as it is: only what would be markup where it stands is
    escaped ($51.57 and 2026-11-27 stay as they are). `block`: the text begins a line (a list
    item, a heading, a paragraph), where a leading -, #, > or "1." would start a block; a
    table cell (block=False) cannot."""
    text = INLINE.sub(r"\\\1", text)
    text = LONE_UNDERSCORE.sub(r"\\_", text)
    text = ENTITY.sub("&amp;", text).replace("<", "&lt;")
    text = AUTOLINK.sub(lambda found: "\\" + found.group(), text)
    if block:
        text = ORDERED.sub(r"\1\\\2", text)
        text = LINE_START.sub(r"\1\\\2", text)
        text = HASH_AFTER_SPACE.sub(r"\\#", text)
    return text


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
    lines.append("| " + " | ".join(escape(h, block=False) for h in table.headers) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in table.numeric) + "|")
    for index, row in enumerate(table.rows):
        cells = [escape(cell, block=False) for cell in row]
        if index < len(table.flagged) and table.flagged[index]:
            cells[0] = f"**{cells[0]}** (flagged)"
        lines.append("| " + " | ".join(cells) + " |")
    if table.caption:
        lines += ["", escape(table.caption)]
    return [*lines, ""]
