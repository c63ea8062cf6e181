"""`agentcost simulate`: replay recorded traces under routing, tool caching, history compression
and budgets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentcost.cli.options import (
    Color,
    CostMode,
    CostModeOption,
    Format,
    InputFormatOption,
    Inputs,
    Jobs,
    MaxLineSize,
    Output,
    OutputFormat,
    Prices,
    TaskKey,
)
from agentcost.cli.reading import read_progress, reading, use_color, width
from agentcost.errors import UsageError
from agentcost.ingest.limits import MAX_LINE_BYTES
from agentcost.ingest.readers import AUTO
from agentcost.simulation.scenario import (
    DEFAULT_KEEP_LAST,
    DEFAULT_SUMMARY_MODEL,
    DEFAULT_SUMMARY_TOKENS,
)


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
    input_format: InputFormatOption = AUTO,
    task_key: TaskKey = "trace",
    color: Color = None,
    jobs: Jobs = "auto",
    max_line_size: MaxLineSize = MAX_LINE_BYTES,
) -> None:
    """Replay the traces under what-if strategies and show what each would have saved.

    Example: agentcost simulate traces.jsonl --route summarize=gpt-4o-mini --cache web_search:1h
    --compress-after 5 --keep-last 3 --budget 0.50
    """
    from agentcost import api
    from agentcost.renderers.dispatch import render_bytes
    from agentcost.renderers.output import write_output
    from agentcost.simulation.scenario import (
        Compression,
        Scenario,
        parse_cache,
        parse_inflation,
        parse_route,
    )
    from agentcost.simulation.scenario_file import load_scenarios

    if output_format is OutputFormat.html:
        raise UsageError("--format html is for `agentcost report`; simulate writes table, json, "
                         "csv or markdown")
    inflation = parse_inflation(step_inflation or [])
    flags = Scenario(
        name=api.FLAGS_SCENARIO,
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
    budgets = _budgets(budget_sweep) if budget_sweep else []
    with reading(jobs, task_key) as parsed_jobs, read_progress() as progress:
        comparison = api.compare(inputs, scenarios, budgets=budgets, prices=prices,
                                 cost_mode=cost_mode.value, input_format=input_format,
                                 task_key=task_key, jobs=parsed_jobs, progress=progress,
                                 max_line_bytes=max_line_size)
    write_output(render_bytes(comparison, output_format.value, width=width(),
                              color=use_color(color, to_file=output is not None)), output)


def _budgets(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise UsageError(f"--budget-sweep {text!r}: write budgets like 0.1,0.5,1") from error
    if not values or any(value <= 0 for value in values):
        raise UsageError(f"--budget-sweep {text!r}: budgets must be above 0")
    return values
