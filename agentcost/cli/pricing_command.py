"""`agentcost pricing ...`: look into the price table, check traces against it, import LiteLLM's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentcost.cli.help import Command, Group, described, examples
from agentcost.cli.options import MaxLineSize, Prices, price_table
from agentcost.cli.width import Width, fitted_lines, width
from agentcost.errors import EXIT_STRICT, AgentCostError
from agentcost.ingest.limits import MAX_LINE_BYTES

if TYPE_CHECKING:
    from agentcost.pricing.table import ModelPrice, PriceSet, PriceTable, ServiceTier

app = typer.Typer(help="Inspect the price table, check traces against it, import LiteLLM's.",
                  no_args_is_help=True, cls=Group)

PricesOption = Prices


def _table(prices: list[Path] | None) -> PriceTable:
    from agentcost.pricing.table import load_price_table

    return load_price_table(price_table(prices))


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _prices_line(prices: PriceSet) -> str:
    return (f"input {_money(prices.input)}  output {_money(prices.output)}  "
            f"cache read {_money(prices.cache_read)}  cache write 5m "
            f"{_money(prices.cache_write_5m)}  1h {_money(prices.cache_write_1h)}"
            + ("" if prices.reasoning is None else f"  reasoning {_money(prices.reasoning)}"))


def _print(lines: list[str], columns: int | None) -> None:
    """Lines wrapped to the width, the rest of each indented under its start."""
    sys.stdout.write(fitted_lines(lines, width(columns)))


def list_prices(prices: PricesOption = None, columns: Width = None) -> None:
    """List every model and tool in the price table (USD per 1M tokens, per call)."""
    from agentcost.renderers.text import plural, safe_text

    table = _table(prices)
    extends = "".join(f" (extends {safe_text(base)})" for base in table.extends)
    lines = [f"{safe_text(table.file)}{extends}: {plural(len(table.models), 'model')}, "
             f"{plural(len(table.tools), 'tool')}"]
    for model in table.models.values():
        extras = []
        if model.aliases:
            extras.append(plural(len(model.aliases), "alias", "aliases"))
        if len(model.periods) > 1:
            extras.append(f"{len(model.periods) - 1} earlier prices")
        if model.periods[-1].long_context:
            extras.append("long-context tier")
        if model.service_tiers:
            extras.append("tiers: " + ", ".join(safe_text(tier) for tier in model.service_tiers))
        note = f"  ({'; '.join(extras)})" if extras else ""
        lines.append(f"  {safe_text(model.name)}: {_prices_line(model.current)}{note}")
    lines.extend(f"  tool {safe_text(tool.name)}: {_money(tool.per_call)} per call"
                 for tool in table.tools.values())
    _print(lines, columns)


def show(name: Annotated[str, typer.Argument(metavar="NAME", hidden=True)],
         prices: PricesOption = None, columns: Width = None) -> None:
    """Show everything the table says about one model: periods, tiers, aliases, source.

    NAME: a model name as traces write it.
    """
    from agentcost.pricing.resolve import near_name_finder, resolve_model

    table = _table(prices)
    resolution = resolve_model(name, table)
    if resolution.model is None:
        near = _near(name, near_name_finder(table))
        raise AgentCostError(f"{name!r}: {resolution.how}{near}")
    _print(_described(table.models[resolution.model]), columns)


def _described(model: ModelPrice) -> list[str]:
    from agentcost.renderers.text import safe_text

    lines = [f"{safe_text(model.name)} ({safe_text(model.provider or 'provider not given')})"]
    for period in model.periods:
        since = "always" if period.since is None else f"since {period.since}"
        lines.append(f"  {since}: {_prices_line(period.prices)}")
        if period.long_context:
            lc = period.long_context
            edge = "from" if lc.inclusive else "above"
            lines.append(f"    prompts {edge} {lc.threshold:,} tokens: "
                         f"{_prices_line(lc.prices)}")
    for tier, prices in model.service_tiers.items():
        lines.append(f"  {safe_text(tier)} tier: {_tier_line(prices)}")
        long_context = model.periods[-1].long_context
        if long_context is not None and not isinstance(prices, float):
            edge = "from" if long_context.inclusive else "above"
            listed = "not listed: unpriced" if prices.long_context is None else _prices_line(
                prices.long_context)
            lines.append(f"    prompts {edge} {long_context.threshold:,} tokens: {listed}")
    lines.extend(f"  {region}: x{uplift:g}" for region, uplift in model.regional.items())
    if model.aliases:
        lines.append("  aliases: " + ", ".join(safe_text(alias) for alias in model.aliases))
    lines.append(f"  source: {safe_text(model.source or '-')} (as of "
                 f"{safe_text(model.as_of or '-')})")
    return lines


def _tier_line(prices: ServiceTier) -> str:
    if isinstance(prices, float):
        return f"x{prices:g} the model's prices"
    return _prices_line(prices.prices)


def _near(name: str, near_names: Callable[[str], list[str]]) -> str:
    """`; did you mean ...?` with the table's near names, for a name it cannot price."""
    from agentcost.renderers.text import safe_text

    near = near_names(name)
    return f"; did you mean {' or '.join(safe_text(n) for n in near)}? (not applied)" \
        if near else ""


def which(name: Annotated[str, typer.Argument(metavar="NAME", hidden=True)],
          prices: PricesOption = None, columns: Width = None) -> None:
    """Say how a model name resolves to a price table entry, and why.

    NAME: a model name as a trace writes it.
    """
    from agentcost.pricing.resolve import near_name_finder, resolve_model
    from agentcost.renderers.text import safe_text

    table = _table(prices)
    resolution = resolve_model(name, table)
    lines = [f"{safe_text(name)} -> "
             f"{safe_text(resolution.model) if resolution.model else 'unpriced'}"]
    near = "" if resolution.model else _near(name, near_name_finder(table))
    lines.append(f"  how: {safe_text(resolution.how)}{near}")
    if resolution.model:
        model = table.models[resolution.model]
        lines.append(f"  current prices (USD per 1M): {_prices_line(model.current)}")
        if resolution.uplift != 1.0:
            lines.append(f"  times the regional uplift x{resolution.uplift:g}")
    _print(lines, columns)
    if not resolution.model:
        raise typer.Exit(EXIT_STRICT)


