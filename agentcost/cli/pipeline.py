"""The report pipeline shared by `report` and `check`: read, window, price, build."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from agentcost.errors import AgentCostError, UsageError

if TYPE_CHECKING:
    from agentcost.analysis.report import Report
    from agentcost.ingest.accounting import LineAccounting, Tally
    from agentcost.pricing.table import PriceTable

PRICED_COLUMNS = ("task_id", "step", "start_time", "duration_s", "kind", "model", "service_tier",
                  "input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                  "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
                  "tokens_estimated", "tool_name", "reported_cost_usd",
                  "reported_tool_cost_usd", "source_file", "source_line")
REPORT_COLUMNS = ("task_id", "step", "start_time", "duration_s", "kind", "model", "tool_name",
                  "reported_cost_usd", "reported_tool_cost_usd")


@dataclass(frozen=True)
class Window:
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Window:
        from agentcost.analysis.window import parse_moment

        now = dt.datetime.now(dt.UTC)
        window = cls(parse_moment(since, now=now) if since else None,
                     parse_moment(until, now=now) if until else None)
        if window.since and window.until and window.since >= window.until:
            raise UsageError("--since must be before --until")
        return window


def check_task_key(task_key: str) -> None:
    if task_key not in ("trace", "session") and not task_key.startswith(
            ("resource.", "attribute.")):
        raise UsageError(f"--task-key {task_key!r}: use trace, session, resource.NAME or "
                         "attribute.NAME")


def build(inputs: Sequence[str], table: PriceTable, *, cost_mode: str, input_format: str,
          task_key: str, window: Window, by: str | None = None,
          opportunities: bool = False) -> Report:
    check_task_key(task_key)
    columns: tuple[str, ...] = REPORT_COLUMNS
    if table.compute_per_workflow or by in ("workflow", "agent"):
        columns = (*columns, "workflow")
    if by == "user":
        columns = (*columns, "user")
    if opportunities:  # step labels for routing, tool arguments for caching
        columns = (*columns, "name", "tool_args")
    from agentcost.analysis.dashboard import build_dashboard
    from agentcost.analysis.report import build_report
    from agentcost.analysis.window import window_filter
    from agentcost.cli.progress import read_progress
    from agentcost.ingest.read import read_steps
    from agentcost.pricing.cost import price_steps

    with read_progress() as progress:
        ingested = read_steps(inputs, columns=columns, input_format=input_format,
                              task_key=task_key, progress=progress)
    accounting = ingested.accounting
    if accounting.lines_read and not accounting.lines_used and accounting.lines_skipped:
        print_skips(accounting)
        raise AgentCostError(f"no usable line in {accounting.lines_read:,} lines read")
    steps, untimed = window_filter(ingested.steps, window.since, window.until)
    del ingested  # its steps live on in `steps` as long as they are needed, and no longer
    if untimed:
        accounting.note("steps without a start time, left out by the time window", "-", [],
                        count=untimed)
    # Only the columns pricing and the report use: a column of nulls still costs 16 bytes a row.
    steps = steps.select(*PRICED_COLUMNS, *(c for c in ("workflow", "user", "name", "tool_args")
                                            if c in columns))
    for_opportunities = steps if opportunities else None
    priced = price_steps(steps.lazy(), table, cost_mode=cost_mode).collect()
    del steps  # from here on the priced table holds all the report reads: let the rest go
    report = build_report(priced.lazy(), accounting, price_table=table.file,
                          cost_mode=cost_mode)
    costs = report.distribution.costs if report.distribution else []
    s = report.summary
    dashboard = build_dashboard(priced, costs, window_start=s.window_start,
                                window_end=s.window_end, total_usd=s.total_cost_usd, by=by)
    found = None
    if for_opportunities is not None:
        from agentcost.analysis.opportunities import find_opportunities

        median = report.distribution.percentiles[50] if report.distribution else 0.0
        found = find_opportunities(for_opportunities, table, inputs, median)
    return replace(report, dashboard=dashboard, opportunities=found)


def load_table(prices: Path | None) -> PriceTable:
    from agentcost.pricing.table import load_price_table

    return load_price_table(prices)


def print_skips(accounting: LineAccounting) -> None:
    from agentcost.render.text import lines_list, safe_text

    def most_first(tallies: dict[str, Tally]) -> list[tuple[str, Tally, str]]:
        ordered = sorted(tallies.items(), key=lambda item: (-item[1].count, item[0]))
        return [(safe_text(reason), tally, lines_list(tally.examples, single_file=False))
                for reason, tally in ordered]

    if accounting.lines_skipped:
        print(f"agentcost: {accounting.lines_skipped:,} of {accounting.lines_read:,} lines "
              "skipped", file=sys.stderr)
    for reason, tally, where in most_first(accounting.skipped):
        print(f"  {tally.count:,} x {reason}: {where}", file=sys.stderr)
    for reason, tally, where in most_first(accounting.spans_skipped):
        print(f"agentcost: {tally.count:,} spans skipped, {reason}: {where}", file=sys.stderr)
