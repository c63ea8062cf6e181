"""The HTML report's charts, drawn as inline SVG by this module (no script, no network): cost
over time stacked by model, horizontal bars (by model, workflow, tool), the cost-per-task
histogram on its 1-2-5 axis, and a simulation's waterfall. Every label is escaped text."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from agentcost.analysis.charts import NON_LLM, OTHER_MODELS, Charts
from agentcost.analysis.dashboard import Bin
from agentcost.analysis.report import Report
from agentcost.renderers.html_style import GREY, PALETTE
from agentcost.renderers.html_text import e
from agentcost.renderers.text import count, money, plural, safe_text
from agentcost.simulation.engine import Simulation
from agentcost.simulation.strategies import titled

WIDTH = 860
CHAR_PX = 6.2  # the width of a character of the 11 px labels, to keep labels apart
PERIOD = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
PERIOD_LABEL = {"hour": "%H:00", "day": "%m-%d", "week": "%Y-%m-%d"}
# Hourly columns are labelled at hours that divide the day, so every midnight is labelled.
HOURS_BETWEEN_LABELS = (1, 2, 3, 4, 6, 12, 24)


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart: its label, the value the bar's length draws (None:
    unknown, drawn empty) and the figures written beside it."""

    label: str
    value: float | None
    shown: str


def nice_step(span: float) -> float:
    """The 1-2-5 step nearest above `span`: axis ticks at round amounts."""
    if span <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(span))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= span)


def money_axis(highest: float, *, left: int, right: int, top: int, plot_h: int
               ) -> tuple[float, list[str]]:
    """A vertical axis of dollars from $0 to the round amount at or above `highest`, with
    gridlines at four or five round ticks: (that top amount, the shapes drawing it)."""
    tick = nice_step((highest or 1.0) / 4)
    ticks = max(1, math.ceil((highest or 1.0) / tick - 1e-9))
    ceiling = tick * ticks
    shapes = []
    for k in range(ticks + 1):
        y = top + plot_h - plot_h * k / ticks
        shapes.append(f"<line class={'axis' if k == 0 else 'gridline'} x1={left} "
                      f"x2={WIDTH - right} y1='{y:.1f}' y2='{y:.1f}'/><text x={left - 6} "
                      f"y='{y + 4:.1f}' text-anchor=end>{e(money(k * tick))}</text>")
    return ceiling, shapes


def figure(chart_id: str, label: str, svg_body: str, height: float, *, caption: str = "",
           legend: str = "") -> str:
    return (f"<figure class=chart id={chart_id}><svg viewBox='0 0 {WIDTH} {height:.0f}' "
            f"role=img aria-label='{e(label)}'>{svg_body}</svg>{legend}"
            + (f"<figcaption>{e(caption)}</figcaption>" if caption else "") + "</figure>")


