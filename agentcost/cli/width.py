"""How wide the output is (`--width`, the terminal's, or 100), and plain lines fitted to it."""

from __future__ import annotations

import os
import re
import sys
import textwrap
from typing import Annotated

import typer

# Piped or redirected with no terminal around (cron, CI): wide enough for the task table
# whole, narrow enough to read in a mail or a log viewer.
NO_TERMINAL_WIDTH = 100
NARROWEST, WIDEST = 40, 1000


def _columns(value: int | None) -> int | None:
    if value is not None and not NARROWEST <= value <= WIDEST:
        raise typer.BadParameter(f"{value}: give from {NARROWEST} to {WIDEST} columns")
    return value


Width = Annotated[int | None, typer.Option(
    "--width", metavar="COLUMNS", callback=_columns, show_default=False,
    rich_help_panel="Output",
    help=f"Lines at most this wide ({NARROWEST} to {WIDEST}). Default: the terminal's "
    f"width, also when piped (| less); {NO_TERMINAL_WIDTH} with no terminal at all.")]


def width(asked: int | None = None) -> int:
    """`asked` (--width) when given; else COLUMNS when set; else the width of the terminal
    that stdout, or else stderr or stdin, is on; else NO_TERMINAL_WIDTH."""
    if asked is not None:
        return asked
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):  # not a terminal, closed, replaced
            continue
    return NO_TERMINAL_WIDTH


KEEP_TOGETHER = "\xa0"  # textwrap breaks at ASCII whitespace only


def fitted_lines(lines: list[str], columns: int) -> str:
    """Plain lines, each wrapped at spaces to `columns` (a figure is never split), the rest of
    a wrapped line indented under its start: "agentcost check: ..." stays the first word.
    A line of items set apart by two spaces ("input 2.5  output 10") is wrapped between its
    items where they fit."""
    out = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
        wrapped = _wrapped(line, columns, indent)
        if "  " in line.strip():
            items = re.sub(r"(?<=\S) (?=\S)", KEEP_TOGETHER, line)
            by_items = [part.replace(KEEP_TOGETHER, " ")
                        for part in _wrapped(items, columns, indent)]
            if all(len(part) <= columns for part in by_items):
                wrapped = by_items
        out.extend(wrapped)
    return "".join(f"{line}\n" for line in out)


def _wrapped(line: str, columns: int, indent: str) -> list[str]:
    return textwrap.wrap(line, columns, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False) or [""]
