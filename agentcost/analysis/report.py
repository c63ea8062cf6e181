"""Build the report's views from priced steps: summary, per task, per model, per tool, percentiles.

All money is summed unrounded; rounding happens only when rendering.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from agentcost.analysis.exact import MONEY, exact_name, exact_total, rounded, with_exact_money
from agentcost.analysis.reconcile import reconciliation
from agentcost.ingest.accounting import LineAccounting
from agentcost.money import exact_sum
from agentcost.pricing.cost import NOT_IN_TABLE, has_unpriced_part
from agentcost.stats import nearest_rank

if TYPE_CHECKING:
    from agentcost.analysis.charts import Charts
    from agentcost.analysis.dashboard import Dashboard
    from agentcost.analysis.drift import Change
    from agentcost.analysis.opportunities import Opportunity

PERCENTILES = (50, 90, 99)
FLAG_MULTIPLE_OF_MEDIAN = 2.0
TASK_SORT_COLUMNS = ("task_id", "steps", "tokens_in", "tokens_out", "llm_cost_usd",
                     "tool_cost_usd", "compute_cost_usd", "total_cost_usd")


@dataclass(frozen=True)
class Summary:
    tasks: int
    steps: int
    llm_steps: int
    tool_calls: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    reasoning_tokens: int
    llm_cost_usd: float
    tool_cost_usd: float
    compute_cost_usd: float
    total_cost_usd: float
    reported_cost_usd: float | None
    window_start: datetime | None
    window_end: datetime | None
    unpriced_steps: int
    unpriced_tool_calls: int
    estimated_steps: int  # token counts estimated from message content, not read


@dataclass(frozen=True)
class Distribution:
    """Cost per task, over the tasks priced whole: a task with an unpriced step has an unknown
    cost, and counting its priced part would pull every figure down. Percentiles are
    nearest-rank: P90 is the cost of the task at rank ceil(0.9 * n) in ascending order, so
    every figure is some real task's cost."""

    tasks: int
    percentiles: dict[int, float]
    max: float
    mean: float
    flag_threshold: float  # tasks above this (2 x P50) are flagged
    costs: list[float]  # each whole task's cost, ascending (the histogram's and the shares')
    left_out: int = 0  # tasks with unpriced steps, not in these figures


# A task's `priced` column: every step priced, some (its cost is a lower bound), or none known.
WHOLE, PARTIAL, UNPRICED = "whole", "partial", "unpriced"


@dataclass(frozen=True)
class AppliedWindow:
    """The --since/--until window a report kept, and the steps it left out."""

    since: datetime | None
    until: datetime | None
    steps_outside: int  # started before `since` or at or after `until`
    steps_untimed: int  # no start time, so not known to be inside


@dataclass(frozen=True)
class Report:
    summary: Summary
    distribution: Distribution | None
    tasks: pl.DataFrame  # in no set order: sort_tasks orders it for showing (once)
    by_model: pl.DataFrame
    by_tool: pl.DataFrame
    unpriced_models: pl.DataFrame
    unpriced_tools: pl.DataFrame
    accounting: LineAccounting
    price_table: str
    cost_mode: str = "computed"
    compared_steps: int = 0  # steps carrying both the producer's cost and ours
    reconciliation: pl.DataFrame | None = None  # the ones differing by more than 1%, by model
    drift: list[Change] | None = None  # against an earlier report, when one is given
    dashboard: Dashboard | None = None
    opportunities: list[Opportunity] | None = None
    window: AppliedWindow | None = None  # when --since or --until was given
    charts: Charts | None = None  # the HTML report's series, when asked for
    engine: str = "memory"  # the executor that computed it (agentcost/engine/)

    @property
    def tasks_not_whole(self) -> int:
        """Tasks with an unpriced step: left out of the distribution and of what it decides."""
        return self.tasks.filter(pl.col("priced") != WHOLE).height


