"""`agentcost pricing ...`: look into the price table, check traces against it, import LiteLLM's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentcost.cli.options import MaxLineSize, Prices, price_table
from agentcost.errors import EXIT_STRICT, AgentCostError
from agentcost.ingest.limits import MAX_LINE_BYTES

if TYPE_CHECKING:
    from agentcost.pricing.table import ModelPrice, PriceSet, PriceTable, ServiceTier

app = typer.Typer(help="Inspect the price table, check traces against it, import LiteLLM's.",
                  no_args_is_help=True)

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


def list_prices(prices: PricesOption = None) -> None:
    """List every model and tool in the price table (USD per 1M tokens, per call).

    Example: agentcost pricing list --prices my-prices.yaml
    """
    from agentcost.renderers.text import plural, safe_text

    table = _table(prices)
    extends = "".join(f" (extends {safe_text(base)})" for base in table.extends)
    print(f"{safe_text(table.file)}{extends}: {plural(len(table.models), 'model')}, "
          f"{plural(len(table.tools), 'tool')}")
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
        print(f"  {safe_text(model.name)}: {_prices_line(model.current)}{note}")
    for tool in table.tools.values():
        print(f"  tool {safe_text(tool.name)}: {_money(tool.per_call)} per call")


def show(name: Annotated[str, typer.Argument(help="Model name (as traces write it).")],
         prices: PricesOption = None) -> None:
    """Show everything the table says about one model: periods, tiers, aliases, source.

    Example: agentcost pricing show claude-sonnet-4-5
    """
    from agentcost.pricing.resolve import near_name_finder, resolve_model

    table = _table(prices)
    resolution = resolve_model(name, table)
    if resolution.model is None:
        near = _near(name, near_name_finder(table))
        raise AgentCostError(f"{name!r}: {resolution.how}{near}")
    _describe(table.models[resolution.model])


def _describe(model: ModelPrice) -> None:
    from agentcost.renderers.text import safe_text

    print(f"{safe_text(model.name)} ({safe_text(model.provider or 'provider not given')})")
    for period in model.periods:
        since = "always" if period.since is None else f"since {period.since}"
        print(f"  {since}: {_prices_line(period.prices)}")
        if period.long_context:
            lc = period.long_context
            edge = "from" if lc.inclusive else "above"
            print(f"    prompts {edge} {lc.threshold:,} tokens: {_prices_line(lc.prices)}")
    for tier, prices in model.service_tiers.items():
        print(f"  {safe_text(tier)} tier: {_tier_line(prices)}")
        long_context = model.periods[-1].long_context
        if long_context is not None and not isinstance(prices, float):
            edge = "from" if long_context.inclusive else "above"
            listed = "not listed: unpriced" if prices.long_context is None else _prices_line(
                prices.long_context)
            print(f"    prompts {edge} {long_context.threshold:,} tokens: {listed}")
    for region, uplift in model.regional.items():
        print(f"  {region}: x{uplift:g}")
    if model.aliases:
        print("  aliases: " + ", ".join(safe_text(alias) for alias in model.aliases))
    print(f"  source: {safe_text(model.source or '-')} (as of {safe_text(model.as_of or '-')})")


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


def which(name: Annotated[str, typer.Argument(help="A model name as a trace writes it.")],
          prices: PricesOption = None) -> None:
    """Say how a model name resolves to a price table entry, and why.

    Example: agentcost pricing which us.anthropic.claude-sonnet-4-5-20250929-v1:0
    """
    from agentcost.pricing.resolve import near_name_finder, resolve_model
    from agentcost.renderers.text import safe_text

    table = _table(prices)
    resolution = resolve_model(name, table)
    print(f"{safe_text(name)} -> {safe_text(resolution.model) if resolution.model else 'unpriced'}")
    near = "" if resolution.model else _near(name, near_name_finder(table))
    print(f"  how: {safe_text(resolution.how)}{near}")
    if resolution.model:
        model = table.models[resolution.model]
        print(f"  current prices (USD per 1M): {_prices_line(model.current)}")
        if resolution.uplift != 1.0:
            print(f"  times the regional uplift x{resolution.uplift:g}")
    else:
        raise typer.Exit(EXIT_STRICT)


def check(inputs: Annotated[list[str], typer.Argument(help="Trace files, directories, globs.")],
          prices: PricesOption = None, max_line_size: MaxLineSize = MAX_LINE_BYTES) -> None:
    """List the models and tools in these traces that the table cannot price, with step counts;
    exit 3 if there are any.

    Example: agentcost pricing check traces/ --prices my-prices.yaml
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
                     f"{safe_text(resolution.how)}{near}\n")
    for name, count in tools.iter_rows():
        tool = resolve_tool(name, table)
        unpriced += tool is None
        where = "UNPRICED" if tool is None else f"{tool.per_call:g} per call ({tool.name})"
        lines.append(f"tool {safe_text(name)} ({plural(count, 'call')}): {safe_text(where)}\n")
    from agentcost.renderers.output import write_output

    write_output("".join(lines).encode("utf-8"), None)  # a closed reader is no pass
    if unpriced:
        print(f"agentcost: {plural(unpriced, 'model or tool name')} unpriced", file=sys.stderr)
        raise typer.Exit(EXIT_STRICT)


def import_litellm(
    source: Annotated[Path, typer.Argument(help="LiteLLM's model_prices_and_context_window "
                                                "JSON file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Price table to write.")],
    merge_into: Annotated[str | None, typer.Option(
        "--merge-into", metavar="TABLE",
        help="Add LiteLLM's models to this table (a path, or `default`: the shipped one), "
        "keeping its tools, compute prices and every model it already prices.")] = None,
) -> None:
    """Convert LiteLLM's price database into a price table, listing what it drops.

    Example: agentcost pricing import-litellm model_prices.json -o prices.yaml --merge-into default
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


app.command("list")(list_prices)
app.command("show")(show)
app.command("which")(which)
app.command("check")(check)
app.command("import-litellm")(import_litellm)
