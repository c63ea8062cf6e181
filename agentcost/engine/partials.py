"""The report as partial sums: each partition of priced steps (whole tasks, in input order
within it) gives a few small frames, and the frames of every partition together give the
report, the same byte for byte as one pass over all the steps.

Money is summed per partition as exact decimals and stays decimal until the partitions are
combined, then rounded once as analysis/report.py rounds; counts and token sums add; the first
file and line of a group is the one with the lowest input position (`_order`). Per-task rows
need no combining: a partition holds every step of its tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar, cast

import polars as pl

from agentcost.analysis.blocks import block_sums
from agentcost.analysis.charts import ChartSums, chart_sums
from agentcost.analysis.dashboard import (
    NO_TOOL,
    NONE,
    POSITIONS_SHOWN,
    Dashboard,
    breakdown_key,
    finish_breakdown,
    histogram,
    spend_rate,
    top_share,
)
from agentcost.analysis.reconcile import TOLERANCE
from agentcost.analysis.report import (
    PERCENTILES,
    WHOLE,
    AppliedWindow,
    Report,
    distribution_of,
    flag_tasks,
    known_costs,
    summary_of,
    task_rows,
    with_near_names,
)
from agentcost.engine.quantiles import nearest_ranks
from agentcost.ingest.accounting import LineAccounting
from agentcost.money import EXACT, MONEY_DECIMALS
from agentcost.pricing.cost import has_unpriced_part

if TYPE_CHECKING:
    from agentcost.analysis.charts import Charts

ORDER = "_order"  # a step's input position: its file's place, then its place in the file
MONEY = ("llm_cost_usd", "tool_cost_usd", "compute_cost_usd", "total_cost_usd")
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
          "output_tokens", "reasoning_tokens")
TOKENS_IN = (pl.col("input_tokens") + pl.col("cache_read_tokens")
             + pl.col("cache_write_5m_tokens") + pl.col("cache_write_1h_tokens"))
TOKENS_OUT = pl.col("output_tokens") + pl.col("reasoning_tokens")


def decimal_sum(expr: pl.Expr) -> pl.Expr:
    """A partial money sum: exact, not yet rounded."""
    return expr.cast(EXACT).sum()


def rounded(name: str) -> pl.Expr:
    """Decimal partials summed, then rounded as money.exact_sum rounds."""
    return pl.col(name).sum().cast(pl.Float64).round(MONEY_DECIMALS)


@dataclass(frozen=True)
class Partial:
    """One partition's share of the report."""

    summary: pl.DataFrame
    tasks: pl.DataFrame
    models: pl.DataFrame
    tools: pl.DataFrame
    unpriced_models: pl.DataFrame
    unpriced_tools: pl.DataFrame
    compared: pl.DataFrame
    differing: pl.DataFrame
    positions: pl.DataFrame
    breakdown: pl.DataFrame | None
    last_hour: pl.DataFrame  # steps that may fall in the input's last hour
    # The charts' sums and the block breakdown's (by hour, task and whether a request): both
    # drawn against figures of the whole input (the costliest models, the blocks' starts).
    charts: ChartSums | None
    blocks: pl.DataFrame | None