def build_report(
    priced: pl.DataFrame, accounting: LineAccounting, *, price_table: str,
    cost_mode: str = "computed", near_names: Callable[[str], list[str]] | None = None,
) -> Report:
    """`near_names`: the price table's names a model it does not know may have meant, shown
    beside that model in the unpriced section (pricing/resolve.py). `priced` may carry its
    money as exact decimals already (analysis/exact.py)."""
    frame = with_exact_money(priced).lazy()
    tokens_in = (pl.col("input_tokens") + pl.col("cache_read_tokens")
                 + pl.col("cache_write_5m_tokens") + pl.col("cache_write_1h_tokens"))
    tokens_out = pl.col("output_tokens") + pl.col("reasoning_tokens")
    # The summary's money is summed from the tasks' exact sums, below: the same decimals.
    summary_q = frame.select(
        pl.len().alias("steps"),
        (pl.col("kind") == "llm").sum().alias("llm_steps"),
        pl.col("tool_name").is_not_null().sum().alias("tool_calls"),
        *(pl.col(c).sum() for c in ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                                    "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")),
        # Most logs report no cost: only the values there are are cast.
        pl.when(pl.col("reported_cost_usd").is_not_null().any())
        .then(exact_sum(pl.col("reported_cost_usd").drop_nulls())
              + exact_sum(pl.col("reported_tool_cost_usd").drop_nulls()))
        .alias("reported_cost_usd"),
        pl.col("start_time").min().alias("window_start"),
        (pl.col("start_time") + pl.duration(seconds=pl.col("duration_s").fill_null(0)))
        .max().alias("window_end"),
        pl.col("unpriced_reason").is_not_null().sum().alias("unpriced_steps"),
        pl.col("tool_unpriced").sum().alias("unpriced_tool_calls"),
        pl.col("tokens_estimated").sum().alias("estimated_steps"),
    )
    tasks_q = _task_groups(frame, lambda name: pl.col(exact_name(name)).sum().alias(name))
    models_q = (
        frame.filter(pl.col("model").is_not_null() & pl.col("unpriced_reason").is_null())
        .group_by("model")
        .agg(
            pl.len().alias("steps"),
            pl.col("input_tokens").sum(),
            pl.col("cache_read_tokens").sum(),
            (pl.col("cache_write_5m_tokens") + pl.col("cache_write_1h_tokens")).sum()
            .alias("cache_write_tokens"),
            tokens_out.sum().alias("output_tokens"),
            exact_total("llm_cost_usd"),
        )
        .sort("llm_cost_usd", "model", descending=[True, False])
    )
    tools_q = (
        frame.filter(pl.col("tool_name").is_not_null() & ~pl.col("tool_unpriced"))
        .group_by("tool_name")
        .agg(pl.len().alias("calls"), exact_total("tool_cost_usd"))
        .sort("tool_cost_usd", "tool_name", descending=[True, False])
    )
    unpriced_models_q = (
        frame.filter(pl.col("unpriced_reason").is_not_null())
        .group_by(pl.col("model").fill_null("(none)"), "unpriced_reason")
        .agg(
            pl.len().alias("steps"),
            tokens_in.sum().alias("tokens_in"),
            tokens_out.sum().alias("tokens_out"),
            pl.col("source_file").first(),
            pl.col("source_line").min().alias("first_line"),
        )
        # The reason last: a model unpriced for two reasons in as many steps is listed in
        # one order, whatever order the groups come in.
        .sort("steps", "model", "unpriced_reason", descending=[True, False, False])
    )
    unpriced_tools_q = (
        frame.filter(pl.col("tool_unpriced"))
        .group_by("tool_name")
        .agg(pl.len().alias("calls"), pl.col("source_file").first(),
             pl.col("source_line").min().alias("first_line"))
        .sort("calls", "tool_name", descending=[True, False])
    )
    compared_q, reconciliation_q = reconciliation(frame)
    (summary_df, exact_tasks, by_model, by_tool, unpriced_models, unpriced_tools, compared,
     differing) = pl.collect_all([summary_q, tasks_q, models_q, tools_q, unpriced_models_q,
                                  unpriced_tools_q, compared_q, reconciliation_q])
    unpriced_models = with_near_names(unpriced_models, near_names)
    # The whole's exact sum is the sum of the tasks' exact sums. Counted by the group-by that
    # makes the task table: n_unique would hash every id again.
    money = exact_tasks.select(rounded(pl.col(name).sum()) for name in MONEY)
    summary = summary_of({**summary_df.row(0, named=True), **money.row(0, named=True),
                          "tasks": exact_tasks.height})
    tasks = known_costs(exact_tasks.with_columns(rounded(pl.col(name)) for name in MONEY))
    whole = tasks.filter(pl.col("priced") == WHOLE)["total_cost_usd"]
    distribution = distribution_of(whole.sort(multithreaded=False).to_list(),
                                   tasks.height - whole.len())
    tasks = flag_tasks(tasks, distribution)
    return Report(summary, distribution, tasks, by_model, by_tool, unpriced_models,
                  unpriced_tools, accounting, price_table, cost_mode,
                  compared_steps=compared.item(), reconciliation=differing)


def task_rows(priced: pl.LazyFrame) -> pl.LazyFrame:
    """One row per task: its steps, tokens and costs (summed exactly), unpriced parts and
    start. A task's rows depend on its own steps only: any split of the steps that keeps
    each task whole gives the same rows."""
    return _task_groups(priced, lambda name: exact_sum(pl.col(name)))


