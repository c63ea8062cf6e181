"""`agentcost report`: price every step and print the cost report."""

from __future__ import annotations

import sys
from enum import StrEnum
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
    TaskKey,
)
from agentcost.errors import EXIT_STRICT, AgentCostError, UsageError

if TYPE_CHECKING:  # imported for real inside the command, to keep --help fast
    import polars as pl

    from agentcost.analysis.report import Report
    from agentcost.ingest.accounting import LineAccounting


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
REPORT_COLUMNS = ("task_id", "step", "start_time", "duration_s", "kind", "model", "tool_name",
                  "reported_cost_usd", "reported_tool_cost_usd")


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
) -> None:
    """Price every step of the traces and report cost per task, model and tool.

    Example: agentcost report traces.jsonl --sort total --top 10
    """
    from agentcost.analysis.report import build_report, sort_tasks
    from agentcost.ingest.read import read_steps
    from agentcost.pricing.cost import price_steps
    from agentcost.pricing.table import load_price_table
    from agentcost.render.output import write_output

    table = load_price_table(prices)
    if task_key not in ("trace", "session") and not task_key.startswith(
            ("resource.", "attribute.")):
        raise UsageError(f"--task-key {task_key!r}: use trace, session, resource.NAME or "
                         "attribute.NAME")
    columns = (*REPORT_COLUMNS, "workflow") if table.compute_per_workflow else REPORT_COLUMNS
    ingested = read_steps(inputs, columns=columns, input_format=input_format.value,
                          task_key=task_key)
    accounting = ingested.accounting
    if accounting.lines_read and not accounting.lines_used and accounting.lines_skipped:
        _print_skips(accounting)
        raise AgentCostError(f"no usable line in {accounting.lines_read:,} lines read")
    priced = price_steps(ingested.steps.lazy(), table, cost_mode=cost_mode.value)
    result = build_report(priced, accounting, price_table=table.file,
                          cost_mode=cost_mode.value)
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
            color: bool | None, *, to_file: bool) -> str:
    if output_format is OutputFormat.json:
        from agentcost.render.json_out import render_json

        return render_json(result, tasks)
    if output_format is OutputFormat.csv:
        from agentcost.render.csv_out import render_csv

        return render_csv(tasks)
    if output_format is OutputFormat.markdown:
        from agentcost.render.markdown import render_markdown

        return render_markdown(result, tasks)
    import shutil

    from agentcost.render.terminal import render_terminal

    use_color = color if color is not None else (not to_file and sys.stdout.isatty())
    width = shutil.get_terminal_size((120, 40)).columns
    return render_terminal(result, tasks, width=width, color=use_color)


def _warn(result: Report) -> None:
    accounting = result.accounting
    if accounting.lines_read == 0:
        print("agentcost: the input is empty: no lines to report on", file=sys.stderr)
    elif accounting.lines_skipped:
        _print_skips(accounting)
    s = result.summary
    if s.unpriced_steps or s.unpriced_tool_calls:
        print(f"agentcost: {s.unpriced_steps:,} LLM steps and {s.unpriced_tool_calls:,} tool "
              "calls are unpriced and excluded from totals", file=sys.stderr)


def _print_skips(accounting: LineAccounting) -> None:
    from agentcost.render.text import lines_list, safe_text

    print(f"agentcost: {accounting.lines_skipped:,} of {accounting.lines_read:,} lines skipped",
          file=sys.stderr)
    for reason, tally in sorted(accounting.skipped.items(), key=lambda i: (-i[1].count, i[0])):
        where = lines_list(tally.examples, single_file=False)
        print(f"  {tally.count:,} x {safe_text(reason)}: {where}", file=sys.stderr)