def partial(priced: pl.DataFrame, *, by: str | None, charts: bool) -> Partial:
    """The partial sums of one partition's priced steps (with ORDER)."""
    frame = priced.lazy()
    unpriced = pl.col("unpriced_reason").is_not_null()
    summary = frame.select(
        pl.len().alias("steps"),
        (pl.col("kind") == "llm").sum().alias("llm_steps"),
        pl.col("tool_name").is_not_null().sum().alias("tool_calls"),
        *(pl.col(c).sum() for c in TOKENS),
        *(decimal_sum(pl.col(c)) for c in MONEY),
        pl.col("reported_cost_usd").is_not_null().any().alias("reported_any"),
        decimal_sum(pl.col("reported_cost_usd")).alias("reported"),
        decimal_sum(pl.col("reported_tool_cost_usd")).alias("reported_tool"),
        pl.col("start_time").min().alias("window_start"),
        (pl.col("start_time") + pl.duration(seconds=pl.col("duration_s").fill_null(0)))
        .max().alias("window_end"),
        unpriced.sum().alias("unpriced_steps"),
        pl.col("tool_unpriced").sum().alias("unpriced_tool_calls"),
        pl.col("tokens_estimated").sum().alias("estimated_steps"),
    )
    models = (frame.filter(pl.col("model").is_not_null() & ~unpriced).group_by("model").agg(
        pl.len().alias("steps"), pl.col("input_tokens").sum(), pl.col("cache_read_tokens").sum(),
        (pl.col("cache_write_5m_tokens") + pl.col("cache_write_1h_tokens")).sum()
        .alias("cache_write_tokens"),
        TOKENS_OUT.sum().alias("output_tokens"), decimal_sum(pl.col("llm_cost_usd"))))
    tools = (frame.filter(pl.col("tool_name").is_not_null() & ~pl.col("tool_unpriced"))
             .group_by("tool_name")
             .agg(pl.len().alias("calls"), decimal_sum(pl.col("tool_cost_usd"))))
    first_place = (pl.col("source_file").sort_by(ORDER).first(), pl.col(ORDER).min(),
                   pl.col("source_line").min().alias("first_line"))
    unpriced_models = (frame.filter(unpriced)
                       .group_by(pl.col("model").fill_null("(none)"), "unpriced_reason")
                       .agg(pl.len().alias("steps"), TOKENS_IN.sum().alias("tokens_in"),
                            TOKENS_OUT.sum().alias("tokens_out"), *first_place))
    unpriced_tools = (frame.filter(pl.col("tool_unpriced")).group_by("tool_name")
                      .agg(pl.len().alias("calls"), *first_place))
    computed, reported = pl.col("computed_cost_usd"), pl.col("reported_cost_usd")
    both = frame.filter(computed.is_not_null() & reported.is_not_null())
    difference = reported - computed
    compared = both.select(pl.len().alias("compared_steps"))
    differing = (both.filter(difference.abs() > TOLERANCE * computed.abs())
                 .group_by(pl.col("model").cast(pl.String).fill_null("(none)"))
                 .agg(pl.len().alias("steps"), decimal_sum(computed).alias("computed_cost_usd"),
                      decimal_sum(reported).alias("reported_cost_usd"),
                      decimal_sum(difference).alias("difference_usd")))
    cost = pl.when(~has_unpriced_part()).then(pl.col("total_cost_usd"))
    prompt = pl.col("input_tokens") + pl.col("cache_read_tokens")
    positions = (frame.group_by(pl.col("step").clip(upper_bound=POSITIONS_SHOWN + 1)
                                .alias("position"))
                 .agg(pl.len().alias("steps"), cost.count().alias("priced_steps"),
                      decimal_sum(cost).alias("cost"), prompt.sum().alias("prompt"),
                      prompt.count().alias("prompts")))
    queries = [summary, task_rows(frame), models, tools, unpriced_models, unpriced_tools,
               compared, differing, positions]
    if by is not None and by != "block":
        queries.append(
            frame.group_by(breakdown_key(by).fill_null(NO_TOOL if by == "tool" else NONE)
                           .alias(by))
            .agg(pl.len().alias("steps"), pl.col("task_id").n_unique().alias("tasks"),
                 decimal_sum(pl.col("total_cost_usd")).alias("cost_usd"),
                 has_unpriced_part().sum().alias("unpriced_steps")))
    done = pl.collect_all(queries)
    end = done[0]["window_end"][0]
    last_hour = priced.select("start_time", "total_cost_usd", "task_id", "unpriced_reason",
                              "tool_unpriced")
    # The whole input's last hour starts no earlier than this partition's.
    last_hour = (last_hour.clear() if end is None else
                 last_hour.filter(pl.col("start_time") >= end - timedelta(hours=1)))
    (summary_rows, tasks, model_rows, tool_rows, unpriced_model_rows, unpriced_tool_rows,
     compared_rows, differing_rows, position_rows) = done[:9]
    return Partial(summary_rows, tasks, model_rows, tool_rows, unpriced_model_rows,
                   unpriced_tool_rows, compared_rows, differing_rows, position_rows,
                   done[9] if len(done) > 9 else None, last_hour,
                   chart_sums(priced) if charts else None,
                   block_sums(priced) if by == "block" else None)


def combine(parts: Sequence[Partial]) -> Partial:
    """The partials of several partitions as one, each frame the partitions' rows together
    (summed up when the report is finished)."""
    return together(Partial, parts)


T = TypeVar("T")


def together(kind: type[T], parts: Sequence[T]) -> T:
    """Partials of a kind (a dataclass of frames) as one: each frame the partitions' rows
    one after another."""
    def joined(values: list[object]) -> object:
        present = [value for value in values if value is not None]
        if not present:
            return None
        if isinstance(present[0], pl.DataFrame):
            return pl.concat(cast("list[pl.DataFrame]", present), how="vertical")
        return together(type(present[0]), present)

    return kind(**{field.name: joined([getattr(part, field.name) for part in parts])
                   for field in fields(kind)})  # type: ignore[arg-type]


