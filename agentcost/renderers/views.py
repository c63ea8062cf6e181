"""The report laid out as titled tables of display strings, shared by the terminal and markdown
renderers. Untrusted values are made safe here; each renderer adds only its own escaping."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from agentcost.analysis.dashboard import SpendRate
from agentcost.analysis.report import PARTIAL, UNPRICED, AppliedWindow, Report
from agentcost.renderers.text import (
    agreeing,
    count,
    duration,
    first_of_each,
    lines_list,
    money,
    plural,
    safe_text,
    span,
    unpriced_counts,
    utc,
)


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    numeric: tuple[bool, ...]  # right-align these columns
    flagged: list[bool] = field(default_factory=list)  # rows to show in red
    caption: str = ""
    warn: bool = False  # a table of things the totals leave out


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]


Block = Section | Table


def report_blocks(report: Report, tasks: pl.DataFrame) -> list[Block]:
    """The report, top to bottom, for any renderer."""
    blocks: list[Block] = [summary_section(report)]
    if report.dashboard is not None and report.dashboard.spend_rate is not None:
        blocks.append(spend_rate_section(report.dashboard.spend_rate))
    if report.summary.steps == 0:
        blocks.append(Section("", ["No steps in the window." if report.window is not None
                                   else "No steps in the input."]))
    else:
        blocks.append(task_table(report, tasks))
        if report.by_model.height:
            blocks.append(model_table(report))
        if report.by_tool.height:
            blocks.append(tool_table(report))
        distribution = distribution_table(report)
        if distribution is not None:
            blocks.append(distribution)
        if report.dashboard is not None:
            blocks.extend(dashboard_blocks(report))
    blocks.extend(unpriced_tables(report))
    reconciled = reconciliation_table(report)
    if reconciled is not None:
        blocks.append(reconciled)
    if report.opportunities is not None:
        blocks.append(opportunity_table(report))
    changes = drift_table(report)
    if changes is not None:
        blocks.append(changes)
    blocks.append(input_section(report))
    return blocks


BAR = "█"
BAR_WIDTH = 40


def spend_rate_section(rate: SpendRate) -> Section:
    if rate.shorter_than_an_hour:
        # A rate an hour, or a day, from minutes of spend would be a guess: the panel says
        # what was spent over what time, and leaves the multiplying out.
        spent = money(rate.last_hour_usd) if rate.last_hour_known else "unknown"
        lines = [f"{spent} over the {_window(rate.window_hours)} window, across "
                 f"{plural(rate.tasks_last_hour, 'task')}",
                 "The window is shorter than an hour: no hourly rate, no projection"]
        if rate.unpriced_steps_last_hour:
            lines.append(f"Priced steps only: {plural(rate.unpriced_steps_last_hour, 'step')} "
                         "of the window have an unpriced part (see Unpriced).")
        return Section("Spend rate", lines)
    lines = [f"{money(rate.per_hour)} per hour over the {_window(rate.window_hours)} window"]
    if rate.last_hour_known:
        lines += [f"Last hour: {money(rate.last_hour_usd)} across "
                  f"{plural(rate.tasks_last_hour, 'active task')}",
                  f"At the last hour's rate: {money(rate.projected_day_usd)} a day, "
                  f"{money(rate.projected_month_usd)} a month (30 days)"]
    else:
        lines.append(f"Last hour: unknown, every one of its {plural(rate.steps_last_hour, 'step')}"
                     " has an unpriced part; no projection")
    if rate.unpriced_steps_last_hour and rate.last_hour_known:
        lines.append(f"Priced steps only: {plural(rate.unpriced_steps_last_hour, 'step')} of "
                     "the last hour have an unpriced part (see Unpriced).")
    return Section("Spend rate", lines)


def _window(hours: float) -> str:
    return f"{hours:,.1f} h" if hours >= 1 else duration(hours * 3600)


def dashboard_blocks(report: Report) -> list[Block]:
    board = report.dashboard
    assert board is not None
    blocks: list[Block] = []
    d = report.distribution
    if board.histogram and d is not None:
        most = max(b.tasks for b in board.histogram) or 1
        rows, marks = [], []
        for b in board.histogram:
            marked = [f"P{p}" for p, v in d.percentiles.items()
                      if (b.low < v <= b.high) or (b.low == 0 and v <= b.high)]
            rows.append((f"{money(b.low)} - {money(b.high)}", count(b.tasks),
                         BAR * math.ceil(BAR_WIDTH * b.tasks / most) if b.tasks else "",
                         " ".join(marked)))
            marks.append(False)
        blocks.append(Table("Cost per task, histogram", ("cost per task", "tasks", "", ""),
                            rows, (False, True, False, False), marks,
                            caption="each bin: above its low edge, up to its high edge"
                            + left_out_words(report, "; ")))
    (n1, s1), (n10, s10) = board.top_1, board.top_10
    if d is not None:
        blocks.append(Section("Concentration", [
            f"The costliest 1% of tasks ({count(n1)}) took {100 * s1:.1f}% of the spend; "
            f"the costliest 10% ({count(n10)}) took {100 * s10:.1f}%"
            + (f" (of the {plural(d.tasks, 'task')} priced whole)." if d.left_out else "."),
        ]))
    positions = board.by_position
    if positions.height:
        last = positions["position"].to_list()[-1]
        position_rows = [(f"{p}+" if p == last and p > 20 else str(p), count(n), money(cost),
                          count(int(tokens or 0)))
                         for p, n, _, cost, tokens in positions.iter_rows()]
        caption = "later steps carry the whole context so far"
        if positions["priced_steps"].sum() < positions["steps"].sum():
            caption += "; mean cost over the steps priced whole (unpriced ones: unknown)"
        blocks.append(Table("Cost by step position", ("step", "steps", "mean cost",
                                                      "mean prompt tokens"),
                            position_rows, (True, True, True, True), caption=caption))
    if board.breakdown is not None and board.breakdown_by is not None:
        breakdown_rows = [(safe_text(key) + (" *" if unpriced else ""), count(steps),
                           count(tasks), money(cost),
                           "-" if share is None else f"{100 * share:.1f}%")
                          for key, steps, tasks, cost, unpriced, share
                          in board.breakdown.iter_rows()]
        any_unpriced = bool(board.breakdown["unpriced_steps"].sum())
        caption = "LLM, tools and compute; share of the total"
        if any_unpriced:
            caption += "; *: has unpriced steps, excluded from its cost"
        blocks.append(Table(f"Total cost by {board.breakdown_by}",
                            (board.breakdown_by, "steps", "tasks", "total cost", "share"),
                            breakdown_rows,
                            (False, True, True, True, True),
                            caption=caption))
    return blocks


def opportunity_table(report: Report) -> Table:
    rows = [(o.kind, safe_text(o.what), money(o.saving_usd), safe_text(o.command))
            for o in report.opportunities or []]
    return Table("Savings to look at", ("kind", "what", "saving", "check it with"), rows,
                 (False, False, True, False),
                 caption="estimated by replaying each strategy on these steps"
                 if rows else "nothing found")


def drift_table(report: Report) -> Table | None:
    if report.drift is None:
        return None
    rows, flagged = [], []
    for change in report.drift:
        percent = "-" if change.percent is None else f"{change.percent:+.1f}%"
        rows.append((safe_text(change.what), money(change.before), money(change.after),
                     money(change.after - change.before), percent))
        flagged.append(change.what == "P90" and change.after > change.before)
    caption = ("red: P90 cost per task went up" if any(flagged)
               else "P90 cost per task did not go up")
    s = report.summary
    if s.unpriced_steps or s.unpriced_tool_calls:
        unpriced = unpriced_counts(s.unpriced_steps, s.unpriced_tool_calls)
        caption += (f"; now: the priced part only ({unpriced} unpriced; P50-P99 over the "
                    "tasks priced whole)")
    return Table("Change since the baseline report", ("", "before", "now", "change", "%"),
                 rows, (False, True, True, True, True), flagged, caption)


def summary_section(report: Report) -> Section:
    s = report.summary
    lines = [
        # Tool calls apart: a native step can be an LLM call and call a tool too.
        f"Tasks {count(s.tasks)}   Steps {count(s.steps)} ({count(s.llm_steps)} LLM)   "
        f"Tool calls {count(s.tool_calls)}",
        f"Window {utc(s.window_start)} -> {utc(s.window_end)} "
        f"({span(s.window_start, s.window_end)})",
        f"Tokens  input {count(s.input_tokens)}  cache read {count(s.cache_read_tokens)}  "
        f"cache write {count(s.cache_write_5m_tokens + s.cache_write_1h_tokens)}  "
        f"output {count(s.output_tokens)}  reasoning {count(s.reasoning_tokens)}",
        f"Cost    LLM {money(s.llm_cost_usd)}  tools {money(s.tool_cost_usd)}  "
        f"compute {money(s.compute_cost_usd)}  total {money(s.total_cost_usd)}",
    ]
    if report.window is not None:
        lines.insert(2, window_words(report.window))
    if s.reported_cost_usd is not None:
        lines.append(f"Cost the traces themselves report: {money(s.reported_cost_usd)}")
    if s.estimated_steps:
        lines.append(f"{plural(s.estimated_steps, 'LLM step')} without recorded usage: tokens "
                     "estimated from message content (tiktoken cl100k_base)")
    if s.unpriced_steps or s.unpriced_tool_calls:
        lines.append(f"Totals exclude the unpriced: "
                     f"{unpriced_counts(s.unpriced_steps, s.unpriced_tool_calls)} (see Unpriced).")
    return Section("Summary", lines)


def task_table(report: Report, tasks: pl.DataFrame) -> Table:
    d = report.distribution
    rows = [
        (
            safe_text(row["task_id"]),
            count(row["steps"]),
            count(row["tokens_in"]),
            count(row["tokens_out"]),
            part_cost(row["llm_cost_usd"], row["unpriced_llm_steps"]),
            part_cost(row["tool_cost_usd"], row["unpriced_tool_calls"]),
            task_total(row["total_cost_usd"], row["priced"]),
            "high" if row["flagged"] else "",
        )
        for row in tasks.iter_rows(named=True)
    ]
    caption_parts = []
    if tasks.height < report.tasks.height:
        caption_parts.append(f"{count(tasks.height)} of {plural(report.tasks.height, 'task')} "
                             "shown")
    if d is not None:
        caption_parts.append(f"high (red): above 2 x P50 = {money(d.flag_threshold)}")
    if (tasks["priced"] == PARTIAL).any():
        caption_parts.append("partial: has unpriced steps, its priced part only")
    if (tasks["priced"] == UNPRICED).any():
        caption_parts.append("unpriced: no step of it priced")
    return Table(
        "Tasks",
        ("task", "steps", "tokens in", "tokens out", "LLM", "tools", "total", "flag"),
        rows,
        (False, True, True, True, True, True, True, False),
        tasks["flagged"].to_list(),
        "; ".join(caption_parts),
    )


def model_table(report: Report) -> Table:
    total = report.summary.llm_cost_usd
    rows = [
        (
            safe_text(row["model"]),
            count(row["steps"]),
            count(row["input_tokens"]),
            count(row["cache_read_tokens"]),
            count(row["cache_write_tokens"]),
            count(row["output_tokens"]),
            money(row["llm_cost_usd"]),
            f"{100 * row['llm_cost_usd'] / total:.1f}%" if total else "-",
        )
        for row in report.by_model.iter_rows(named=True)
    ]
    return Table("LLM cost by model",
                 ("model", "steps", "input", "cache read", "cache write", "output", "LLM cost",
                  "share"), rows, (False, *([True] * 7)),
                 caption="LLM calls only; share of the LLM cost")


def tool_table(report: Report) -> Table:
    rows = [
        (safe_text(row["tool_name"]), count(row["calls"]),
         money(row["tool_cost_usd"] / row["calls"]), money(row["tool_cost_usd"]))
        for row in report.by_tool.iter_rows(named=True)
    ]
    return Table("Tool cost by tool", ("tool", "calls", "per call", "tool cost"), rows,
                 (False, True, True, True),
                 caption="price per call only")


def distribution_table(report: Report) -> Block | None:
    d = report.distribution
    if d is None:
        if not report.tasks_not_whole:
            return None
        return Section("Cost per task", ["No task is priced whole: no distribution"
                                         + left_out_words(report, " (") + ")."])
    headers = (*(f"P{p}" for p in d.percentiles), "max", "mean")
    row = (*(money(v) for v in d.percentiles.values()), money(d.max), money(d.mean))
    caption = f"{plural(d.tasks, 'task')}; nearest-rank percentiles" + left_out_words(
        report, "\n")
    return Table("Cost per task", headers, [row], tuple(True for _ in headers),
                 caption=caption)


def left_out_words(report: Report, before: str) -> str:
    """What the distribution's figures leave out, and why ("" when nothing)."""
    left_out = report.tasks_not_whole
    if not left_out:
        return ""
    return f"{before}{plural(left_out, 'task')} left out: unpriced steps"


