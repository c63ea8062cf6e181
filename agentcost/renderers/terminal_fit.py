"""A table fitted to the terminal's width, before rich draws it.

A figure is never wrapped or cut: its column is as wide as its widest cell. When the table is
wider than the terminal, in this order: a column of `agentcost` commands leaves the table (the
commands are printed below it, each on lines of its own); the first column's ids are shortened
in the middle (`task-0…0286`), down to `SHORTEST_ID` characters; columns are left out, the
least needed first (`LEFT_OUT_FIRST`), and the caption says which. Prose columns wrap at
spaces only. A table that fits is left as it is."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len

from agentcost.renderers import views

SEPARATOR = 3  # " │ " between two columns; the table has no outer edge
SHORTEST_ID = 12  # shorter, ids that differ only in the middle would look the same
ELLIPSIS = "…"
COMMAND_START = "agentcost "
# The columns a narrow terminal leaves out, first to last: the detail behind a row's cost
# before the cost itself. A column not named here stays, unless nothing else is left to drop.
LEFT_OUT_FIRST = (
    "did you mean", "first line", "mean prompt tokens", "cache write", "cache read",
    "tokens in", "tokens out", "input", "output", "reasoning", "per call", "hits", "why",
    "tokens", "unpriced steps", "of baseline", "tasks", "steps", "calls", "LLM", "tools",
    "hit rate", "share", "%", "change", "before",
)


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool
    width: int | None  # None: as rich lays it out (the table fits as it is)


@dataclass(frozen=True)
class Fitted:
    columns: list[Column]
    rows: list[tuple[str, ...]]
    caption: str
    # The commands taken out of the table: the row's number and its first cell, the command.
    commands: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Measure:
    index: int
    header: str
    numeric: bool
    cells: list[str]
    label: bool = False  # the first column, which names the row: shortened, never wrapped
    natural: int = 0
    least: int = 0

    def __post_init__(self) -> None:
        widest = max((cell_len(cell) for cell in self.cells), default=0)
        self.natural = max(widest, cell_len(self.header))
        header_word = max((cell_len(word) for word in self.header.split()), default=0)
        if self.numeric:  # a figure's column is drawn unwrapped, its heading too
            self.least = self.natural
        elif self.label:
            self.least = min(self.natural, max(SHORTEST_ID, header_word))
        else:  # prose wraps at spaces, never inside a word (a figure, a file:line)
            self.least = max([header_word, *(cell_len(word) for cell in self.cells
                                             for word in cell.split())])


def fit_table(table: views.Table, width: int) -> Fitted:
    measures = [_Measure(at, header, numeric, [row[at] for row in table.rows], label=at == 0)
                for at, (header, numeric) in enumerate(zip(table.headers, table.numeric,
                                                           strict=True))]
    rows = [tuple(row) for row in table.rows]
    if _total(measures, natural=True) <= width:
        return Fitted([Column(m.header, m.numeric, None) for m in measures], rows,
                      table.caption)
    commands: list[tuple[str, str]] = []
    command_column = _command_column(measures)
    if command_column is not None:
        commands = [(f"{number}: {row[0]}" if command_column.index else str(number), cell)
                    for number, (row, cell) in enumerate(zip(rows, command_column.cells,
                                                             strict=True), start=1) if cell]
        numbers = [str(number) for number in range(1, len(rows) + 1)]
        measures = [_Measure(0, "#", True, numbers),
                    *(_Measure(m.index + 1, m.header, m.numeric, m.cells, label=m.label)
                      for m in measures if m is not command_column)]
        rows = [(number, *row) for number, row in zip(numbers, rows, strict=True)]
    left_out = []
    while _total(measures, natural=False) > width and len(measures) > 2:
        drop = _least_needed(measures)
        measures.remove(drop)
        left_out.append(drop.header)
    widths = _widths(measures, width)
    label = next((at for at, m in enumerate(measures) if m.label and not m.numeric), None)
    fitted_rows = []
    for row in rows:
        cells = [row[m.index] for m in measures]
        if label is not None:
            cells[label] = shorten(cells[label], widths[label])
        fitted_rows.append(tuple(cells))
    caption = table.caption
    if left_out:
        note = (f"left out to fit {width} columns: {', '.join(h or 'bars' for h in left_out)}"
                " (wider: --width)")
        caption = f"{caption}; {note}" if caption else note
    if commands:
        caption = (f"{caption}; " if caption else "") + "#: the command below that checks it"
    return Fitted([Column(m.header, m.numeric, w) for m, w in zip(measures, widths, strict=True)],
                  fitted_rows, caption, commands)


def _total(measures: list[_Measure], *, natural: bool) -> int:
    return (sum(m.natural if natural else m.least for m in measures)
            + SEPARATOR * (len(measures) - 1))


def _command_column(measures: list[_Measure]) -> _Measure | None:
    for measure in measures:
        cells = [cell for cell in measure.cells if cell]
        if not measure.numeric and cells and all(c.startswith(COMMAND_START) for c in cells):
            return measure
    return None


def _least_needed(measures: list[_Measure]) -> _Measure:
    """The column to leave out next: the first of LEFT_OUT_FIRST the table has, else the last
    column but the first (which names the row)."""
    for header in LEFT_OUT_FIRST:
        for measure in measures[1:]:
            if measure.header == header:
                return measure
    return measures[-1]


def _widths(measures: list[_Measure], width: int) -> list[int]:
    """Each column at its least, then the room left given out: first to the ids, then to the
    figures' headers (unwrapped), then to the prose, each up to its natural width."""
    widths = [m.least for m in measures]
    room = width - _total(measures, natural=False)
    order = sorted(range(len(measures)), key=lambda at: (
        0 if measures[at].label else 1 if measures[at].numeric else 2, at))
    for at in order:
        give = max(0, min(room, measures[at].natural - widths[at]))
        widths[at] += give
        room -= give
    return widths


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` cells, its middle replaced by an ellipsis: an id's start and
    end, which tell ids apart, are kept."""
    if cell_len(text) <= width:
        return text
    room = max(width - 1, 0)
    head = _fit_cells(text, (room + 1) // 2)
    tail = _fit_cells(text[::-1], room - cell_len(head))[::-1]
    return head + ELLIPSIS + tail


def _fit_cells(text: str, width: int) -> str:
    taken, used = [], 0
    for char in text:
        used += cell_len(char)
        if used > width:
            break
        taken.append(char)
    return "".join(taken)


def pasteable_lines(command: str, width: int) -> list[str]:
    """A shell command in lines of at most `width` characters, split between its words (never
    inside a quoted one), each line but the last ending in a backslash. A single word wider
    than the width is left whole: cut, it would not run."""
    words = _shell_words(command)
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and cell_len(candidate) + 2 > width:  # room for the " \" ending
            lines.append(current + " \\")
            current = "  " + word
        else:
            current = candidate
    lines.append(current)
    return lines


def _shell_words(command: str) -> list[str]:
    """The command split at the spaces outside quotes (shlex.join's quoting)."""
    words, current, quote = [], "", ""
    for char in command:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == " ":
            if current:
                words.append(current)
            current = ""
            continue
        current += char
    if current:
        words.append(current)
    return words