def finish(combined: Partial, accounting: LineAccounting, *, price_table: str, cost_mode: str,
           near_names: Callable[[str], list[str]], by: str | None, charts: bool,
           window: AppliedWindow | None, task_costs: Callable[[], list[pl.Series]]) -> Report:
    """The report from the partitions' partials. `task_costs` gives each partition's whole
    tasks' costs, for the percentiles' two passes."""
    summary_row = combined.summary.select(
        *(pl.col(c).sum() for c in ("steps", "llm_steps", "tool_calls", *TOKENS)),
        *(rounded(c) for c in MONEY),
        pl.when(pl.col("reported_any").any())
        .then(rounded("reported") + rounded("reported_tool")).alias("reported_cost_usd"),
        pl.col("window_start").min(), pl.col("window_end").max(),
        *(pl.col(c).sum() for c in ("unpriced_steps", "unpriced_tool_calls",
                                    "estimated_steps")),
    ).row(0, named=True)
    tasks = known_costs(combined.tasks)
    summary = summary_of({**summary_row, "tasks": tasks.height})
    whole = tasks.filter(pl.col("priced") == WHOLE)["total_cost_usd"]
    costs = whole.sort().to_list()
    percentiles = nearest_ranks(task_costs, PERCENTILES)
    distribution = distribution_of(costs, tasks.height - whole.len(),
                                   {int(p): v for p, v in percentiles.items()} or None)
    first_place = (pl.col("source_file").sort_by(ORDER).first(), pl.col("first_line").min())
    by_model = (combined.models.group_by("model")
                .agg(*(pl.col(c).sum() for c in ("steps", "input_tokens", "cache_read_tokens",
                                                 "cache_write_tokens", "output_tokens")),
                     rounded("llm_cost_usd"))
                .sort("llm_cost_usd", "model", descending=[True, False]))
    by_tool = (combined.tools.group_by("tool_name")
               .agg(pl.col("calls").sum(), rounded("tool_cost_usd"))
               .sort("tool_cost_usd", "tool_name", descending=[True, False]))
    unpriced_models = (combined.unpriced_models.group_by("model", "unpriced_reason")
                       .agg(pl.col("steps").sum(), pl.col("tokens_in").sum(),
                            pl.col("tokens_out").sum(), *first_place)
                       .sort("steps", "model", "unpriced_reason",
                             descending=[True, False, False]))
    unpriced_tools = (combined.unpriced_tools.group_by("tool_name")
                      .agg(pl.col("calls").sum(), *first_place)
                      .sort("calls", "tool_name", descending=[True, False]))
    differing = (combined.differing.group_by("model")
                 .agg(pl.col("steps").sum(), rounded("computed_cost_usd"),
                      rounded("reported_cost_usd"), rounded("difference_usd"))
                 .sort("difference_usd", "model", descending=[True, False]))
    report = Report(summary, distribution, flag_tasks(tasks, distribution), by_model, by_tool,
                    with_near_names(unpriced_models, near_names), unpriced_tools, accounting,
                    price_table, cost_mode,
                    compared_steps=int(combined.compared["compared_steps"].sum()),
                    reconciliation=differing, window=window)
    return replace(report, dashboard=_dashboard(combined, summary.window_start,
                                                summary.window_end, summary.total_cost_usd,
                                                costs, by),
                   charts=_charts(combined, summary.window_start, summary.window_end)
                   if charts else None)


def _dashboard(combined: Partial, start: datetime | None, end: datetime | None, total: float,
               costs: list[float], by: str | None) -> Dashboard:
    positions = (combined.positions.group_by("position")
                 .agg(pl.col("steps").sum(), pl.col("priced_steps").sum(),
                      pl.col("cost").sum().cast(pl.Float64).round(MONEY_DECIMALS),
                      pl.col("prompt").sum(), pl.col("prompts").sum())
                 .select("position", "steps", "priced_steps",
                         pl.when(pl.col("priced_steps") > 0)
                         .then((pl.col("cost") / pl.col("priced_steps")).round(MONEY_DECIMALS))
                         .alias("mean_cost_usd"),
                         pl.when(pl.col("prompts") > 0)
                         .then(pl.col("prompt").cast(pl.Float64) / pl.col("prompts"))
                         .alias("mean_prompt_tokens"))
                 .sort("position"))
    table = None
    if by == "block":
        from agentcost.analysis.blocks import block_breakdown

        assert combined.blocks is not None
        table = block_breakdown(combined.blocks)
    elif by is not None:
        assert combined.breakdown is not None
        table = finish_breakdown(
            combined.breakdown.group_by(by).agg(
                pl.col("steps").sum(), pl.col("tasks").sum(), rounded("cost_usd"),
                pl.col("unpriced_steps").sum()), by)
    return Dashboard(spend_rate(combined.last_hour, start, end, total), histogram(costs),
                     top_share(costs, 1), top_share(costs, 10), positions, table, by)


def _charts(combined: Partial, start: datetime | None, end: datetime | None) -> Charts:
    from agentcost.analysis.charts import charts_of

    assert combined.charts is not None
    return charts_of(combined.charts, start=start, end=end)