def part_cost(cost: float | None, unpriced: int) -> str:
    """A task's LLM or tool cost: unpriced when none of it is known, partial when some is."""
    if cost is None:
        return "unpriced"
    return money(cost) + (" partial" if unpriced else "")


def task_total(total: float | None, priced: str) -> str:
    return part_cost(total, priced != "whole")


def window_words(window: AppliedWindow) -> str:
    bounds = " ".join(part for part in (
        f"since {utc(window.since)}" if window.since is not None else "",
        f"until {utc(window.until)}" if window.until is not None else "") if part)
    words = f"Kept {bounds}: {plural(window.steps_outside, 'step')} outside"
    if window.steps_untimed:
        words += f", {plural(window.steps_untimed, 'step')} without a time left out"
    return words


def unpriced_tables(report: Report) -> list[Table]:
    single = len(report.accounting.files) == 1
    tables = []
    if report.unpriced_models.height:
        rows: list[tuple[str, ...]] = [
            (safe_text(r["model"]), safe_text(r["unpriced_reason"]), count(r["steps"]),
             count(r["tokens_in"]), count(r["tokens_out"]),
             lines_list([(r["source_file"], r["first_line"])], single_file=single))
            for r in report.unpriced_models.iter_rows(named=True)
        ]
        headers: tuple[str, ...] = ("model", "why", "steps", "tokens in", "tokens out",
                                    "first line")
        numeric: tuple[bool, ...] = (False, False, True, True, True, False)
        caption = "excluded from the totals above"
        near = report.unpriced_models["did_you_mean"].to_list()
        if any(near):  # a column only when there is something to suggest
            rows = [(*row, ", ".join(safe_text(name) for name in names))
                    for row, names in zip(rows, near, strict=True)]
            headers, numeric = (*headers, "did you mean"), (*numeric, False)
            caption += "; did you mean: near names in the price table, never used as prices"
        tables.append(Table("Unpriced LLM steps", headers, rows, numeric, caption=caption,
                            warn=True))
    if report.unpriced_tools.height:
        tool_rows = [
            (safe_text(r["tool_name"]), count(r["calls"]),
             lines_list([(r["source_file"], r["first_line"])], single_file=single))
            for r in report.unpriced_tools.iter_rows(named=True)
        ]
        tables.append(Table("Unpriced tools",
                            ("tool", "calls", "first line"), tool_rows, (False, True, False),
                            caption="not in the price table; excluded from the totals above",
                            warn=True))
    return tables


