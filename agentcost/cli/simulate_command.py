"""`agentcost simulate`: replay recorded traces under routing, tool caching, history compression
and budgets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentcost.cli.options import (
    Color,
    CostMode,
    CostModeOption,
    Format,
    InputFormat,
    InputFormatOption,
    Inputs,
    Output,
    OutputFormat,
    Prices,
    TaskKey,
)
from agentcost.errors import UsageError
from agentcost.simulate.scenario import (
    DEFAULT_KEEP_LAST,
    DEFAULT_SUMMARY_MODEL,
    DEFAULT_SUMMARY_TOKENS,
)

if TYPE_CHECKING:
    from agentcost.pricing.table import PriceTable
    from agentcost.simulate.scenario import Scenario

# The name of the scenario the command line's own flags make.
FLAGS_SCENARIO = "command line"
SIMULATE_COLUMNS = ("task_id", "step", "start_time", "duration_s", "kind", "name", "model",
                    "tool_name", "tool_args", "reported_cost_usd", "reported_tool_cost_usd")


def simulate(
    inputs: Inputs,
    route: Annotated[list[str] | None, typer.Option(
        help="LABEL=MODEL (LABEL a glob on the step name) or model:MODEL=MODEL; repeatable.")
    ] = None,
    step_inflation: Annotated[list[str] | None, typer.Option(
        help="LABEL=FACTOR: routed steps with this label take FACTOR x the steps and tokens.")
    ] = None,
    cache: Annotated[list[str] | None, typer.Option(
        help="TOOL[:TTL] (TTL like 30m, 1h, 1d; default 1h; * for every tool); repeatable.")
    ] = None,
    compress_after: Annotated[int | None, typer.Option(
        min=1, help="Compress history from this step on (needs --keep-last).")] = None,
    keep_last: Annotated[int, typer.Option(min=0, help="Steps kept whole when compressing.")
                         ] = DEFAULT_KEEP_LAST,
    summary_model: Annotated[str, typer.Option(help="Model that writes the summaries.")
                             ] = DEFAULT_SUMMARY_MODEL,
    summary_tokens: Annotated[int, typer.Option(min=1, help="Tokens of each summary.")
                              ] = DEFAULT_SUMMARY_TOKENS,
    budget: Annotated[float | None, typer.Option(
        min=0, help="Per-task budget in USD: a task stops at the step that reaches it.")
    ] = None,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Per-task step limit.")] = None,
    scenario_file: Annotated[Path | None, typer.Option(
        "--scenario", help="YAML file of named scenarios, compared side by side.")] = None,
    budget_sweep: Annotated[str | None, typer.Option(
        help="Comma-separated budgets (USD): tasks each would cut, runaways and normal ones.")
    ] = None,
    prices: Prices = None,
    output_format: Format = OutputFormat.table,
    output: Output = None,
    cost_mode: CostModeOption = CostMode.computed,
    input_format: InputFormatOption = InputFormat.auto,
    task_key: TaskKey = "trace",
    color: Color = None,
) -> None:
    """Replay the traces under what-if strategies and show what each would have saved.

    Example: agentcost simulate traces.jsonl --route summarize=gpt-4o-mini --cache web_search:1h
    --compress-after 5 --keep-last 3 --budget 0.50
    """
    from agentcost.ingest.read import read_steps
    from agentcost.pricing.table import load_price_table
    from agentcost.render.output import write_output
    from agentcost.simulate.engine import budget_sweep as sweep
    from agentcost.simulate.engine import simulate as run
    from agentcost.simulate.scenario import (
        Compression,
        Scenario,
        parse_cache,
        parse_inflation,
        parse_route,
    )
    from agentcost.simulate.scenario_file import load_scenarios
    table = load_price_table(prices)
    inflation = parse_inflation(step_inflation or [])
    flags = Scenario(
        name=FLAGS_SCENARIO,
        routes=tuple(parse_route(text, inflation) for text in route or []),
        cache=tuple(parse_cache(text) for text in cache or []),
        compression=Compression(compress_after, keep_last, summary_model, summary_tokens)
        if compress_after is not None else None,
        budget_usd=budget,
        max_steps=max_steps,
    )
    scenarios = load_scenarios(scenario_file) if scenario_file else []
    if not flags.is_identity or not scenarios:
        scenarios.insert(0, flags)
    _require_priced_models(scenarios, table)
    budgets = _budgets(budget_sweep) if budget_sweep else []
    from agentcost.cli.progress import read_progress

    with read_progress() as progress:
        steps = read_steps(inputs, columns=SIMULATE_COLUMNS, input_format=input_format.value,
                           task_key=task_key, progress=progress).steps
    simulations = [run(steps, table, scenario, cost_mode=cost_mode.value)
                   for scenario in scenarios]
    points = sweep(steps, table, budgets, cost_mode=cost_mode.value) if budgets else []
    write_output(_render(simulations, points, output_format, color, output is not None), output)


def _require_priced_models(scenarios: list[Scenario], table: PriceTable) -> None:
    """A route or summary model the price table does not know would reprice steps at $0 and
    show a saving that is not there: refuse it up front."""
    from agentcost.pricing.resolve import resolve_model

    for scenario in scenarios:
        where = "" if scenario.name == FLAGS_SCENARIO else f" in scenario {scenario.name!r}"
        wanted = [(f"route {route.pattern}={route.target}", route.target)
                  for route in scenario.routes]
        if scenario.compression:
            wanted.append(("summary model", scenario.compression.summary_model))
        for what, model in wanted:
            if resolve_model(model, table).model is None:
                raise UsageError(
                    f"{what}{where}: {model!r} is not in the price "
                    "table, so its steps could not be priced; `agentcost pricing list` shows "
                    "the names it knows")


def _budgets(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise UsageError(f"--budget-sweep {text!r}: write budgets like 0.1,0.5,1") from error
    if not values or any(value <= 0 for value in values):
        raise UsageError(f"--budget-sweep {text!r}: budgets must be above 0")
    return values


def _render(simulations, points, output_format: OutputFormat,  # type: ignore[no-untyped-def]
            color: bool | None, to_file: bool) -> str:
    from agentcost.render import simulation as views
    from agentcost.render.text import count, money
    from agentcost.render.views import Table

    blocks = [block for s in simulations for block in views.simulation_blocks(s)]
    if points:
        blocks.append(Table(
            "Budget sweep (each budget alone)",
            ("budget", "tasks cut", "runaways cut", "normal tasks cut", "saving"),
            [(money(p.budget_usd), count(p.tasks_cut),
              f"{p.runaways_cut} of {p.runaway_tasks}", count(p.normal_tasks_cut),
              money(p.saving_usd)) for p in points],
            (True, True, True, True, True),
            caption="runaway: a task costing more than 5 x the median task"))
    if output_format is OutputFormat.json:
        document = {"simulations": [views.simulation_document(s) for s in simulations],
                    "budget_sweep": [p.__dict__ for p in points]}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output_format is OutputFormat.csv:
        return views.simulations_csv(simulations)
    if output_format is OutputFormat.html:
        raise UsageError("--format html is for `agentcost report`; simulate writes table, json, "
                         "csv or markdown")
    if output_format is OutputFormat.markdown:
        from agentcost.render.markdown import render_blocks

        return render_blocks("agentcost simulate", blocks)
    import shutil

    from agentcost.render.terminal import render_blocks as terminal_blocks

    use_color = color if color is not None else (not to_file and sys.stdout.isatty())
    return terminal_blocks(blocks, width=shutil.get_terminal_size((120, 40)).columns,
                           color=use_color)
