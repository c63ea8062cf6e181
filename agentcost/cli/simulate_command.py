"""`agentcost simulate`: replay recorded traces under routing, tool caching, history compression
and budgets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentcost.cli.agents import inputs_and_agents
from agentcost.cli.help import STRATEGIES
from agentcost.cli.options import (
    AUTO,
    Color,
    CostMode,
    CostModeOption,
    EngineName,
    EngineOption,
    Format,
    FromAgents,
    InputFormatOption,
    Inputs,
    Jobs,
    MaxLineSize,
    Output,
    OutputFormat,
    Partitions,
    Prices,
    RayAddress,
    Since,
    StoreOption,
    TaskKey,
    Until,
    at_least_one,
    chosen_engine,
    price_table,
    within,
)
from agentcost.cli.reading import (
    print_skips,
    read_progress,
    reading,
    refuse_output_over_inputs,
    use_color,
)
from agentcost.cli.width import Width, width
from agentcost.errors import UsageError
from agentcost.ingest.limits import MAX_LINE_BYTES
from agentcost.limits import MAX_ROWS, MAX_USD
from agentcost.simulation.scenario import (
    DEFAULT_KEEP_LAST,
    DEFAULT_SUMMARY_MODEL,
    DEFAULT_SUMMARY_TOKENS,
)

if TYPE_CHECKING:
    from agentcost.api import Comparison


def simulate(
    inputs: Inputs = None,
    route: Annotated[list[str] | None, typer.Option(
        metavar="LABEL=MODEL", rich_help_panel=STRATEGIES,
        help="Reprice the steps LABEL names (a glob on the step name), or model:MODEL=MODEL "
        "for a model's steps, at another model's prices; repeatable.")] = None,
    step_inflation: Annotated[list[str] | None, typer.Option(
        metavar="LABEL=FACTOR", rich_help_panel=STRATEGIES,
        help="Routed steps LABEL matches (a glob, or model:GLOB) take FACTOR x the steps and "
        "tokens; repeatable, the first that matches wins. Needs --route.")] = None,
    cache: Annotated[list[str] | None, typer.Option(
        metavar="TOOL[:TTL]", rich_help_panel=STRATEGIES,
        help="Cache a tool's answers for TTL (like 30m, 1h, 1d; default 1h; * for every tool); "
        "repeatable.")] = None,
    compress_after: Annotated[int | None, typer.Option(
        metavar="N", callback=at_least_one, rich_help_panel=STRATEGIES,
        help="Compress the history of each task's LLM steps after this many.")] = None,
    keep_last: Annotated[int | None, typer.Option(
        metavar="N", callback=within(0, MAX_ROWS), rich_help_panel=STRATEGIES,
        help=f"Steps kept whole when compressing (default {DEFAULT_KEEP_LAST}). Needs "
        "--compress-after.")] = None,
    summary_model: Annotated[str | None, typer.Option(
        metavar="MODEL", rich_help_panel=STRATEGIES,
        help=f"Model that writes the summaries (default {DEFAULT_SUMMARY_MODEL}). Needs "
        "--compress-after.")] = None,
    summary_tokens: Annotated[int | None, typer.Option(
        metavar="N", callback=at_least_one, rich_help_panel=STRATEGIES,
        help=f"Tokens of each summary (default {DEFAULT_SUMMARY_TOKENS}). Needs "
        "--compress-after.")] = None,
    budget: Annotated[float | None, typer.Option(
        metavar="USD", callback=within(0, MAX_USD), rich_help_panel=STRATEGIES,
        help="Per-task budget: a task stops at the step that reaches it.")] = None,
    max_steps: Annotated[int | None, typer.Option(
        metavar="N", callback=at_least_one, rich_help_panel=STRATEGIES,
        help="Per-task limit on the agent's own steps (history summaries the replay adds do not "
        "count).")] = None,
    scenario_file: Annotated[Path | None, typer.Option(
        "--scenario", metavar="PATH", rich_help_panel=STRATEGIES,
        help="YAML file of named scenarios, compared side by side.")] = None,
    budget_sweep: Annotated[str | None, typer.Option(
        metavar="USD,USD,...", rich_help_panel=STRATEGIES,
        help="Budgets to compare: the tasks each would cut, runaways and normal ones.")
    ] = None,
    from_agents: FromAgents = None,
    input_format: InputFormatOption = AUTO,
    task_key: TaskKey = "trace",
    store: StoreOption = None,
    jobs: Jobs = "auto",
    engine: EngineOption = EngineName.auto,
    ray_address: RayAddress = None,
    partitions: Partitions = None,
    max_line_size: MaxLineSize = MAX_LINE_BYTES,
    prices: Prices = None,
    cost_mode: CostModeOption = CostMode.computed,
    output_format: Format = OutputFormat.table,
    output: Output = None,
    color: Color = None,
    columns: Width = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Replay the traces under what-if strategies and show what each would have saved."""
    from agentcost import api
    from agentcost.renderers.dispatch import render_bytes
    from agentcost.renderers.output import write_output
    from agentcost.simulation.scenario import InertSetting, Scenario, settings_scenario
    from agentcost.simulation.scenario_file import load_scenarios

    scenarios = load_scenarios(scenario_file) if scenario_file else []
    try:
        flags: Scenario | None = settings_scenario(
            api.FLAGS_SCENARIO, routes=route or [], inflations=step_inflation or [],
            cache=cache or [], compress_after=compress_after, keep_last=keep_last,
            summary_model=summary_model, summary_tokens=summary_tokens, budget=budget,
            max_steps=max_steps, spell=lambda setting: f"--{setting}")
    except InertSetting as error:
        # No strategy flag at all is fine beside a scenario file or a budget sweep.
        if error.setting is not None:
            raise
        if not (scenarios or budget_sweep):
            raise UsageError(f"{error}; or --scenario FILE, or --budget-sweep") from error
        flags = None
    if flags is not None:
        scenarios.insert(0, flags)
    elif not scenarios:  # a budget sweep alone: shown beside the baseline
        scenarios.append(Scenario(name=api.FLAGS_SCENARIO))
    budgets = _budgets(budget_sweep) if budget_sweep else []
    paths = inputs_and_agents(inputs, from_agents, "simulate", store=store)
    refuse_output_over_inputs(output, paths)
    with reading(jobs, task_key) as parsed_jobs, read_progress() as progress:
        comparison = api.compare(paths, scenarios, budgets=budgets, prices=price_table(prices),
                                 since=since, until=until, cost_mode=cost_mode.value,
                                 input_format=input_format, task_key=task_key, jobs=parsed_jobs,
                                 progress=progress, max_line_bytes=max_line_size, store=store,
                                 engine=chosen_engine(engine, ray_address, partitions))
    write_output(render_bytes(comparison, output_format.value, width=width(columns),
                              color=use_color(color, to_file=output is not None)), output)
    _tell(comparison)


