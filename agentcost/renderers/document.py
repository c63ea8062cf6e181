"""The report as plain data: the JSON output, and the one source the other renderers share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from agentcost import __version__
from agentcost.analysis.report import Report
from agentcost.ingest.accounting import Tally
from agentcost.money import MONEY_DECIMALS

SCHEMA_VERSION = 1


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, MONEY_DECIMALS)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _records(frame: pl.DataFrame) -> pl.DataFrame:
    """A table made JSON-ready (money rounded, times as ISO text); kept as a frame so that large
    tables are serialised by polars rather than row by row in Python."""
    return frame.with_columns(
        *(pl.col(name).round(MONEY_DECIMALS) for name in frame.columns if name.endswith("_usd")),
        *(pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
          for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)),
    )


def report_document(report: Report, tasks: pl.DataFrame) -> dict[str, Any]:
    """Everything the terminal report shows, as JSON-ready data. `tasks` is the (sorted,
    possibly cut) task table to include."""
    s = report.summary
    d = report.distribution
    accounting = report.accounting
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "agentcost", "version": __version__},
        "inputs": {"files": accounting.files, "price_table": report.price_table,
                   "cost_mode": report.cost_mode, "engine": report.engine},
        "summary": {
            "tasks": s.tasks,
            "steps": s.steps,
            "llm_steps": s.llm_steps,
            "tool_calls": s.tool_calls,
            "tokens": {
                "input": s.input_tokens,
                "cache_read": s.cache_read_tokens,
                "cache_write_5m": s.cache_write_5m_tokens,
                "cache_write_1h": s.cache_write_1h_tokens,
                "output": s.output_tokens,
                "reasoning": s.reasoning_tokens,
            },
            "cost_usd": {
                "llm": _money(s.llm_cost_usd),
                "tool": _money(s.tool_cost_usd),
                "compute": _money(s.compute_cost_usd),
                "total": _money(s.total_cost_usd),
            },
            "reported_cost_usd": _money(s.reported_cost_usd),
            "window": {"start": _time(s.window_start), "end": _time(s.window_end)},
            "window_applied": None if report.window is None else {
                "since": _time(report.window.since), "until": _time(report.window.until),
                "steps_outside": report.window.steps_outside,
                "steps_untimed": report.window.steps_untimed},
            "unpriced": {"steps": s.unpriced_steps, "tool_calls": s.unpriced_tool_calls},
            "estimated_steps": s.estimated_steps,
            "totals_exclude_unpriced": bool(s.unpriced_steps or s.unpriced_tool_calls),
        },
        "distribution": None if d is None else {
            "tasks": d.tasks,
            "method": "nearest-rank",
            **{f"p{p}_usd": _money(v) for p, v in d.percentiles.items()},
            "max_usd": _money(d.max),
            "mean_usd": _money(d.mean),
            "flag_threshold_usd": _money(d.flag_threshold),
            "tasks_left_out": d.left_out,
            "left_out_because": "unpriced steps" if d.left_out else None,
        },
        "tasks": {"total": report.tasks.height, "shown": tasks.height, "rows": _records(tasks)},
        "by_model": _records(report.by_model),
        "by_tool": _records(report.by_tool),
        "unpriced": {
            "models": _records(report.unpriced_models),
            "tools": _records(report.unpriced_tools),
        },
        "dashboard": None if report.dashboard is None else _dashboard(report),
        "opportunities": None if report.opportunities is None else [
            {"kind": o.kind, "what": o.what, "saving_usd": _money(o.saving_usd),
             "command": o.command} for o in report.opportunities],
        "drift": None if report.drift is None else [
            {"what": c.what, "before_usd": _money(c.before), "now_usd": _money(c.after),
             "change_percent": None if c.percent is None else round(c.percent, 4)}
            for c in report.drift
        ],
        "reconciliation": {
            "tolerance": 0.01,
            "compared_steps": report.compared_steps,
            "differing_by_model": _records(report.reconciliation)
            if report.reconciliation is not None else [],
        },
        "spans": {
            "read": accounting.spans_read,
            "steps": accounting.spans_used,
            "not_steps_by_reason": [
                {"reason": reason, "count": tally.count}
                for reason, tally in sorted(accounting.spans_not_steps.items())
            ],
            "skipped_by_reason": [
                {"reason": reason, "count": tally.count,
                 "first": [{"file": f, "line": n} for f, n in tally.examples]}
                for reason, tally in sorted(accounting.spans_skipped.items())
            ],
        },
        "lines": {
            "read": accounting.lines_read,
            "used": accounting.lines_used,
            "blank": accounting.lines_blank,
            "skipped": accounting.lines_skipped,
            "skipped_by_reason": [
                {"reason": reason, **_tally(tally)}
                for reason, tally in sorted(accounting.skipped.items())
            ],
            "formats": dict(sorted(accounting.formats.items())),
            "notes": [
                {"note": note, **_tally(tally)}
                for note, tally in sorted(accounting.notes.items())
            ],
        },
    }


def _tally(tally: Tally) -> dict[str, Any]:
    """How many, the first places, and for repeats (a step read twice) the earlier line each
    of those repeats."""
    entry: dict[str, Any] = {"count": tally.count,
                             "first": [{"file": f, "line": n} for f, n in tally.examples]}
    if tally.earlier:
        entry["earlier"] = [{"file": f, "line": n} for f, n in tally.earlier]
    return entry


def _dashboard(report: Report) -> dict[str, Any]:
    board = report.dashboard
    assert board is not None
    rate = board.spend_rate
    return {
        "spend_rate": None if rate is None else {
            "window_hours": round(rate.window_hours, 6),
            "per_hour_usd": None if rate.shorter_than_an_hour else _money(rate.per_hour),
            "window_cost_usd": (_money(rate.last_hour_usd)
                                if rate.shorter_than_an_hour and rate.last_hour_known else None),
            "last_hour_usd": _money(rate.last_hour_usd) if rate.projects else None,
            "tasks_last_hour": rate.tasks_last_hour,
            "steps_last_hour": rate.steps_last_hour,
            "unpriced_steps_last_hour": rate.unpriced_steps_last_hour,
            "projected_day_usd": _money(rate.projected_day_usd) if rate.projects else None,
            "projected_month_usd": (_money(rate.projected_month_usd) if rate.projects
                                    else None),
        },
        "histogram": [{"above_usd": b.low, "up_to_usd": b.high, "tasks": b.tasks}
                      for b in board.histogram],
        "top_1_percent": {"tasks": board.top_1[0], "share": round(board.top_1[1], 6)},
        "top_10_percent": {"tasks": board.top_10[0], "share": round(board.top_10[1], 6)},
        "by_step_position": _records(board.by_position),
        "breakdown": None if board.breakdown is None else {
            "by": board.breakdown_by, "rows": _records(board.breakdown)},
    }
