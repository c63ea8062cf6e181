"""A simulation as blocks (terminal, markdown), as a JSON document, and as CSV rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from agentcost import __version__
from agentcost.renderers.text import count, money, safe_text
from agentcost.renderers.views import Block, Section, Table
from agentcost.simulation.engine import Simulation
from agentcost.simulation.scenario import Scenario
from agentcost.simulation.strategies import STRATEGIES, titled
from agentcost.simulation.strategies.caching import CachingTouched


def describe(scenario: Scenario) -> list[str]:
    lines = [line for strategy in STRATEGIES for line in strategy.settings(scenario)]
    return lines or ["no change (the baseline)"]


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def simulation_blocks(simulation: Simulation) -> list[Block]:
    base, result = simulation.baseline, simulation.result
    saving = base.total_usd - result.total_usd
    blocks: list[Block] = [
        Section(f"Scenario: {safe_text(simulation.scenario.name)}",
                [safe_text(line) for line in describe(simulation.scenario)]),
        Section("Result", [
            f"Baseline {money(base.total_usd)}  ->  scenario {money(result.total_usd)}  "
            f"(saving {money(saving)}, {_percent(saving, base.total_usd)})",
            f"Steps {count(base.steps)} -> {count(result.steps)}   "
            f"Tasks {count(base.tasks)} -> {count(result.tasks)}",
        ]),
    ]
    if base.percentiles and result.percentiles:
        blocks.append(Table(
            "Cost per task", ("", "P50", "P90", "P99"),
            [("baseline", *(money(base.percentiles[p]) for p in (50, 90, 99))),
             ("scenario", *(money(result.percentiles[p]) for p in (50, 90, 99)))],
            (False, True, True, True), caption="nearest-rank percentiles"))
    if simulation.waterfall:
        rows, previous = [], base.total_usd
        for strategy, total in simulation.waterfall:
            rows.append((titled(strategy), money(total), money(previous - total),
                         _percent(previous - total, base.total_usd)))
            previous = total
        blocks.append(Table("Waterfall (applied in this order; savings compound)",
                            ("then", "total", "saving", "of baseline"), rows,
                            (False, True, True, True)))
        blocks.append(Table(
            "Each strategy alone", ("strategy", "total", "saving", "of baseline"),
            [(titled(s), money(total), money(base.total_usd - total),
              _percent(base.total_usd - total, base.total_usd))
             for s, total in simulation.alone], (False, True, True, True)))
        blocks.append(Table(
            "What each strategy touched", ("strategy", "steps", "tasks", "detail"),
            [(titled(s), count(t.steps), count(t.tasks), t.detail())
             for s, t in simulation.touched.items()], (False, True, True, False)))
    caching = simulation.touched.get("caching")
    if isinstance(caching, CachingTouched):
        blocks.append(Table(
            "Tool caching by tool", ("tool", "calls", "hits", "hit rate", "saved"),
            [(safe_text(t.tool_name), count(t.calls), count(t.hits), _percent(t.hits, t.calls),
              money(t.saved_usd)) for t in caching.per_tool],
            (False, True, True, True, True)))
    if simulation.caveats:
        blocks.append(Section("Caveats", [safe_text(c) for c in simulation.caveats]))
    return blocks


def simulation_document(simulation: Simulation) -> dict[str, Any]:
    def outcome(o: Any) -> dict[str, Any]:
        return {"total_usd": round(o.total_usd, 10), "llm_usd": round(o.llm_usd, 10),
                "tool_usd": round(o.tool_usd, 10), "compute_usd": round(o.compute_usd, 10),
                "steps": o.steps, "tasks": o.tasks, "unpriced_steps": o.unpriced_steps,
                **{f"p{p}_usd": round(v, 10) for p, v in o.percentiles.items()}}

    return {
        "schema_version": 1,
        "generator": {"name": "agentcost", "version": __version__},
        "scenario": {"name": simulation.scenario.name, "strategies": describe(simulation.scenario)},
        "baseline": outcome(simulation.baseline),
        "result": outcome(simulation.result),
        "waterfall": [{"strategy": s, "total_usd": round(t, 10)} for s, t in simulation.waterfall],
        "alone": [{"strategy": s, "total_usd": round(t, 10)} for s, t in simulation.alone],
        "touched": {s: _rounded(t.figures()) for s, t in simulation.touched.items()},
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


def simulations_csv(simulations: list[Simulation]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("scenario", "stage", "total_usd", "saving_usd"))
    for simulation in simulations:
        base = simulation.baseline.total_usd
        name = safe_text(simulation.scenario.name)
        name = "'" + name if name.startswith(("=", "+", "-", "@")) else name
        writer.writerow((name, "baseline", f"{base:.10f}", "0"))
        previous = base
        for strategy, total in simulation.waterfall:
            writer.writerow((name, strategy, f"{total:.10f}", f"{previous - total:.10f}"))
            previous = total
    return buffer.getvalue()
