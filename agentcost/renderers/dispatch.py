"""One entry to every renderer: a result and a format in, the output's bytes out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from agentcost.errors import UsageError

if TYPE_CHECKING:
    from agentcost.analysis.checks import Crossed
    from agentcost.analysis.report import Report
    from agentcost.api import Comparison
    from agentcost.simulation.engine import Simulation

FORMATS = ("table", "json", "csv", "markdown", "html")
# --sort names the columns of the task table as the table shows them.
SORT_TO_COLUMN = {
    "task": "task_id", "steps": "steps", "tokens_in": "tokens_in", "tokens_out": "tokens_out",
    "llm": "llm_cost_usd", "tool": "tool_cost_usd", "compute": "compute_cost_usd",
    "total": "total_cost_usd",
}
TABLE_DEFAULT_TOP = 20
DEFAULT_WIDTH = 120


def render_bytes(result: Report | Simulation | Comparison | Sequence[Crossed],
                 fmt: str = "table", *, sort: str = "total", top: int | None = None,
                 width: int | None = None, color: bool = False) -> bytes:
    """`result` written as `fmt`. For a report: the task table sorted by `sort` (descending;
    task: ascending), `top` tasks (default: 20 in a table, all in the other formats)."""
    from agentcost.analysis.report import Report

    if fmt not in FORMATS:
        raise UsageError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    if isinstance(result, Report):
        return _report(result, fmt, sort=sort, top=top, width=width, color=color)
    # Imported only for what needs them: a report's rendering does without the simulations'.
    from agentcost.api import Comparison
    from agentcost.simulation.engine import Simulation

    if isinstance(result, Simulation):
        result = Comparison((result,))
    if isinstance(result, Comparison):
        return _comparison(result, fmt, width=width, color=color).encode("utf-8")
    return _crossed(list(result), fmt).encode("utf-8")


def _report(report: Report, fmt: str, *, sort: str, top: int | None, width: int | None,
            color: bool) -> bytes:
    from agentcost.analysis.report import sort_tasks

    if sort not in SORT_TO_COLUMN:
        raise UsageError(f"sort {sort!r}: use one of {', '.join(SORT_TO_COLUMN)}")
    limit = top if top is not None else (TABLE_DEFAULT_TOP if fmt == "table" else None)
    tasks = sort_tasks(report.tasks, SORT_TO_COLUMN[sort], top=limit)
    if fmt == "json":
        from agentcost.renderers.json_out import render_json

        return render_json(report, tasks)
    text: str
    if fmt == "csv":
        from agentcost.renderers.csv_out import render_csv

        text = render_csv(tasks)
    elif fmt == "markdown":
        from agentcost.renderers.markdown import render_markdown

        text = render_markdown(report, tasks)
    elif fmt == "html":  # every task (or --top) in its CSV, the first rows drawn
        from agentcost.renderers.html import render_html
        from agentcost.renderers.html_tables import TABLE_ROWS

        text = render_html(report, tasks, shown=top or TABLE_ROWS, sorted_by=sort)
    else:
        from agentcost.renderers.terminal import render_terminal

        text = render_terminal(report, tasks, width=width or DEFAULT_WIDTH, color=color)
    return text.encode("utf-8")


def _comparison(comparison: Comparison, fmt: str, *, width: int | None, color: bool) -> str:
    from agentcost.renderers import comparison as views

    if fmt == "json":
        return json.dumps(views.comparison_document(comparison), indent=2,
                          ensure_ascii=False) + "\n"
    if fmt == "csv":
        return views.comparison_csv(comparison)
    blocks = views.comparison_blocks(comparison)
    if fmt == "html":
        from agentcost.renderers.html_simulation import render_simulation_html

        return render_simulation_html(comparison, blocks)
    if fmt == "markdown":
        from agentcost.renderers.markdown import render_blocks

        return render_blocks("agentcost simulate", blocks)
    from agentcost.renderers.terminal import render_blocks as terminal_blocks

    return terminal_blocks(blocks, width=width or DEFAULT_WIDTH, color=color)


def _crossed(crossed: list[Crossed], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(c) for c in crossed], indent=2, ensure_ascii=False) + "\n"
    if fmt != "table":
        raise UsageError(f"format {fmt!r}: crossed thresholds are written as table or json")
    return "".join(f"agentcost check: {crossed_line(c)}\n" for c in crossed)


def crossed_line(c: Crossed) -> str:
    """One crossed threshold in words, as `agentcost check` prints it."""
    from agentcost.renderers.text import count, money, plural, safe_text, unpriced_counts

    if c.threshold == "max_skipped":
        return (f"{plural(int(c.value), 'line or span', 'lines or spans')} skipped, more than "
                f"the {count(int(c.limit))} allowed (--max-skipped): the figures would leave "
                "them out")
    if c.threshold == "no_steps":
        if c.tasks:
            return (f"nothing priced to check: none of the {plural(c.tasks, 'task')} has the "
                    "figures the thresholds read priced (see `agentcost report`'s Unpriced)")
        return "no step to check (none in the window, or none in the input)"
    if c.threshold == "max_task_cost":
        return (f"task cost above {money(c.limit)}: {plural(c.tasks, 'task')} (most: "
                f"{safe_text(c.task_id)} at {money(c.value)})")
    if c.threshold == "max_total":
        return f"total cost {money(c.value)} is above {money(c.limit)}"
    if c.threshold == "max_p90":
        return f"P90 cost per task {money(c.value)} is above {money(c.limit)}"
    if c.threshold == "max_p90_drift":
        before = c.before or 0.0
        rise = 100 * (c.value - before) / before if before else 0.0
        return (f"P90 cost per task rose {rise:.1f}% ({money(before)} -> {money(c.value)}), "
                f"more than {c.limit:g}%")
    return f"unpriced: {unpriced_counts(int(c.value), c.tool_calls)}"
