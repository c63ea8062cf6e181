"""A table fitted to a width: ids shortened in the middle, columns left out by priority with a
note, figures whole; commands split so that they paste; the width itself."""

from __future__ import annotations

import io
import shlex
import sys

import pytest
from rich.cells import cell_len

from agentcost.cli.width import NO_TERMINAL_WIDTH, fitted_lines, width
from agentcost.renderers.terminal import render_blocks
from agentcost.renderers.terminal_fit import fit_table, pasteable_lines, shorten
from agentcost.renderers.views import Table


def test_an_id_keeps_its_start_and_end():
    # 8 cells: 1 for the ellipsis, 4 from the start, 3 from the end.
    assert shorten("task-0000286", 8) == "task…286"
    assert shorten("task-0000286", 12) == "task-0000286"
    # Wide characters count as two cells: 2 + 1 + 4 = 7.
    assert shorten("日本語日本語", 7) == "日…本語"


def test_a_command_is_split_between_its_words_and_still_runs():
    command = ("agentcost simulate 'my traces/a b.jsonl' --route summarize=gpt-4o-mini "
               "--cache web_search:1h --since 2026-11-27T00:00:00+00:00")
    lines = pasteable_lines(command, 40)
    assert len(lines) > 1
    assert all(len(line) <= 40 for line in lines)
    assert all(line.endswith(" \\") for line in lines[:-1])
    pasted = "\n".join(lines).replace("\\\n", "")
    assert shlex.split(pasted) == shlex.split(command)
    assert pasteable_lines(command, 200) == [command]


TASKS = Table("Tasks", ("task", "steps", "tokens in", "tokens out", "total", "flag"),
              [("task-0000286", "80", "3,465,430", "30,806", "$6.4857", "high"),
               ("task-0000364", "74", "2,988,899", "27,357", "$5.5899", "high")],
              (False, True, True, True, True, False), caption="2 of 402 tasks shown")


def test_a_table_that_fits_is_left_as_it_is():
    fitted = fit_table(TASKS, 80)
    assert [c.width for c in fitted.columns] == [None] * 6
    assert fitted.rows == list(TASKS.rows)
    assert fitted.caption == "2 of 402 tasks shown"


def test_columns_are_left_out_by_priority_and_said():
    # Whole: 12 + 5 + 9 + 10 + 7 + 4 = 47, and 5 separators of 3: 62 columns. At their least
    # ("tokens out" wrapped to 6): 58. At 45: without "tokens in" (9 + 3) 46, still too wide;
    # without "tokens out" (6 + 3) too: 37.
    fitted = fit_table(TASKS, 45)
    assert [c.header for c in fitted.columns] == ["task", "steps", "total", "flag"]
    assert fitted.caption == ("2 of 402 tasks shown; left out to fit 45 columns: tokens in, "
                              "tokens out (wider: --width)")
    text = render_blocks([TASKS], width=45, color=False)
    assert max(cell_len(line) for line in text.splitlines()) <= 45
    assert "$6.4857" in text and "task-0000286" in text


def test_commands_leave_a_table_too_narrow_for_them():
    command = "agentcost simulate traces.jsonl --cache web_search:1h"
    table = Table("Savings to look at", ("kind", "what", "saving", "check it with"),
                  [("caching", "web_search: 787 of 974 calls repeat one", "$3.935", command)],
                  (False, False, True, False))
    text = render_blocks([table], width=60, color=False)
    lines = text.splitlines()
    assert lines[lines.index("# 1: caching") + 1] == command
    assert "check it with" not in text
    assert max(cell_len(line) for line in lines) <= 60
    # Wide enough, the command stays in its column.
    assert "check it with" in render_blocks([table], width=200, color=False)


def test_plain_lines_wrap_between_items_and_indent_what_follows():
    line = "  gpt-4o: input 2.5  output 10  cache read 1.25  (2 aliases; tiers: batch)"
    assert fitted_lines([line], 52) == ("  gpt-4o: input 2.5  output 10  cache read 1.25\n"
                                        "    (2 aliases; tiers: batch)\n")


def test_the_width_asked_for_wins(monkeypatch):
    monkeypatch.setenv("COLUMNS", "132")
    assert width(60) == 60
    assert width() == 132


def test_with_no_terminal_anywhere_the_width_is_100(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    for name in ("stdout", "stderr", "stdin"):
        monkeypatch.setattr(sys, name, io.StringIO())  # no descriptor: not a terminal
    assert width() == NO_TERMINAL_WIDTH == 100


@pytest.mark.parametrize("columns", ["39", "1001", "wide"])
def test_a_width_out_of_bounds_is_a_usage_error(run_cli, columns):
    result = run_cli("report", "x.jsonl", "--width", columns)
    assert result.exit_code == 2