def _tell(comparison: Comparison) -> None:
    """On stderr: lines skipped, steps the window left out for want of a time, steps without a
    price, and settings that acted on nothing."""
    from agentcost.renderers.simulation import unpriced_line
    from agentcost.renderers.text import plural, safe_text

    if comparison.accounting is not None and comparison.accounting.lines_skipped:
        print_skips(comparison.accounting)
    if comparison.untimed_steps:
        print(f"agentcost: {plural(comparison.untimed_steps, 'step')} without a start time "
              "left out by the time window", file=sys.stderr)
    several = len(comparison.simulations) > 1
    for simulation in comparison.simulations:
        name = f"scenario {safe_text(simulation.scenario.name)!r}: " if several else ""
        unpriced = unpriced_line(simulation)
        if unpriced is not None:
            print(f"agentcost: {name}{safe_text(unpriced[0].lower() + unpriced[1:])}",
                  file=sys.stderr)
        for warning in simulation.warnings:
            print(f"agentcost: warning: {name}{safe_text(warning)}", file=sys.stderr)


def _budgets(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise UsageError(f"--budget-sweep {text!r}: write budgets like 0.1,0.5,1") from error
    if not values or not all(0 < value <= MAX_USD for value in values):  # nan and inf too
        raise UsageError(f"--budget-sweep {text!r}: budgets must be above 0 and at most "
                         f"{MAX_USD:,.0f}")
    return values


EXAMPLES = (
    "agentcost simulate traces.jsonl --route summarize=gpt-4o-mini",
    "agentcost simulate traces.jsonl --cache web_search:1h --budget 0.50",
    "agentcost simulate traces.jsonl --compress-after 5 --keep-last 3",
    "agentcost simulate traces.jsonl --scenario scenarios.yaml",
    "agentcost simulate traces.jsonl --budget-sweep 0.1,0.5,1",
)
