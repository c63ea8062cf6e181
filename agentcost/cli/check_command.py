"""`agentcost check`: thresholds for cron. One line per violated threshold and exit 4; silent
and 0 when all hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.options import (
    CostMode,
    CostModeOption,
    InputFormatOption,
    Inputs,
    Jobs,
    Prices,
    Since,
    TaskKey,
    Until,
    price_table,
)
from agentcost.cli.reading import read_progress, reading
from agentcost.errors import EXIT_CHECK, UsageError
from agentcost.ingest.readers import AUTO


def check(
    inputs: Inputs,
    max_task_cost: Annotated[float | None, typer.Option(
        min=0, help="Fail when any task costs more than this (USD).")] = None,
    max_total: Annotated[float | None, typer.Option(
        min=0, help="Fail when the total cost is above this (USD).")] = None,
    max_p90: Annotated[float | None, typer.Option(
        min=0, help="Fail when the P90 cost per task is above this (USD).")] = None,
    max_p90_drift: Annotated[str | None, typer.Option(
        help="Fail when P90 rose by more than this against --baseline (like 20%).")] = None,
    fail_on_unpriced: Annotated[bool, typer.Option(
        help="Fail when any step or tool call is unpriced.")] = False,
    baseline: Annotated[Path | None, typer.Option(
        help="An earlier JSON report, for --max-p90-drift.")] = None,
    prices: Prices = None,
    cost_mode: CostModeOption = CostMode.computed,
    input_format: InputFormatOption = AUTO,
    task_key: TaskKey = "trace",
    since: Since = None,
    until: Until = None,
    jobs: Jobs = "auto",
) -> None:
    """Check cost thresholds for cron: one line per crossed threshold and exit 4, else silence.

    Example: agentcost check traces/ --since 24h --max-task-cost 0.50 --max-p90 0.30
    """
    from agentcost import api

    drift_limit = _percent(max_p90_drift) if max_p90_drift else None
    if drift_limit is not None and baseline is None:
        raise UsageError("--max-p90-drift needs --baseline (an earlier JSON report)")
    with reading(jobs, task_key) as parsed_jobs, read_progress() as progress:
        report = api.report(inputs, prices=price_table(prices), since=since, until=until,
                            cost_mode=cost_mode.value, input_format=input_format,
                            task_key=task_key, jobs=parsed_jobs, progress=progress)
    crossed = api.check(report, max_task_cost=max_task_cost, max_total=max_total,
                        max_p90=max_p90, max_p90_drift=drift_limit, baseline=baseline,
                        fail_on_unpriced=fail_on_unpriced)
    if crossed:
        from agentcost.renderers.output import write_output

        write_output(api.render(crossed).encode("utf-8"), None)  # a closed reader is no pass
        raise typer.Exit(EXIT_CHECK)


def _percent(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError as error:
        raise UsageError(f"{text!r} is not a percentage (like 20%)") from error
    if value < 0:
        raise UsageError(f"{text!r}: a drift limit is zero or more")
    return value
