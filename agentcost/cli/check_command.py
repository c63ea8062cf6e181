"""`agentcost check`: thresholds for cron. One line per violated threshold and exit 4; silent
and 0 when all hold."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.options import (
    CostMode,
    CostModeOption,
    InputFormat,
    InputFormatOption,
    Inputs,
    Prices,
    Since,
    TaskKey,
    Until,
)
from agentcost.cli.pipeline import Window, build, load_table
from agentcost.errors import EXIT_CHECK, UsageError


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
    input_format: InputFormatOption = InputFormat.auto,
    task_key: TaskKey = "trace",
    since: Since = None,
    until: Until = None,
) -> None:
    """Check cost thresholds for cron: one line per crossed threshold and exit 4, else silence.

    Example: agentcost check traces/ --since 24h --max-task-cost 0.50 --max-p90 0.30
    """
    from agentcost.analysis.report import sort_tasks
    from agentcost.render.text import money, plural, safe_text, unpriced_counts

    drift_limit = _percent(max_p90_drift) if max_p90_drift else None
    if drift_limit is not None and baseline is None:
        raise UsageError("--max-p90-drift needs --baseline (an earlier JSON report)")
    table = load_table(prices)
    report = build(inputs, table, cost_mode=cost_mode.value, input_format=input_format.value,
                   task_key=task_key, window=Window.parse(since, until))
    violations: list[str] = []
    s, d = report.summary, report.distribution
    if max_task_cost is not None:
        over = report.tasks.filter(report.tasks["total_cost_usd"] > max_task_cost)
        if over.height:
            worst = sort_tasks(over, "total_cost_usd", top=1).row(0, named=True)
            violations.append(
                f"task cost above {money(max_task_cost)}: {plural(over.height, 'task')} (most: "
                f"{safe_text(worst['task_id'])} at {money(worst['total_cost_usd'])})")
    if max_total is not None and s.total_cost_usd > max_total:
        violations.append(f"total cost {money(s.total_cost_usd)} is above {money(max_total)}")
    if max_p90 is not None and d is not None and d.percentiles[90] > max_p90:
        violations.append(f"P90 cost per task {money(d.percentiles[90])} is above "
                          f"{money(max_p90)}")
    if drift_limit is not None and baseline is not None and d is not None:
        from agentcost.analysis.drift import drift, load_baseline

        p90 = next((c for c in drift(report, load_baseline(baseline)) if c.what == "P90"), None)
        if p90 is not None and p90.percent is not None and p90.percent > drift_limit:
            violations.append(f"P90 cost per task rose {p90.percent:.1f}% ({money(p90.before)}"
                              f" -> {money(p90.after)}), more than {drift_limit:g}%")
    if fail_on_unpriced and (s.unpriced_steps or s.unpriced_tool_calls):
        violations.append(f"unpriced: {unpriced_counts(s.unpriced_steps, s.unpriced_tool_calls)}")
    for line in violations:
        print(f"agentcost check: {line}")
    if violations:
        sys.stdout.flush()
        raise typer.Exit(EXIT_CHECK)


def _percent(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError as error:
        raise UsageError(f"{text!r} is not a percentage (like 20%)") from error
    if value < 0:
        raise UsageError(f"{text!r}: a drift limit is zero or more")
    return value