def _task_groups(priced: pl.LazyFrame, money: Callable[[str], pl.Expr]) -> pl.LazyFrame:
    """task_rows, each MONEY column summed by `money`."""
    tokens_in = (pl.col("input_tokens") + pl.col("cache_read_tokens")
                 + pl.col("cache_write_5m_tokens") + pl.col("cache_write_1h_tokens"))
    tokens_out = pl.col("output_tokens") + pl.col("reasoning_tokens")
    return (
        priced.group_by("task_id")
        .agg(
            pl.len().alias("steps"),
            tokens_in.sum().alias("tokens_in"),
            tokens_out.sum().alias("tokens_out"),
            *(money(name) for name in MONEY),
            has_unpriced_part().sum().alias("unpriced_steps"),
            pl.col("unpriced_reason").is_not_null().sum().alias("unpriced_llm_steps"),
            pl.col("tool_unpriced").sum().alias("unpriced_tool_calls"),
            pl.col("start_time").min().alias("start_time"),
        )
    )


def flag_tasks(tasks: pl.DataFrame, distribution: Distribution | None) -> pl.DataFrame:
    """Tasks above the flag threshold (2 x P50) flagged. A partial task's priced part is a
    lower bound of its cost: above the line, it is above."""
    threshold = distribution.flag_threshold if distribution else math.inf
    return tasks.with_columns(
        (pl.col("total_cost_usd") > threshold).fill_null(False).alias("flagged"))


def known_costs(tasks: pl.DataFrame) -> pl.DataFrame:
    """Each task's `priced` status, and null for a cost of which nothing is known (an
    unpriced part with no priced part beside it): unknown, not $0."""
    def known(cost: str, unpriced: str) -> pl.Expr:
        return (pl.when((pl.col(unpriced) > 0) & (pl.col(cost) == 0)).then(None)
                .otherwise(pl.col(cost)).alias(cost))

    status = (pl.when(pl.col("unpriced_steps") == 0).then(pl.lit(WHOLE))
              .when(pl.col("total_cost_usd") > 0).then(pl.lit(PARTIAL))
              .otherwise(pl.lit(UNPRICED)))
    return tasks.with_columns(
        known("llm_cost_usd", "unpriced_llm_steps"),
        known("tool_cost_usd", "unpriced_tool_calls"),
        known("total_cost_usd", "unpriced_steps"),
        status.alias("priced"))

def with_near_names(unpriced: pl.DataFrame, near_names: Callable[[str], list[str]] | None
                     ) -> pl.DataFrame:
    """A `did_you_mean` list for each model not in the price table (a suggestion to read,
    never a price), empty for the others."""
    suggest = near_names or (lambda name: [])
    unknown = unpriced.filter(pl.col("unpriced_reason") == NOT_IN_TABLE)["model"]
    names = sorted(set(unknown.cast(pl.String).to_list()))
    near = pl.DataFrame({"model": names, "did_you_mean": [suggest(name) for name in names]},
                        schema={"model": pl.String(), "did_you_mean": pl.List(pl.String())})
    return (
        unpriced.with_columns(pl.col("model").cast(pl.String))
        .join(near, on="model", how="left", maintain_order="left")
        .with_columns(pl.when(pl.col("unpriced_reason") == NOT_IN_TABLE)
                      .then(pl.col("did_you_mean")).fill_null(pl.lit([], pl.List(pl.String())))
                      .alias("did_you_mean"))
    )


def summary_of(row: dict[str, object]) -> Summary:
    values = {key: (0 if value is None and key.endswith("_tokens") else value)
              for key, value in row.items()}
    for key in ("llm_cost_usd", "tool_cost_usd", "compute_cost_usd", "total_cost_usd"):
        values[key] = values[key] or 0.0
    return Summary(**values)  # type: ignore[arg-type]


def distribution_of(costs: list[float], left_out: int,
                    percentiles: dict[int, float] | None = None) -> Distribution | None:
    """`costs` ascending; `percentiles`, when given, found by the executor over its
    partitions (nearest rank, the same values)."""
    if not costs:
        return None
    if percentiles is None:
        percentiles = {p: nearest_rank(costs, p) for p in PERCENTILES}
    return Distribution(
        tasks=len(costs),
        percentiles=percentiles,
        max=costs[-1],
        mean=sum(costs) / len(costs),
        flag_threshold=FLAG_MULTIPLE_OF_MEDIAN * percentiles[50],
        costs=costs,
        left_out=left_out,
    )


def sort_tasks(tasks: pl.DataFrame, column: str, *, top: int | None) -> pl.DataFrame:
    descending = column != "task_id"
    # One row per task: on one thread it takes a third of the CPU that splitting it takes.
    ordered = tasks.sort(column, "task_id", descending=[descending, False], nulls_last=True,
                         multithreaded=False)
    return ordered.head(top) if top is not None else ordered
