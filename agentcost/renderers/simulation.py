"""One simulation as blocks (terminal, markdown) and as a JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentcost import __version__
from agentcost.renderers.text import count, money, plural, safe_text, utc
from agentcost.renderers.views import Block, Section, Table
from agentcost.simulation.engine import Outcome, Simulation
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.strategies import STRATEGIES, titled
from agentcost.simulation.strategies.caching import CachingTouched


def describe(scenario: Scenario) -> list[str]:
    lines = [line for strategy in STRATEGIES for line in strategy.settings(scenario)]
    return lines or ["no change (the baseline)"]


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _excluded(outcome: Outcome) -> str:
    return (f"{plural(outcome.unpriced_steps, 'step')} ({count(outcome.unpriced_tokens)} "
            "tokens)")


def unpriced_line(simulation: Simulation) -> str | None:
    """What the totals leave out, in words; None when every step is priced."""
    base, result = simulation.baseline, simulation.result
    if not base.unpriced_steps and not result.unpriced_steps:
        return None
    return (f"Unpriced, excluded from the totals: baseline {_excluded(base)}, scenario "
            f"{_excluded(result)}")


def window_section(start: datetime | None, end: datetime | None, outside: int, untimed: int
                   ) -> Section:
    """The time window the steps were taken from, and what it left out."""
    lines = [f"Steps that started from {utc(start) if start else 'the first step'} to "
             f"{utc(end) + ' (excluded)' if end else 'the last step'}; "
             f"{plural(outside, 'step')} outside"]
    if untimed:
        lines.append(f"{plural(untimed, 'step')} without a start time left out")
    return Section("Window", lines)


def simulation_blocks(simulation: Simulation, *, compared: bool = False) -> list[Block]:
    """One scenario in full. `compared`: shown beside others, whose side-by-side table already
    gives its totals and percentiles, so they are left out here."""
    base, result = simulation.baseline, simulation.result
    saving = base.total_usd - result.total_usd
    lines = [
        f"Baseline {money(base.total_usd)}  ->  scenario {money(result.total_usd)}  "
        f"(saving {money(saving)}, {percent(saving, base.total_usd)})",
        f"Steps {count(base.steps)} -> {count(result.steps)}   "
        f"Tasks {count(base.tasks)} -> {count(result.tasks)}",
    ]
    unpriced = unpriced_line(simulation)
    if unpriced is not None:
        lines.append(safe_text(unpriced))
    blocks: list[Block] = [
        Section(f"Scenario: {safe_text(simulation.scenario.name)}",
                [safe_text(line) for line in describe(simulation.scenario)]),
    ]
    if not compared:
        blocks.append(Section("Result", lines))
    if unpriced is not None:
        blocks.append(Table(
            "Unpriced steps (excluded from the totals)",
            ("", "model or tool", "why", "steps", "tokens"),
            [(side, safe_text(group.what), safe_text(group.reason), count(group.steps),
              count(group.tokens))
             for side, outcome in (("baseline", base), ("scenario", result))
             for group in outcome.unpriced],
            (False, False, False, True, True), warn=True))
    if base.percentiles and result.percentiles and not compared:
        blocks.append(Table(
            "Cost per task", ("", "P50", "P90", "P99"),
            [("baseline", *(money(base.percentiles[p]) for p in (50, 90, 99))),
             ("scenario", *(money(result.percentiles[p]) for p in (50, 90, 99)))],
            (False, True, True, True), caption="nearest-rank percentiles" + (
                f", over the tasks priced whole ({plural(base.tasks_left_out, 'task')} with "
                "unpriced steps left out)" if base.tasks_left_out else "")))
    if simulation.waterfall:
        blocks.extend(_strategy_tables(simulation, unpriced is not None))
    caching = simulation.touched.get("caching")
    if isinstance(caching, CachingTouched):
        blocks.append(Table(
            "Tool caching by tool", ("tool", "calls", "hits", "hit rate", "saved"),
            [(safe_text(t.tool_name), count(t.calls), count(t.hits), percent(t.hits, t.calls),
              money(t.saved_usd)) for t in caching.per_tool],
            (False, True, True, True, True)))
    if simulation.warnings:
        blocks.append(Section("Warnings", [safe_text(w) for w in simulation.warnings]))
    if simulation.caveats:
        blocks.append(Section("Caveats", [safe_text(c) for c in simulation.caveats]))
    return blocks


def _strategy_tables(simulation: Simulation, with_unpriced: bool) -> list[Block]:
    base = simulation.baseline
    rows, previous = [], base.total_usd
    for stage in simulation.waterfall:
        row = (titled(stage.strategy), money(stage.total_usd),
               money(previous - stage.total_usd),
               percent(previous - stage.total_usd, base.total_usd))
        rows.append((*row, count(stage.unpriced_steps)) if with_unpriced else row)
        previous = stage.total_usd
    headers = ("then", "total", "saving", "of baseline")
    return [
        Table("Waterfall (applied in this order; savings compound)",
              (*headers, "unpriced steps") if with_unpriced else headers, rows,
              (False, True, True, True, True) if with_unpriced else (False, True, True, True)),
        Table("Each strategy alone", ("strategy", "total", "saving", "of baseline"),
              [(titled(s), money(total), money(base.total_usd - total),
                percent(base.total_usd - total, base.total_usd))
               for s, total in simulation.alone], (False, True, True, True)),
        Table("What each strategy touched", ("strategy", "steps", "tasks", "detail"),
              [(titled(s), count(t.steps), count(t.tasks), t.detail())
               for s, t in simulation.touched.items()], (False, True, True, False)),
    ]


def simulation_document(simulation: Simulation) -> dict[str, Any]:
    def outcome(o: Outcome) -> dict[str, Any]:
        return {"total_usd": round(o.total_usd, 10), "llm_usd": round(o.llm_usd, 10),
                "tool_usd": round(o.tool_usd, 10), "compute_usd": round(o.compute_usd, 10),
                "steps": o.steps, "tasks": o.tasks, "unpriced_steps": o.unpriced_steps,
                "unpriced_tokens": o.unpriced_tokens,
                "totals_exclude_unpriced": bool(o.unpriced_steps),
                "percentile_tasks_left_out": o.tasks_left_out,
                "unpriced": [{"what": g.what, "reason": g.reason, "steps": g.steps,
                              "tokens": g.tokens} for g in o.unpriced],
                **{f"p{p}_usd": round(v, 10) for p, v in o.percentiles.items()}}

    return {
        "schema_version": 1,
        "generator": {"name": "agentcost", "version": __version__},
        "scenario": {"name": simulation.scenario.name, "strategies": describe(simulation.scenario)},
        "baseline": outcome(simulation.baseline),
        "result": outcome(simulation.result),
        "waterfall": [{"strategy": s.strategy, "total_usd": round(s.total_usd, 10),
                       "unpriced_steps": s.unpriced_steps, "unpriced_tokens": s.unpriced_tokens}
                      for s in simulation.waterfall],
        "alone": [{"strategy": s, "total_usd": round(t, 10)} for s, t in simulation.alone],
        "touched": {s: _rounded(t.figures()) for s, t in simulation.touched.items()},
        "left_out_steps": simulation.left_out_steps,
        "warnings": simulation.warnings,
        "caveats": simulation.caveats,
    }


def _rounded(value: Any) -> Any:
    """Money to ten places, however deep in the record."""
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value
