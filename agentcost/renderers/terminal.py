"""The terminal report, drawn with rich. Every value is a Text object, so markup in trace data
(a task id like "[red]x[/red]") is printed as written, never interpreted.

Nothing is printed wider than the width asked for. A table that does not fit is fitted
(`terminal_fit.py`): figures are never wrapped, ids are shortened in the middle, and columns
are left out by priority, with a note; printed commands go below the table, on lines of their
own that paste."""

from __future__ import annotations

import io
import re

import polars as pl
from rich.align import Align
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from agentcost.analysis.report import Report
from agentcost.renderers import views
from agentcost.renderers.terminal_fit import Fitted, fit_table, pasteable_lines
from agentcost.renderers.text import align_points

DEFAULT_WIDTH = 100


def render_terminal(report: Report, tasks: pl.DataFrame, *, width: int | None = None,
                    color: bool = True) -> str:
    return render_blocks(views.report_blocks(report, tasks), width=width, color=color)


def render_blocks(blocks: list[views.Block], *, width: int | None = None,
                  color: bool = True) -> str:
    width = width or DEFAULT_WIDTH
    console = Console(file=io.StringIO(), width=width, force_terminal=color,
                      color_system="standard" if color else None, highlight=False,
                      emoji=False, markup=False, soft_wrap=False)
    console.print(Group(*(_table(block, width) if isinstance(block, views.Table)
                          else _section(block, width) for block in blocks)))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def _section(section: views.Section, width: int) -> RenderableType:
    body = [Text(section.title, style="bold underline")] if section.title else []
    body.extend(Text(line) for text in section.lines for line in _items_wrapped(text, width))
    body.append(Text(""))
    return Group(*body)


def _items_wrapped(line: str, width: int) -> list[str]:
    """A line of items set apart by two spaces ("Tokens  input 38,800  output 3,200") that is
    too wide, wrapped between its items, so that no name is parted from its figure; the items
    after the first line are indented under the first item. Other lines: rich wraps them
    between words."""
    if cell_len(line) <= width or "  " not in line.strip():
        return [line]
    first = re.search(r"\S\s{2,}(?=\S)", line)
    assert first is not None
    start = first.end()  # where the first item starts: later lines begin there
    items = re.split(r"\s{2,}", line[start:].strip())
    lines, current = [], line[:start] + items[0]
    for item in items[1:]:
        if cell_len(current) + 2 + cell_len(item) > width:
            lines.append(current)
            current = " " * start + item
        else:
            current = f"{current}  {item}"
    lines.append(current)
    return lines


def _table(table: views.Table, width: int) -> RenderableType:
    fitted = fit_table(table, width)
    rich_table = RichTable(title=Text(table.title, style="bold yellow" if table.warn else "bold"),
                           title_justify="left", caption=Text(fitted.caption)
                           if fitted.caption else None, caption_justify="left",
                           show_edge=False, pad_edge=False)
    columns: list[list[RenderableType]] = []
    for at, column in enumerate(fitted.columns):
        numeric = column.numeric
        rich_table.add_column(Text(column.header), justify="right" if numeric else "left",
                              overflow="fold", width=column.width, no_wrap=numeric)
        cells = [row[at] for row in fitted.rows]
        # Rich strips trailing spaces from text it justifies to the right, and those spaces
        # line the decimal points up: the padded text is kept as written and set right.
        columns.append([Align.right(Text(cell, justify="left", overflow="fold", no_wrap=True))
                        for cell in align_points(cells)] if numeric
                       else [Text(cell) for cell in cells])
    for index, row in enumerate(zip(*columns, strict=True)):
        flagged = index < len(table.flagged) and table.flagged[index]
        rich_table.add_row(*row, style="red" if flagged else None)
    return Group(rich_table, Text(""), *_commands(fitted, width))


def _commands(fitted: Fitted, width: int) -> list[RenderableType]:
    """The commands taken out of the table, each under a shell comment naming its row, split
    with a backslash where it is longer than the width: pasted, each runs as printed."""
    if not fitted.commands:
        return []
    lines: list[RenderableType] = [Text("Run them with:")]
    for row, command in fitted.commands:
        lines.append(Text(f"# {row}", no_wrap=True, overflow="ellipsis"))
        lines.extend(Text(line, no_wrap=True, overflow="ignore")
                     for line in pasteable_lines(command, width))
    lines.append(Text(""))
    return lines
