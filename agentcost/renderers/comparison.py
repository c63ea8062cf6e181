"""`agentcost simulate`'s whole output: every scenario, side by side when there are several, and
the budget sweep, as blocks (terminal, markdown), as one JSON document and as CSV rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentcost.renderers.csv_out import spreadsheet_safe
from agentcost.renderers.simulation import (
    percent,
    simulation_blocks,
    simulation_document,
    window_section,
)
from agentcost.renderers.text import count, money, plural, safe_text
from agentcost.renderers.views import Block, Table
from agentcost.simulation.engine import Outcome, Simulation, SweepPoint

if TYPE_CHECKING:
    from agentcost.api import Comparison

PERCENTILES = (50, 90, 99)
MONEY_PLACES = 10
RUNAWAY_WORDS = "runaway: a task costing more than 5 x the median task"


def comparison_blocks(comparison: Comparison) -> list[Block]:
    """The window, then one scenario in full; or several side by side, then each one's
    strategies; then the budget sweep."""
    simulations = list(comparison.simulations)
    several = len(simulations) > 1
    blocks: list[Block] = []
    if comparison.window_start is not None or comparison.window_end is not None:
        blocks.append(window_section(comparison.window_start, comparison.window_end,
                                     comparison.steps_outside, comparison.untimed_steps))
    if several:
        blocks.append(side_by_side(simulations))
    for simulation in simulations:
        blocks.extend(simulation_blocks(simulation, compared=several))
    if comparison.budget_sweep:
        blocks.append(sweep_table(comparison.budget_sweep))
    return blocks


def side_by_side(simulations: list[Simulation]) -> Table:
    """One column a scenario (after the baseline's, when they share it): total, saving, P50,
    P90, P99, steps, and the unpriced steps the totals leave out when there are any."""
    first = simulations[0].baseline
    shared = all(s.baseline == first for s in simulations)
    columns: list[tuple[str, Outcome, Outcome]] = [
        (safe_text(s.scenario.name), s.baseline, s.result) for s in simulations]
    if shared:
        columns.insert(0, ("baseline", first, first))
    rows: list[tuple[str, ...]] = []
    if not shared:
        rows.append(("baseline", *(money(base.total_usd) for _, base, _ in columns)))
    rows.append(("total", *(money(result.total_usd) for _, _, result in columns)))
    rows.append(("saving", *("-" if base is result else money(base.total_usd - result.total_usd)
                             for _, base, result in columns)))
    rows.append(("of baseline", *("-" if base is result
                                  else percent(base.total_usd - result.total_usd, base.total_usd)
                                  for _, base, result in columns)))
    for p in PERCENTILES:
        rows.append((f"P{p}", *(money(result.percentiles.get(p)) for _, _, result in columns)))
    rows.append(("steps", *(count(result.steps) for _, _, result in columns)))
    if any(result.unpriced_steps for _, _, result in columns):
        rows.append(("unpriced steps",
                     *(count(result.unpriced_steps) for _, _, result in columns)))
    caption = ["saving: against the baseline; percentiles: nearest-rank cost per task"]
    left_out = max(result.tasks_left_out for _, _, result in columns)
    if left_out:
        caption.append(f"over the tasks priced whole (up to {plural(left_out, 'task')} with "
                       "unpriced steps left out)")
    if not shared:
        caption.append("each against its own baseline: steps only one side can price are "
                       "left out of both (see its caveats)")
    return Table("Scenarios side by side", ("", *(name for name, _, _ in columns)), rows,
                 (False, *(True for _ in columns)), caption="; ".join(caption))


def sweep_table(points: tuple[SweepPoint, ...]) -> Table:
    return Table(
        "Budget sweep (each budget alone)",
        ("budget", "tasks cut", "runaways cut", "normal tasks cut", "saving"),
        [(money(p.budget_usd), count(p.tasks_cut), f"{p.runaways_cut} of {p.runaway_tasks}",
          count(p.normal_tasks_cut), money(p.saving_usd)) for p in points],
        (True, True, True, True, True), caption=RUNAWAY_WORDS)


def comparison_document(comparison: Comparison) -> dict[str, Any]:
    start, end = comparison.window_start, comparison.window_end
    return {"window": {"since": _time(start), "until": _time(end),
                       "steps_outside": comparison.steps_outside,
                       "untimed_steps_left_out": comparison.untimed_steps},
            "simulations": [simulation_document(s) for s in comparison.simulations],
            "budget_sweep": [_sweep_point(p) for p in comparison.budget_sweep],
            "runaway": RUNAWAY_WORDS.removeprefix("runaway: ")}


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _sweep_point(point: SweepPoint) -> dict[str, Any]:
    return {"budget_usd": point.budget_usd, "tasks_cut": point.tasks_cut,
            "runaways_cut": point.runaways_cut, "runaway_tasks": point.runaway_tasks,
            "normal_tasks_cut": point.normal_tasks_cut,
            "saving_usd": round(point.saving_usd, MONEY_PLACES)}


CSV_COLUMNS = ("part", "scenario", "stage", "total_usd", "saving_usd", "steps", "tasks",
               "p50_usd", "p90_usd", "p99_usd", "unpriced_steps", "unpriced_tokens",
               "budget_usd", "tasks_cut", "runaways_cut", "runaway_tasks", "normal_tasks_cut")


def comparison_csv(comparison: Comparison) -> str:
    """Every figure of the table output, one row each, in one long table. `part` says what a
    row is: `baseline` and `result` (a scenario's totals and percentiles), `waterfall` (a
    strategy's stage: its total, and its saving over the stage before), `alone` (a strategy
    applied by itself: its total and its saving over the baseline), `budget_sweep` (a budget
    alone). A cell a row has no figure for is empty (never 0)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for simulation in comparison.simulations:
        name = spreadsheet_safe(simulation.scenario.name)
        base, result = simulation.baseline, simulation.result
        writer.writerow(_row(part="baseline", scenario=name, stage="baseline",
                             **_outcome(base, saving=0.0)))
        previous = base.total_usd
        for stage in simulation.waterfall:
            writer.writerow(_row(part="waterfall", scenario=name, stage=stage.strategy,
                                 total_usd=_usd(stage.total_usd),
                                 saving_usd=_usd(previous - stage.total_usd),
                                 unpriced_steps=stage.unpriced_steps,
                                 unpriced_tokens=stage.unpriced_tokens))
            previous = stage.total_usd
        for strategy, total in simulation.alone:
            writer.writerow(_row(part="alone", scenario=name, stage=strategy,
                                 total_usd=_usd(total), saving_usd=_usd(base.total_usd - total)))
        writer.writerow(_row(part="result", scenario=name, stage="result",
                             **_outcome(result, saving=base.total_usd - result.total_usd)))
    for point in comparison.budget_sweep:
        writer.writerow(_row(part="budget_sweep", saving_usd=_usd(point.saving_usd),
                             budget_usd=_usd(point.budget_usd), tasks_cut=point.tasks_cut,
                             runaways_cut=point.runaways_cut, runaway_tasks=point.runaway_tasks,
                             normal_tasks_cut=point.normal_tasks_cut))
    return buffer.getvalue()


def _outcome(outcome: Outcome, *, saving: float) -> dict[str, object]:
    return {"total_usd": _usd(outcome.total_usd), "saving_usd": _usd(saving),
            "steps": outcome.steps, "tasks": outcome.tasks,
            **{f"p{p}_usd": _usd(outcome.percentiles.get(p)) for p in PERCENTILES},
            "unpriced_steps": outcome.unpriced_steps, "unpriced_tokens": outcome.unpriced_tokens}


def _usd(value: float | None) -> str:
    # Rounded first, so that float noise (-1e-17) is written 0, not -0.
    return "" if value is None else f"{round(value, MONEY_PLACES) + 0.0:.{MONEY_PLACES}f}"


def _row(**cells: object) -> list[object]:
    unknown = set(cells) - set(CSV_COLUMNS)
    assert not unknown, unknown
    return [cells.get(column, "") for column in CSV_COLUMNS]