def check(inputs: Annotated[list[str], typer.Argument(metavar="TRACES", hidden=True)],
          prices: PricesOption = None, max_line_size: MaxLineSize = MAX_LINE_BYTES,
          columns: Width = None) -> None:
    """List the models and tools in these traces, and how the table prices each; exit 3
    if any is unpriced.

    TRACES: trace files, directories, globs.
    """
    import polars as pl

    from agentcost import api
    from agentcost.cli.reading import reading
    from agentcost.pricing.resolve import near_name_finder, resolve_model, resolve_tool
    from agentcost.renderers.text import plural, safe_text

    table = _table(prices)
    with reading("auto") as jobs:
        read = api.read_steps(inputs, columns=("model", "tool_name"), jobs=jobs,
                              max_line_bytes=max_line_size)
    if read.steps.is_empty():  # nothing checked is not "everything priced"
        from agentcost.cli.reading import print_skips

        print_skips(read.accounting)
        raise api.NoUsableInput(read.accounting)
    steps = read.steps
    models = steps.group_by(pl.col("model").cast(pl.String)).len().drop_nulls().sort("model")
    tools = steps.group_by(pl.col("tool_name").cast(pl.String)).len().drop_nulls().sort(
        "tool_name")
    aliases = table.alias_map()
    find_near = near_name_finder(table)
    unpriced = 0
    lines = []
    for name, count in models.iter_rows():
        resolution = resolve_model(name, table, aliases)
        status = resolution.model or "UNPRICED"
        unpriced += resolution.model is None
        near = "" if resolution.model else _near(name, find_near)
        lines.append(f"model {safe_text(name)} ({plural(count, 'step')}): {safe_text(status)} - "
                     f"{safe_text(resolution.how)}{near}")
    for name, count in tools.iter_rows():
        tool = resolve_tool(name, table)
        unpriced += tool is None
        where = "UNPRICED" if tool is None else f"{tool.per_call:g} per call ({tool.name})"
        lines.append(f"tool {safe_text(name)} ({plural(count, 'call')}): {safe_text(where)}")
    from agentcost.renderers.output import write_output

    # a closed reader is no pass
    write_output(fitted_lines(lines, width(columns)).encode("utf-8"), None)
    if unpriced:
        print(f"agentcost: {plural(unpriced, 'model or tool name')} unpriced", file=sys.stderr)
        raise typer.Exit(EXIT_STRICT)


def import_litellm(
    source: Annotated[Path, typer.Argument(metavar="SOURCE", hidden=True)],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="PATH",
                                         help="Price table to write.")],
    merge_into: Annotated[str | None, typer.Option(
        "--merge-into", metavar="TABLE",
        help="Add LiteLLM's models to this table (a path, or `default`: the shipped one), "
        "keeping its tools, compute prices and every model it already prices.")] = None,
) -> None:
    """Convert LiteLLM's price database into a price table, listing what it drops.

    SOURCE: LiteLLM's model_prices_and_context_window JSON file.
    """
    from agentcost.pricing.litellm_import import import_litellm as convert
    from agentcost.pricing.litellm_import import merge_into as merge
    from agentcost.pricing.litellm_import import to_yaml
    from agentcost.pricing.table import load_price_table
    from agentcost.renderers.output import write_output
    from agentcost.renderers.text import plural, safe_text  # file names are untrusted text

    imported = convert(source)
    merged = None if merge_into is None else merge(imported, merge_into)
    write_output(to_yaml(imported, source, merged), output)
    load_price_table(output)  # the result must load as a valid table
    if merged is None:
        print(f"wrote {len(imported.models):,} models to {safe_text(output)}", file=sys.stderr)
    else:
        print(f"wrote {output}: {safe_text(merged.into)} with {plural(len(merged.added), 'model')}"
              f" added from {safe_text(source.name)}; {plural(len(merged.kept), 'model')} it "
              "already prices kept as they are", file=sys.stderr)
    if imported.dropped_models:
        print("models of other modes, not imported: " + ", ".join(
            f"{safe_text(mode)} {n:,}" for mode, n in imported.dropped_models.most_common()),
            file=sys.stderr)
    if imported.dropped_fields:
        print("price fields our format cannot express, dropped: " + ", ".join(
            f"{safe_text(field)} ({n:,})" for field, n in imported.dropped_fields.most_common(12))
            + (" ..." if len(imported.dropped_fields) > 12 else ""), file=sys.stderr)
    for problem in imported.inconsistent:
        print(f"check: {safe_text(problem)}", file=sys.stderr)


EXAMPLES = {
    "list": ("agentcost pricing list --prices my-prices.yaml",),
    "show": ("agentcost pricing show claude-sonnet-4-5",),
    "which": ("agentcost pricing which us.anthropic.claude-sonnet-4-5-20250929-v1:0",),
    "check": ("agentcost pricing check traces/ --prices my-prices.yaml",),
    "import-litellm": ("agentcost pricing import-litellm litellm.json -o my.yaml --merge-into "
                       "default",),
}
for _name, _callback in (("list", list_prices), ("show", show), ("which", which),
                         ("check", check), ("import-litellm", import_litellm)):
    app.command(_name, cls=Command, help=described(_callback),
                epilog=examples(EXAMPLES[_name]))(_callback)
