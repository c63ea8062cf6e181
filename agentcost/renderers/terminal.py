"""The terminal report, drawn with rich. Every value is a Text object, so markup in trace data
(a task id like "[red]x[/red]") is printed as written, never interpreted."""

from __future__ import annotations

import io

import polars as pl
from rich.align import Align
from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from agentcost.analysis.report import Report
from agentcost.renderers import views
from agentcost.renderers.text import align_points


def render_terminal(report: Report, tasks: pl.DataFrame, *, width: int | None = None,
                    color: bool = True) -> str:
    return render_blocks(views.report_blocks(report, tasks), width=width, color=color)


def render_blocks(blocks: list[views.Block], *, width: int | None = None,
                  color: bool = True) -> str:
    console = Console(file=io.StringIO(), width=width or 120, force_terminal=color,
                      color_system="standard" if color else None, highlight=False,
                      emoji=False, markup=False, soft_wrap=False)
    console.print(Group(*(_table(block) if isinstance(block, views.Table) else _section(block)
                          for block in blocks)))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def _section(section: views.Section) -> RenderableType:
    body = [Text(section.title, style="bold underline")] if section.title else []
    body.extend(Text(line) for line in section.lines)
    body.append(Text(""))
    return Group(*body)


def _table(table: views.Table) -> RenderableType:
    rich_table = RichTable(title=Text(table.title, style="bold yellow" if table.warn else "bold"),
                           title_justify="left", caption=Text(table.caption) if table.caption
                           else None, caption_justify="left", show_edge=False, pad_edge=False)
    columns: list[list[RenderableType]] = []
    for at, (header, numeric) in enumerate(zip(table.headers, table.numeric, strict=True)):
        rich_table.add_column(Text(header), justify="right" if numeric else "left",
                              overflow="fold")
        cells = [row[at] for row in table.rows]
        # Rich strips trailing spaces from text it justifies to the right, and those spaces
        # line the decimal points up: the padded text is kept as written and set right.
        columns.append([Align.right(Text(cell, justify="left", overflow="fold"))
                        for cell in align_points(cells)] if numeric
                       else [Text(cell) for cell in cells])
    for index, row in enumerate(zip(*columns, strict=True)):
        flagged = index < len(table.flagged) and table.flagged[index]
        rich_table.add_row(*row, style="red" if flagged else None)
    return Group(rich_table, Text(""))