def time_chart(charts: Charts) -> str:
    """Cost per hour, day or week, one column per period (empty periods included), stacked by
    model, with the tools' and compute cost as one more series."""
    frame = charts.over_time
    if frame.height == 0:
        return ""
    stacks: dict[datetime, dict[str, float]] = defaultdict(dict)
    unpriced: dict[datetime, int] = {}
    for period, series, cost, unknown in frame.iter_rows():
        parts = stacks[period]  # made here even when nothing in it is priced
        if series is not None:
            parts[series] = cost
        unpriced[period] = int(unknown or 0)
    totals_by_series: dict[str, float] = defaultdict(float)
    for parts in stacks.values():
        for series, cost in parts.items():
            totals_by_series[series] += cost
    order = sorted(totals_by_series, key=lambda s: (s in (OTHER_MODELS, NON_LLM),
                                                     -totals_by_series[s], s))
    colours = {s: (GREY if s == NON_LLM else "#bab0ac" if s == OTHER_MODELS
                   else PALETTE[i % len(PALETTE)]) for i, s in enumerate(order)}
    step = PERIOD[charts.period]
    first, last = min(stacks), max(stacks)
    periods = [first + step * i for i in range(int((last - first) / step) + 1)]
    height, left, right, top, bottom = 260, 70, 10, 18, 36
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    ceiling, shapes = money_axis(max(sum(parts.values()) for parts in stacks.values()),
                                 left=left, right=right, top=top, plot_h=plot_h)
    slot = plot_w / len(periods)
    label_chars = len(first.strftime(PERIOD_LABEL[charts.period])) + 2
    needed = math.ceil(len(periods) * label_chars * CHAR_PX / plot_w)
    every = (next((n for n in HOURS_BETWEEN_LABELS if n >= needed), needed)
             if charts.period == "hour" else max(1, needed))
    for i, period in enumerate(periods):
        x = left + i * slot
        parts = stacks.get(period, {})
        y = float(top + plot_h)
        segments = []
        for series in order:
            cost = parts.get(series)
            if not cost:
                continue
            h = plot_h * cost / ceiling
            y -= h
            segments.append(f"<rect x='{x + slot * 0.1:.1f}' y='{y:.1f}' "
                            f"width='{slot * 0.8:.2f}' height='{h:.2f}' fill='{colours[series]}'>"
                            f"<title>{e(safe_text(series))}: {e(money(cost))}</title></rect>")
        when = period.strftime("%Y-%m-%d %H:00" if charts.period == "hour" else "%Y-%m-%d")
        total = sum(parts.values())
        unknown = unpriced.get(period, 0)
        note = (f"; {plural(unknown, 'step')} with an unpriced part, not in the bar"
                if unknown else "")
        shapes.append(f"<g><title>{e(when)}: {e(money(total))}{e(note)}</title>"
                      + "".join(segments) + "</g>")
        if unknown:
            shapes.append(f"<text x='{x + slot / 2:.1f}' y='{y - 3:.1f}' text-anchor=middle "
                          "class=pct>*</text>")
        if _labelled(i, period, every, charts.period):
            label = period.strftime(PERIOD_LABEL[charts.period])
            if charts.period == "hour" and period.hour == 0:
                label = period.strftime("%m-%d")  # a new day
            shapes.append(f"<text x='{x + slot / 2:.1f}' y={height - bottom + 14} "
                          f"text-anchor=middle>{e(label)}</text>")
    shapes.append(f"<text x={left} y={height - 4}>UTC, one column per {charts.period}</text>")
    legend = "<ul class=legend>" + "".join(
        f"<li><i style='background:{colours[s]}'></i>{e(safe_text(s))} "
        f"{e(money(totals_by_series[s]))}</li>" for s in order) + "</ul>"
    caption = [f"Cost per {charts.period}, stacked by model; tools and compute as one series"]
    if any(unpriced.values()):
        caption.append("*: the period has steps with an unpriced part, not in its column")
    if charts.untimed_steps:
        caption.append(f"{plural(charts.untimed_steps, 'step')} without a start time not drawn")
    return figure("chart-time", f"cost per {charts.period} by model", "".join(shapes), height,
                  caption="; ".join(caption), legend=legend)


def _labelled(index: int, period: datetime, every: int, unit: str) -> bool:
    if unit == "hour":
        return period.hour % every == 0
    return index % every == 0


def bar_list(chart_id: str, label: str, bars: Sequence[Bar], *, caption: str = "") -> str:
    """Horizontal bars with their labels and figures as text beside them, readable at any
    width; the bars are SVG, scaled to the largest value."""
    most = max((b.value for b in bars if b.value), default=0.0) or 1.0
    rows = []
    for b in bars:
        length = 100 * max(b.value or 0.0, 0.0) / most
        rows.append(f"<span class=label>{e(b.label)}</span><svg viewBox='0 0 100 10' "
                    f"preserveAspectRatio=none aria-hidden=true><rect class=bar width="
                    f"'{length:.2f}' height=10 /></svg><span class=v>{e(b.shown)}</span>")
    return (f"<figure id={chart_id} aria-label='{e(label)}'><div class=bars>{''.join(rows)}"
            f"</div>" + (f"<figcaption>{e(caption)}</figcaption>" if caption else "")
            + "</figure>")