def reconciliation_table(report: Report) -> Table | None:
    if not report.compared_steps or report.reconciliation is None:
        return None
    differing = report.reconciliation
    rows = [
        (safe_text(r["model"]), count(r["steps"]), money(r["computed_cost_usd"]),
         money(r["reported_cost_usd"]), money(r["difference_usd"]))
        for r in differing.iter_rows(named=True)
    ]
    differ = int(differing['steps'].sum())
    caption = (f"{plural(report.compared_steps, 'step')} "
               f"{agreeing(report.compared_steps, 'carries', 'carry')} the producer's own cost; "
               f"{count(differ)} {agreeing(differ, 'differs', 'differ')} from ours by more than 1% "
               f"(difference = reported - computed)")
    return Table("Reported vs computed cost", ("model", "steps", "computed", "reported",
                                               "difference"), rows,
                 (False, True, True, True, True), caption=caption)


def input_section(report: Report) -> Section:
    a = report.accounting
    single = len(a.files) == 1
    files = safe_text(a.files[0]) if single else plural(len(a.files), "file")
    lines = [
        f"{files}: {plural(a.lines_read, 'line')} read, {count(a.lines_used)} used, "
        f"{count(a.lines_blank)} blank, {count(a.lines_skipped)} skipped"
    ]
    if a.formats:
        lines.append("Recognised: " + ", ".join(
            f"{name} ({plural(n, 'file')}" + (f": {a.evidence[name]})" if a.evidence.get(name)
                                              else ")")
            for name, n in sorted(a.formats.items())))
    if a.spans_read:
        not_steps = a.spans_read - a.spans_used
        lines.append(f"Spans: {count(a.spans_read)} read, {count(a.spans_used)} became steps, "
                     f"{count(not_steps)} did not")
        for reason, tally in sorted(a.spans_not_steps.items(),
                                    key=lambda item: (-item[1].count, item[0])):
            lines.append(f"  {count(tally.count)}: {safe_text(reason)}")
        for reason, tally in sorted(a.spans_skipped.items(),
                                    key=lambda item: (-item[1].count, item[0])):
            lines.append(f"  skipped {count(tally.count)}: {safe_text(reason)} "
                         f"(line {lines_list(tally.examples, single_file=single)})")
    for reason, tally in sorted(a.skipped.items(), key=lambda item: (-item[1].count, item[0])):
        repeats = first_of_each(tally, single_file=single)
        lines.append(f"  skipped {count(tally.count)}: {safe_text(reason)} "
                     f"(line {lines_list(tally.examples, single_file=single)}"
                     f"{'; ' + repeats if repeats else ''})")
    for note, tally in sorted(a.notes.items()):
        if tally.earlier:
            lines.append(f"  note: {safe_text(note)} ({count(tally.count)}; first at line "
                         f"{lines_list(tally.examples[:1], single_file=single)}, the earlier "
                         f"at line {lines_list(tally.earlier[:1], single_file=single)})")
        elif tally.examples:
            lines.append(f"  note: {safe_text(note)} ({count(tally.count)}; first at line "
                         f"{lines_list(tally.examples[:1], single_file=single)})")
        else:  # about a file or the whole input, not its lines
            lines.append(f"  note: {safe_text(note)} ({count(tally.count)})")
    lines.append(f"Prices: {safe_text(report.price_table)} (cost mode: {report.cost_mode})")
    if report.engine != "memory":  # the usual one goes without saying (JSON says it always)
        lines.append(f"Engine: {report.engine} (steps spilled to disk by task, bounded memory)")
    return Section("Input", lines)
