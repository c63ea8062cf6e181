"""`agentcost report`: price every step and print the cost report."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.agents import inputs_and_agents
from agentcost.cli.help import DASHBOARD, OUTPUT, PRICING
from agentcost.cli.options import (
    AUTO,
    Color,
    CostMode,
    CostModeOption,
    EngineName,
    EngineOption,
    Format,
    FromAgents,
    InputFormatOption,
    Inputs,
    Jobs,
    MaxLineSize,
    Output,
    OutputFormat,
    Partitions,
    Prices,
    RayAddress,
    Since,
    StoreOption,
    TaskKey,
    Until,
    at_least_one,
    chosen_engine,
    price_table,
)
from agentcost.cli.reading import (
    print_skips,
    read_progress,
    reading,
    refuse_output_over_inputs,
    use_color,
)
from agentcost.cli.width import Width, width
from agentcost.errors import EXIT_STRICT, UsageError
from agentcost.ingest.limits import MAX_LINE_BYTES


class Breakdown(StrEnum):
    user = "user"
    workflow = "workflow"
    agent = "agent"
    model = "model"
    tool = "tool"
    day = "day"
    hour = "hour"
    week = "week"
    month = "month"
    session = "session"
    project = "project"
    branch = "branch"
    block = "block"


class SortColumn(StrEnum):
    task = "task"
    steps = "steps"
    tokens_in = "tokens_in"
    tokens_out = "tokens_out"
    llm = "llm"
    tool = "tool"
    compute = "compute"
    total = "total"


def report(
    inputs: Inputs = None,
    from_agents: FromAgents = None,
    input_format: InputFormatOption = AUTO,
    task_key: TaskKey = "trace",
    store: StoreOption = None,
    jobs: Jobs = "auto",
    engine: EngineOption = EngineName.auto,
    ray_address: RayAddress = None,
    partitions: Partitions = None,
    max_line_size: MaxLineSize = MAX_LINE_BYTES,
    prices: Prices = None,
    cost_mode: CostModeOption = CostMode.computed,
    strict: Annotated[bool, typer.Option(
        "--strict", metavar="", rich_help_panel=PRICING,
        help="Exit 3 if any step is unpriced or any input line was skipped.")] = False,
    output_format: Format = OutputFormat.table,
    output: Output = None,
    sort: Annotated[SortColumn, typer.Option(
        metavar="COLUMN", rich_help_panel=OUTPUT,
        help=f"Sort the task table by {', '.join(SortColumn)} (descending; task: "
        "ascending).")] = SortColumn.total,
    top: Annotated[int | None, typer.Option(
        metavar="N", callback=at_least_one, rich_help_panel=OUTPUT,
        help="Show only the first N tasks. Default: 20 in the table format, all in the "
        "others.")] = None,
    color: Color = None,
    columns: Width = None,
    since: Since = None,
    until: Until = None,
    by: Annotated[Breakdown | None, typer.Option(
        metavar="GROUP", rich_help_panel=DASHBOARD,
        help=f"Add a breakdown of cost by {', '.join(Breakdown)} (times in UTC; week: ISO "
        "week; branch: project and git branch; block: the 5-hour windows subscription plans "
        "meter by).")] = None,
    opportunities: Annotated[bool, typer.Option(
        "--opportunities", metavar="", rich_help_panel=DASHBOARD,
        help="Look for savings (routing, tool caching, compression, budgets), each estimated "
        "by replaying it, with the simulate command that checks it.")] = False,
    tasks_out: Annotated[Path | None, typer.Option(
        "--tasks-out", metavar="PATH", rich_help_panel=OUTPUT,
        help="Also write every task's row (what the task table shows, all of them) to this "
        "Parquet file.")] = None,
    baseline: Annotated[Path | None, typer.Option(
        metavar="PATH", rich_help_panel=DASHBOARD,
        help="An earlier JSON report: show the change in total, P50, P90, P99 and per-model "
        "spend.")] = None,
) -> None:
    """Price every step of the traces and report cost per task, model and tool."""
    from agentcost import api
    from agentcost.renderers.dispatch import render_bytes
    from agentcost.renderers.output import write_output, write_tasks_parquet

    paths = inputs_and_agents(inputs, from_agents, "report", store=store)
    refuse_output_over_inputs(output, paths)
    refuse_output_over_inputs(tasks_out, paths)
    if tasks_out is not None and output is not None and (
            os.path.realpath(tasks_out) == os.path.realpath(output)):
        raise UsageError(f"--tasks-out {tasks_out}: it is the -o file too; name two files")
    chosen = chosen_engine(engine, ray_address, partitions)
    with reading(jobs, task_key) as parsed_jobs, read_progress() as progress:
        result = api.report(
            paths, prices=price_table(prices), since=since, until=until,
            by=by.value if by else None, cost_mode=cost_mode.value, input_format=input_format,
            task_key=task_key, opportunities=opportunities, baseline=baseline, jobs=parsed_jobs,
            progress=progress, max_line_bytes=max_line_size, store=store,
            charts=output_format is OutputFormat.html, engine=chosen)
    if tasks_out is not None:
        write_tasks_parquet(result, tasks_out)
    write_output(render_bytes(result, output_format.value, sort=sort.value, top=top,
                              width=width(columns),
                              color=use_color(color, to_file=output is not None)), output)
    accounting = result.accounting
    if accounting.lines_read == 0:
        print("agentcost: the input is empty: no lines to report on", file=sys.stderr)
    elif accounting.lines_skipped or accounting.spans_skipped:
        print_skips(accounting)
    s = result.summary
    if s.unpriced_steps or s.unpriced_tool_calls:
        from agentcost.renderers.text import unpriced_counts

        print(f"agentcost: {unpriced_counts(s.unpriced_steps, s.unpriced_tool_calls)} unpriced, "
              "excluded from totals", file=sys.stderr)
    # A line that only repeats an earlier one (a log and its copy) loses nothing, as a span
    # exported twice does not: neither fails --strict; a span skipped as invalid does.
    if strict and (s.unpriced_steps or s.unpriced_tool_calls or accounting.records_lost):
        print("agentcost: --strict: some steps are unpriced or some lines were skipped",
              file=sys.stderr)
        raise typer.Exit(EXIT_STRICT)


EXAMPLES = (
    "agentcost report traces.jsonl --sort total --top 10",
    "agentcost report logs/ --since 24h --by model --opportunities",
    "agentcost report --from claude-code,codex --by day",
    "agentcost report traces.jsonl -f html -o report.html",
    "agentcost report --store steps/ --since 7d --by day",
)
