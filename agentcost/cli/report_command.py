"""`agentcost report`: price every step and print the cost report."""

from __future__ import annotations

import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentcost.cli.options import (
    Color,
    CostMode,
    CostModeOption,
    Format,
    InputFormat,
    InputFormatOption,
    Inputs,
    Output,
    OutputFormat,
    Prices,
    Since,
    TaskKey,
    Until,
)
from agentcost.cli.pipeline import Window, build, load_table, print_skips
from agentcost.errors import EXIT_STRICT

if TYPE_CHECKING:  # imported for real inside the command, to keep --help fast
    import polars as pl

    from agentcost.analysis.report import Report


class Breakdown(StrEnum):
    user = "user"
    workflow = "workflow"
    agent = "agent"
    model = "model"
    tool = "tool"
    day = "day"
    hour = "hour"


class SortColumn(StrEnum):
    task = "task"
    steps = "steps"
    tokens_in = "tokens_in"
    tokens_out = "tokens_out"
    llm = "llm"
    tool = "tool"
    compute = "compute"
    total = "total"


SORT_TO_COLUMN = {
    "task": "task_id", "steps": "steps", "tokens_in": "tokens_in", "tokens_out": "tokens_out",
    "llm": "llm_cost_usd", "tool": "tool_cost_usd", "compute": "compute_cost_usd",
    "total": "total_cost_usd",
}
TABLE_DEFAULT_TOP = 20


def report(
    inputs: Inputs,
    prices: Prices = None,
    output_format: Format = OutputFormat.table,
    output: Output = None,
    sort: Annotated[SortColumn, typer.Option(
        help="Sort the task table by this column (descending; task: ascending).")
    ] = SortColumn.total,
    top: Annotated[int | None, typer.Option(
        min=1, help=f"Show only the first N tasks. Default: {TABLE_DEFAULT_TOP} in the table "
        "format, all in the others.")] = None,
    strict: Annotated[bool, typer.Option(
        help="Exit 3 if any step is unpriced or any input line was skipped.")] = False,
    color: Color = None,
    input_format: InputFormatOption = InputFormat.auto,
    cost_mode: CostModeOption = CostMode.computed,
    task_key: TaskKey = "trace",
    since: Since = None,
    until: Until = None,
    by: Annotated[Breakdown | None, typer.Option(
        help="Add a breakdown of cost by this.")] = None,
    opportunities: Annotated[bool, typer.Option(
        help="Look for savings (routing, tool caching, compression, budgets), each estimated "
        "by replaying it, with the simulate command that checks it.")] = False,
    baseline: Annotated[Path | None, typer.Option(
        help="An earlier JSON report: show the change in total, P50, P90, P99 and per-model "
        "spend.")] = None,
) -> None:
    """Price every step of the traces and report cost per task, model and tool.

    Example: agentcost report traces.jsonl --sort total --top 10
    """
    table = load_table(prices)
    result = build(inputs, table, cost_mode=cost_mode.value, input_format=input_format.value,
                   task_key=task_key, window=Window.parse(since, until),
                   by=by.value if by else None, opportunities=opportunities)
    from agentcost.analysis.report import sort_tasks
    from agentcost.render.output import write_output

    if baseline is not None:
        from agentcost.analysis.drift import drift, load_baseline

        result = replace(result, drift=drift(result, load_baseline(baseline)))
    accounting = result.accounting
    limit = top if top is not None else (
        TABLE_DEFAULT_TOP if output_format is OutputFormat.table else None)
    tasks = sort_tasks(result.tasks, SORT_TO_COLUMN[sort.value], top=limit)
    write_output(_render(result, tasks, output_format, color, to_file=output is not None),
                 output)
    _warn(result)
    if strict and (result.summary.unpriced_steps or result.summary.unpriced_tool_calls
                   or accounting.lines_skipped):
        print("agentcost: --strict: some steps are unpriced or some lines were skipped",
              file=sys.stderr)
        raise typer.Exit(EXIT_STRICT)


def _render(result: Report, tasks: pl.DataFrame, output_format: OutputFormat,
            color: bool | None, *, to_file: bool) -> str | bytes:
    if output_format is OutputFormat.json:
        from agentcost.render.json_out import render_json

        return render_json(result, tasks)
    if output_format is OutputFormat.csv:
        from agentcost.render.csv_out import render_csv

        return render_csv(tasks)
    if output_format is OutputFormat.markdown:
        from agentcost.render.markdown import render_markdown

        return render_markdown(result, tasks)
    if output_format is OutputFormat.html:
        from agentcost.render.html import render_html

        return render_html(result, tasks)
    import shutil

    from agentcost.render.terminal import render_terminal

    use_color = color if color is not None else (not to_file and sys.stdout.isatty())
    width = shutil.get_terminal_size((120, 40)).columns
    return render_terminal(result, tasks, width=width, color=use_color)


def _warn(result: Report) -> None:
    accounting = result.accounting
    if accounting.lines_read == 0:
        print("agentcost: the input is empty: no lines to report on", file=sys.stderr)
    elif accounting.lines_skipped or accounting.spans_skipped:
        print_skips(accounting)
    s = result.summary
    if s.unpriced_steps or s.unpriced_tool_calls:
        from agentcost.render.text import unpriced_counts

        print(f"agentcost: {unpriced_counts(s.unpriced_steps, s.unpriced_tool_calls)} unpriced, "
              "excluded from totals", file=sys.stderr)


