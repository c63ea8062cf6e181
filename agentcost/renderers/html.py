"""The report as one self-contained HTML page to send to a team: a header saying what it
covers, the headline figures, charts (cost over time by model, by model, workflow and tool, the
cost-per-task histogram), the report's sections, then the task table, capped, with every task
in an embedded CSV. Inline CSS and SVG, one small inline script, no network; light and dark,
printable. Every trace-derived string is escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath

import polars as pl

from agentcost import __version__
from agentcost.analysis.charts import Charts
from agentcost.analysis.report import Report
from agentcost.renderers import views
from agentcost.renderers.html_charts import Bar, bar_list, histogram, time_chart
from agentcost.renderers.html_style import SCRIPT, STYLE
from agentcost.renderers.html_tables import TABLE_ROWS, block, task_table
from agentcost.renderers.html_text import e
from agentcost.renderers.text import count, money, plural, span, unpriced_counts, utc

FILES_NAMED = 5  # input files named in the header; more are counted


def page(title: str, header: str, body: str) -> str:
    """A whole page: `header` and `body` are HTML already escaped."""
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{e(title)}</title><style>{STYLE}</style></head><body><div class=wrap>"
            f"<header>{header}</header><main>{body}</main></div>"
            f"<script>{SCRIPT}</script></body></html>\n")


def meta(rows: list[tuple[str, str]]) -> str:
    return "<dl class=meta>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows) + "</dl>"


def generated_at(moment: datetime | None) -> str:
    return f"{utc(moment or datetime.now(UTC))} by agentcost {__version__}"


def inputs_named(files: list[str]) -> str:
    named = ", ".join(files[:FILES_NAMED])
    return named + (f" and {count(len(files) - FILES_NAMED)} more" if len(files) > FILES_NAMED
                    else "")


def render_html(report: Report, tasks: pl.DataFrame, *, shown: int = TABLE_ROWS,
                sorted_by: str = "total", generated: datetime | None = None) -> str:
    """`tasks`: the task table sorted (by `sorted_by`), every task the CSV download holds; the
    first `shown` are drawn as rows."""
    s = report.summary
    return page(_title(report), _header(report, generated), "".join([
        _cards(report),
        *(f"<p class=note>{e(note)}</p>" for note in _notes(report)),
        _charts(report),
        # The shared task table is left out, so it is built over no rows.
        *(block(item) for item in views.report_blocks(report, tasks.clear()) if _shown(item)),
        task_table(report, tasks, shown=shown, sorted_by=sorted_by) if s.steps else "",
        block(views.input_section(report)),
    ]))


def _title(report: Report) -> str:
    s = report.summary
    files = report.accounting.files
    what = (PurePath(files[0]).name if len(files) == 1 else plural(len(files), "file")
            if files else "no input")
    title = f"agentcost report: {what}"
    if s.window_start is not None and s.window_end is not None:
        first, last = s.window_start.date(), s.window_end.date()
        title += f", {first}" + (f" to {last}" if last != first else "")
    return title + f" ({money(s.total_cost_usd)}, {plural(s.tasks, 'task')})"


def _header(report: Report, generated: datetime | None) -> str:
    s = report.summary
    window = (f"{utc(s.window_start)} to {utc(s.window_end)} "
              f"({span(s.window_start, s.window_end)})" if s.window_start else "no start times")
    rows = [("Inputs", inputs_named(report.accounting.files) or "-"), ("Window", window)]
    if report.window is not None:
        rows.append(("Kept", views.window_words(report.window)))
    rows += [("Prices", f"{report.price_table} (cost mode: {report.cost_mode})"),
             ("Engine", report.engine), ("Generated", generated_at(generated))]
    lede = (f"{money(s.total_cost_usd)}{' *' if s.unpriced_steps or s.unpriced_tool_calls else ''}"
            f" over {plural(s.tasks, 'task')} and {plural(s.steps, 'step')}")
    return f"<h1>Agent cost report</h1><p>{e(lede)}</p>{meta(rows)}"


def _cards(report: Report) -> str:
    s = report.summary
    unpriced = s.unpriced_steps or s.unpriced_tool_calls
    cards = [("Total", money(s.total_cost_usd) + (" *" if unpriced else "")),
             ("LLM", money(s.llm_cost_usd)), ("Tools", money(s.tool_cost_usd)),
             ("Compute", money(s.compute_cost_usd)), ("Tasks", count(s.tasks)),
             ("Steps", count(s.steps))]
    if report.distribution is not None:
        cards += [(f"P{p}", money(v)) for p, v in report.distribution.percentiles.items()]
    return "<div class=cards>" + "".join(
        f"<div class=card id='card-{e(name.lower())}'>{e(name)}<b>{e(value)}</b></div>"
        for name, value in cards) + "</div>"


def _notes(report: Report) -> list[str]:
    s = report.summary
    notes = []
    if s.unpriced_steps or s.unpriced_tool_calls:
        notes.append("* Totals exclude the unpriced: "
                     f"{unpriced_counts(s.unpriced_steps, s.unpriced_tool_calls)} (see Unpriced).")
    d = report.distribution
    if d is not None and d.left_out:
        notes.append(f"Percentiles over the {plural(d.tasks, 'task')} priced whole; "
                     f"{plural(d.left_out, 'task')} left out: unpriced steps.")
    return notes


def _shown(item: views.Block) -> bool:
    """The shared blocks the page shows in their order: not the task table and the input
    section (drawn after them, the table capped) nor the text histogram (drawn as a chart)."""
    if isinstance(item, views.Section):
        return item.title != "Input"
    return not (item.title == "Tasks" or item.title.startswith("Cost per task, histogram"))


def _charts(report: Report) -> str:
    parts = []
    if report.charts is not None and report.charts.over_time.height:
        parts.append(f"<section><h2>Cost over time</h2>{time_chart(report.charts)}</section>")
    side = [_model_bars(report)]
    if report.charts is not None:
        side += [_workflow_bars(report.charts), _tool_bars(report.charts)]
    side = [part for part in side if part]
    if side:
        parts.append("<div class=grid2>" + "".join(side) + "</div>")
    drawn = histogram(report)
    if drawn:
        parts.append(f"<section><h2>Cost per task, histogram</h2>{drawn}</section>")
    return "".join(parts)


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _model_bars(report: Report) -> str:
    models = report.by_model
    if not models.height and not report.unpriced_models.height:
        return ""
    total = report.summary.llm_cost_usd
    bars = [Bar(str(m), cost, f"{money(cost)}  {_share(cost, total)}")
            for m, cost in models.select("model", "llm_cost_usd").iter_rows()]
    caption = "LLM cost (the tools' and compute cost are apart)"
    if report.unpriced_models.height:
        steps = int(report.unpriced_models["steps"].sum())
        caption += f"; not drawn: {plural(steps, 'unpriced LLM step')} (see Unpriced)"
    return (f"<section><h2>LLM cost by model</h2>"
            f"{bar_list('chart-models', 'LLM cost by model', bars, caption=caption)}</section>")


def _workflow_bars(charts: Charts) -> str:
    frame = charts.by_workflow
    if frame is None:
        return ""
    total = float(frame["cost_usd"].sum())
    bars = [Bar(name + (" *" if unknown else ""), cost,
                f"{money(cost)}  {_share(cost, total)}  {plural(tasks, 'task')}")
            for name, _, tasks, cost, unknown in frame.iter_rows()]
    caption = "Total cost by workflow or agent"
    if int(frame["unpriced_steps"].sum()):
        caption += "; *: has steps with an unpriced part, not in its cost"
    return (f"<section><h2>Cost by workflow</h2>"
            f"{bar_list('chart-workflows', 'cost by workflow', bars, caption=caption)}</section>")


def _tool_bars(charts: Charts) -> str:
    frame = charts.by_tool
    if frame.height <= 1:
        return ""  # no tool at all: one bar saying so is no chart
    total = float(frame["cost_usd"].sum())
    bars = [Bar(name + (" *" if unknown else ""), cost,
                f"{money(cost)}  {_share(cost, total)}  {plural(steps, 'step')}")
            for name, steps, cost, unknown in frame.iter_rows()]
    caption = ("Total cost of the steps by the tool they called (LLM, tool and compute), "
               "(no tool): the steps that called none")
    if int(frame["unpriced_steps"].sum()):
        caption += "; *: has steps with an unpriced part, not in its cost"
    return (f"<section><h2>Cost by tool</h2>"
            f"{bar_list('chart-tools', 'cost by tool', bars, caption=caption)}</section>")