def histogram(report: Report) -> str:
    """Tasks per cost bin, the bins on the 1-2-5 series (equal widths, so the axis is linear
    within a bin): edges labelled at the bars' edges, counts above the bars, and each
    percentile marked at its own value."""
    board, d = report.dashboard, report.distribution
    if board is None or d is None or not board.histogram:
        return ""
    bins = board.histogram
    height, left, right, top, bottom = 250, 16, 16, 50, 34
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    bin_w = plot_w / len(bins)
    most = max(b.tasks for b in bins) or 1
    shapes = [f"<line class=axis x1={left} x2={WIDTH - right} y1={top + plot_h} "
              f"y2='{top + plot_h}'/>"]
    for i, b in enumerate(bins):
        h = plot_h * b.tasks / most
        x = left + i * bin_w
        shapes.append(f"<rect class=bar x='{x + 1:.1f}' y='{top + plot_h - h:.1f}' "
                      f"width='{bin_w - 2:.1f}' height='{h:.1f}'><title>above "
                      f"{e(money(b.low))}, up to {e(money(b.high))}: "
                      f"{e(plural(b.tasks, 'task'))}</title></rect>")
        if b.tasks:
            shapes.append(f"<text class=count x='{x + bin_w / 2:.1f}' "
                          f"y='{top + plot_h - h - 3:.1f}' text-anchor=middle>"
                          f"{e(count(b.tasks))}</text>")
    edges = [bins[0].low, *(b.high for b in bins)]
    widest = max(len(money(edge)) for edge in edges) * CHAR_PX + 6
    every = max(1, math.ceil(widest / bin_w))
    for i, edge in enumerate(edges):
        if i % every and i != len(edges) - 1:
            continue
        x = left + i * bin_w
        anchor = "start" if i == 0 else "end" if i == len(edges) - 1 else "middle"
        shapes.append(f"<line class=axis x1='{x:.1f}' x2='{x:.1f}' y1={top + plot_h} "
                      f"y2='{top + plot_h + 4}'/><text x='{x:.1f}' y={top + plot_h + 16} "
                      f"text-anchor={anchor}>{e(money(edge))}</text>")
    for row, (p, value) in enumerate(d.percentiles.items()):
        x = left + bin_w * _bin_position(bins, value)
        label = f"P{p} {money(value)}"
        anchor = "end" if x > WIDTH - right - len(label) * CHAR_PX else "start"
        shift = -3 if anchor == "end" else 3
        y = 12 + 13 * row
        shapes.append(f"<line class=pct x1='{x:.1f}' x2='{x:.1f}' y1={y - 9} "
                      f"y2={top + plot_h} stroke-dasharray='3 2'/><text class=pct "
                      f"x='{x + shift:.1f}' y={y} text-anchor={anchor}>{e(label)}</text>")
    caption = ("Tasks by cost; each bin holds the tasks above its left edge, up to its right "
               "edge; percentiles marked at their values (nearest-rank)")
    if d.left_out:
        caption += f"; {plural(d.left_out, 'task')} with unpriced steps left out"
    return figure("histogram", "histogram of cost per task", "".join(shapes), height,
                  caption=caption)


def _bin_position(bins: Sequence[Bin], value: float) -> float:
    """Where `value` falls on the histogram's axis, in bin widths from its left end."""
    for i, b in enumerate(bins):
        if value <= b.high or i == len(bins) - 1:
            return i + (min(max(value, b.low), b.high) - b.low) / ((b.high - b.low) or 1.0)
    return float(len(bins))


def waterfall(simulation: Simulation, chart_id: str = "chart-waterfall") -> str:
    """The baseline, what each strategy in turn takes off (or adds), and the result."""
    base = simulation.baseline
    steps = [("baseline", 0.0, base.total_usd, "total")]
    previous = base.total_usd
    for stage in simulation.waterfall:
        steps.append((titled(stage.strategy), previous, stage.total_usd, "step"))
        previous = stage.total_usd
    steps.append(("scenario", 0.0, simulation.result.total_usd, "total"))
    height, left, right, top, bottom = 240, 70, 10, 22, 40
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    ceiling, shapes = money_axis(max(max(a, b) for _, a, b, _ in steps), left=left,
                                 right=right, top=top, plot_h=plot_h)

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / ceiling

    slot = plot_w / len(steps)
    for i, (name, start, end, kind) in enumerate(steps):
        x = left + i * slot + slot * 0.15
        low, high = sorted((start, end))
        colour = (PALETTE[0] if kind == "total" else PALETTE[2] if end <= start else PALETTE[3])
        figure_text = money(end) if kind == "total" else money(end - start)
        what = (f"{name}: {money(end)}" if kind == "total" else
                f"{name}: {money(start)} -> {money(end)} ({money(end - start)})")
        shapes.append(f"<rect x='{x:.1f}' y='{y_of(high):.1f}' width='{slot * 0.7:.1f}' "
                      f"height='{max(y_of(low) - y_of(high), 1):.1f}' fill='{colour}'>"
                      f"<title>{e(what)}</title></rect><text class=count x='{x + slot * 0.35:.1f}'"
                      f" y='{y_of(high) - 4:.1f}' text-anchor=middle>{e(figure_text)}</text>"
                      f"<text x='{x + slot * 0.35:.1f}' y={height - bottom + 15} "
                      f"text-anchor=middle>{e(name)}</text>")
        if i + 1 < len(steps):
            shapes.append(f"<line class=gridline x1='{x + slot * 0.7:.1f}' "
                          f"x2='{x + slot:.1f}' y1='{y_of(end):.1f}' y2='{y_of(end):.1f}'/>")
    caption = ("Each strategy applied in turn (savings compound): green takes cost off, red "
               "adds it")
    if base.unpriced_steps or simulation.result.unpriced_steps:
        caption += "; totals exclude the unpriced steps (see the table below)"
    return figure(chart_id, f"waterfall of {simulation.scenario.name}",
                  "".join(shapes), height, caption=caption)
