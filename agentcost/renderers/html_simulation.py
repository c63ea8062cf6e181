"""`agentcost simulate --format html`: the simulation's blocks (as the terminal and markdown show
them) on one self-contained page, with each scenario's waterfall drawn as a chart above its
tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcost.renderers.html import generated_at, meta, page
from agentcost.renderers.html_charts import waterfall
from agentcost.renderers.html_tables import block
from agentcost.renderers.html_text import e
from agentcost.renderers.text import money, plural, utc
from agentcost.renderers.views import Block, Section

if TYPE_CHECKING:
    from datetime import datetime

    from agentcost.api import Comparison

SCENARIO_TITLE = "Scenario: "


def render_simulation_html(comparison: Comparison, blocks: list[Block], *,
                           generated: datetime | None = None) -> str:
    """`blocks`: the simulation as the other renderers lay it out, in order; each scenario's
    blocks start with its "Scenario: NAME" section, where its waterfall is drawn."""
    simulations = list(comparison.simulations)
    names = [s.scenario.name for s in simulations]
    title = "agentcost simulate: " + ", ".join(names)
    start, end = comparison.window_start, comparison.window_end
    rows = [("Scenarios", ", ".join(names))]
    if start is not None or end is not None:
        rows.append(("Window", f"{utc(start) if start else 'the first step'} to "
                               f"{utc(end) if end else 'the last step'}"))
    rows.append(("Generated", generated_at(generated)))
    cards = []
    for simulation in simulations:
        base, result = simulation.baseline, simulation.result
        saving = base.total_usd - result.total_usd
        marked = " *" if base.unpriced_steps or result.unpriced_steps else ""
        cards.append((simulation.scenario.name, f"{money(result.total_usd)}{marked}",
                      f"from {money(base.total_usd)}, saving {money(saving)}"
                      f" over {plural(result.tasks, 'task')}"))
    header = (f"<h1>What-if simulation</h1><p>{e(_lede(comparison))}</p>{meta(rows)}")
    body = ["<div class=cards>" + "".join(
        f"<div class=card>{e(name)}<b>{e(total)}</b>{e(words)}</div>"
        for name, total, words in cards) + "</div>"]
    charts = enumerate(simulations, start=1)
    for item in blocks:
        if isinstance(item, Section) and item.title.startswith(SCENARIO_TITLE):
            body.append(block(item))
            number, drawn = next(charts, (0, None))
            if drawn is not None and drawn.waterfall:
                chart_id = "chart-waterfall" + (f"-{number}" if number > 1 else "")
                body.append(f"<h3>Waterfall</h3>{waterfall(drawn, chart_id)}")
        else:
            body.append(block(item))
    return page(title, header, "".join(body))


def _lede(comparison: Comparison) -> str:
    first = comparison.simulations[0]
    base = first.baseline
    return (f"Replayed {plural(base.steps, 'recorded step')} of {plural(base.tasks, 'task')} "
            f"(baseline {money(base.total_usd)}) under "
            f"{plural(len(comparison.simulations), 'scenario')}")
