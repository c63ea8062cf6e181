"""`agentcost check`: thresholds for cron. One entry per violated threshold and exit 4; silent
and 0 when all hold."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.agents import inputs_and_agents
from agentcost.cli.help import THRESHOLDS
from agentcost.cli.options import (
    AUTO,
    CostMode,
    CostModeOption,
    EngineName,
    EngineOption,
    FromAgents,
    InputFormatOption,
    Inputs,
    Jobs,
    MaxLineSize,
    Partitions,
    Prices,
    RayAddress,
    Since,
    StoreOption,
    TaskKey,
    Until,
    chosen_engine,
    price_table,
    within,
)
from agentcost.cli.reading import print_skips, read_progress, reading
from agentcost.cli.width import Width, fitted_lines, width
from agentcost.errors import EXIT_CHECK, EXIT_CHECK_EMPTY, EXIT_CHECK_SKIPPED, UsageError
from agentcost.ingest.limits import MAX_LINE_BYTES
from agentcost.limits import MAX_PERCENT, MAX_USD


def check(
    inputs: Inputs = None,
    max_task_cost: Annotated[float | None, typer.Option(
        metavar="USD", callback=within(0, MAX_USD), rich_help_panel=THRESHOLDS,
        help="Fail when any task costs more than this.")] = None,
    max_total: Annotated[float | None, typer.Option(
        metavar="USD", callback=within(0, MAX_USD), rich_help_panel=THRESHOLDS,
        help="Fail when the total cost is above this.")] = None,
    max_p90: Annotated[float | None, typer.Option(
        metavar="USD", callback=within(0, MAX_USD), rich_help_panel=THRESHOLDS,
        help="Fail when the P90 cost per task is above this.")] = None,
    max_p90_drift: Annotated[str | None, typer.Option(
        metavar="PERCENT", rich_help_panel=THRESHOLDS,
        help="Fail when P90 rose by more than this against --baseline (like 20%).")] = None,
    fail_on_unpriced: Annotated[bool, typer.Option(
        "--fail-on-unpriced", metavar="", rich_help_panel=THRESHOLDS,
        help="Fail when any step or tool call is unpriced.")] = False,
    baseline: Annotated[Path | None, typer.Option(
        metavar="PATH", rich_help_panel=THRESHOLDS,
        help="An earlier JSON report, for --max-p90-drift.")] = None,
    max_skipped: Annotated[str, typer.Option(
        metavar="N|PERCENT", rich_help_panel=THRESHOLDS,
        help="Input lines or spans that may be skipped (unreadable, invalid) before the "
        "check fails with exit 5: a number, or a percentage of the lines and spans read (like "
        "1%).")] = "0",
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", metavar="", rich_help_panel=THRESHOLDS,
        help="Pass when there is no step to check (else exit 6).")] = False,
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
    columns: Width = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Check cost thresholds for cron: one entry per crossed threshold and exit 4, else
    silence on stdout.

    Exit 5 when more input was skipped than --max-skipped allows, 6 when there is no step to
    check. An entry longer than the width goes on over lines indented by two spaces; each
    starts with "agentcost check:".
    """
    from agentcost import api
    from agentcost.analysis.checks import NOT_READ, NOTHING, Thresholds, not_checked

    drift_limit = _percent(max_p90_drift) if max_p90_drift else None
    if drift_limit is not None and baseline is None:
        raise UsageError("--max-p90-drift needs --baseline (an earlier JSON report)")
    skipped_lines, skipped_percent = _allowance(max_skipped)
    limits = Thresholds(max_task_cost=max_task_cost, max_total=max_total, max_p90=max_p90,
                        max_p90_drift=drift_limit, fail_on_unpriced=fail_on_unpriced)
    if not limits.any_threshold():
        raise UsageError("no threshold to check: give --max-task-cost, --max-total, --max-p90, "
                         "--max-p90-drift or --fail-on-unpriced")
    if baseline is not None and drift_limit is None:
        print("agentcost: warning: --baseline is read only for --max-p90-drift; ignored",
              file=sys.stderr)
    paths = inputs_and_agents(inputs, from_agents, "check", store=store)
    with reading(jobs, task_key) as parsed_jobs, read_progress() as progress:
        report = api.report(paths, prices=price_table(prices), since=since, until=until,
                            cost_mode=cost_mode.value, input_format=input_format,
                            task_key=task_key, jobs=parsed_jobs, progress=progress,
                            max_line_bytes=max_line_size, store=store,
                            engine=chosen_engine(engine, ray_address, partitions))
    crossed = api.check(report, max_task_cost=max_task_cost, max_total=max_total,
                        max_p90=max_p90, max_p90_drift=drift_limit, baseline=baseline,
                        fail_on_unpriced=fail_on_unpriced, max_skipped=skipped_lines,
                        max_skipped_percent=skipped_percent, allow_empty=allow_empty)
    if report.accounting.records_lost:
        print_skips(report.accounting)
    for line in not_checked(report, limits):
        print(f"agentcost check: note: {line}", file=sys.stderr)
    if crossed:
        from agentcost.renderers.output import write_output

        lines = api.render(crossed).splitlines()
        # a closed reader is no pass
        write_output(fitted_lines(lines, width(columns)).encode("utf-8"), None)
        kinds = {c.threshold for c in crossed}
        raise typer.Exit(EXIT_CHECK_SKIPPED if NOT_READ in kinds
                         else EXIT_CHECK_EMPTY if NOTHING in kinds else EXIT_CHECK)


def _allowance(text: str) -> tuple[int, float | None]:
    """--max-skipped: a number of lines, or a percentage of the lines read."""
    try:
        if text.strip().endswith("%"):
            percent = float(text.strip().removesuffix("%"))
            if 0 <= percent <= 100:
                return 0, percent
        elif (lines := int(text)) >= 0:
            return lines, None
    except ValueError:
        pass
    raise UsageError(f"--max-skipped {text!r}: give a number of lines (like 10) or a "
                     "percentage of the lines read (like 1%)")


def _percent(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError as error:
        raise UsageError(f"--max-p90-drift {text!r} is not a percentage (like 20%)") from error
    if not 0 <= value <= MAX_PERCENT:  # nan and inf too: a limit that could never be crossed
        raise UsageError(f"--max-p90-drift {text!r}: a drift limit is from 0% to "
                         f"{MAX_PERCENT:,.0f}%")
    return value


EXAMPLES = (
    "agentcost check traces/ --since 24h --max-task-cost 0.50 --max-p90 0.30",
    "agentcost check today.jsonl --baseline last-week.json --max-p90-drift 20%",
    "agentcost check traces/ --fail-on-unpriced --max-skipped 1%",
)
