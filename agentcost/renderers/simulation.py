"""A simulation as blocks (terminal, markdown), as a JSON document, and as CSV rows."""

from __future__ import annotations

import csv
import io
from typing import Any

import polars as pl

from agentcost import __version__
from agentcost.renderers.text import count, money, plural, safe_text
from agentcost.renderers.views import Block, Section, Table
from agentcost.simulation.engine import Simulation
from agentcost.simulation.scenario import Scenario

NAMES = {"routing": "model routing", "caching": "tool caching",
         "compression": "history compression", "budget": "budgets"}


def describe(scenario: Scenario) -> list[str]:
    lines = [f"route {route.describe()}" for route in scenario.routes]
    lines += [f"cache {rule.tool} for {rule.ttl_seconds:g} s" for rule in scenario.cache]
    if scenario.compression:
        c = scenario.compression
        lines.append(f"compress history after step {c.after_step}, keeping the last "
                     f"{c.keep_last} steps; summaries of {c.summary_tokens} tokens by "
                     f"{c.summary_model}")
    if scenario.budget_usd is not None:
        lines.append(f"budget {money(scenario.budget_usd)} per task")
    if scenario.max_steps is not None:
        lines.append(f"at most {scenario.max_steps} steps per task")
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
            rows.append((NAMES[strategy], money(total), money(previous - total),
                         _percent(previous - total, base.total_usd)))
            previous = total
        blocks.append(Table("Waterfall (applied in this order; savings compound)",
                            ("then", "total", "saving", "of baseline"), rows,
                            (False, True, True, True)))
        blocks.append(Table(
            "Each strategy alone", ("strategy", "total", "saving", "of baseline"),
            [(NAMES[s], money(total), money(base.total_usd - total),
              _percent(base.total_usd - total, base.total_usd))
             for s, total in simulation.alone], (False, True, True, True)))
        blocks.append(Table(
            "What each strategy touched", ("strategy", "steps", "tasks", "detail"),
            [(NAMES[s], count(t.steps), count(t.tasks), _detail(s, t.details))
             for s, t in simulation.touched.items()], (False, True, True, False)))
    caching = simulation.touched.get("caching")
    if caching is not None:
        per_tool = caching.details["per_tool"]
        assert isinstance(per_tool, pl.DataFrame)
        blocks.append(Table(
            "Tool caching by tool", ("tool", "calls", "hits", "hit rate", "saved"),
            [(safe_text(tool), count(calls), count(hits), _percent(hits, calls), money(saved))
             for tool, calls, _, hits, saved in per_tool.iter_rows()],
            (False, True, True, True, True)))
    if simulation.caveats:
        blocks.append(Section("Caveats", [safe_text(c) for c in simulation.caveats]))
    return blocks


def _detail(strategy: str, details: dict[str, object]) -> str:
    if strategy == "compression":
        return (f"{count(int(details['tokens_removed']))} input tokens removed, "  # type: ignore[call-overload]
                f"{plural(int(details['summary_calls']), 'summary call')}")  # type: ignore[call-overload]
    if strategy == "budget":
        return (f"{details['runaways_cut']} of {details['runaway_tasks']} runaway tasks cut "
                f"(saving {money(details['saved_on_runaways_usd'])}), "  # type: ignore[arg-type]
                f"{details['normal_tasks_cut']} normal tasks cut "
                f"(saving {money(details['saved_on_normal_usd'])})")  # type: ignore[arg-type]
    if strategy == "caching":
        return "cache hits"
    return "steps repriced"


def simulation_document(simulation: Simulation) -> dict[str, Any]:
    def outcome(o: Any) -> dict[str, Any]:
        return {"total_usd": round(o.total_usd, 10), "llm_usd": round(o.llm_usd, 10),
                "tool_usd": round(o.tool_usd, 10), "compute_usd": round(o.compute_usd, 10),
                "steps": o.steps, "tasks": o.tasks, "unpriced_steps": o.unpriced_steps,
                **{f"p{p}_usd": round(v, 10) for p, v in o.percentiles.items()}}

    touched: dict[str, Any] = {}
    for strategy, t in simulation.touched.items():
        details = {k: round(v, 10) if isinstance(v, float) else v
                   for k, v in t.details.items()
                   if not isinstance(v, pl.DataFrame | pl.Series)}
        if "per_tool" in t.details:
            per_tool = t.details["per_tool"]
            assert isinstance(per_tool, pl.DataFrame)
            details["per_tool"] = per_tool.with_columns(pl.col("saved_usd").round(10)).to_dicts()
        touched[strategy] = {"steps": t.steps, "tasks": t.tasks, **details}
    return {
        "schema_version": 1,
        "generator": {"name": "agentcost", "version": __version__},
        "scenario": {"name": simulation.scenario.name, "strategies": describe(simulation.scenario)},
        "baseline": outcome(simulation.baseline),
        "result": outcome(simulation.result),
        "waterfall": [{"strategy": s, "total_usd": round(t, 10)} for s, t in simulation.waterfall],
        "alone": [{"strategy": s, "total_usd": round(t, 10)} for s, t in simulation.alone],
        "touched": touched,
        "caveats": simulation.caveats,
    }


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
