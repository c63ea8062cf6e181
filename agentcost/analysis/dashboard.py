"""The dashboard panels beyond the per-task table: spend rate and projections, the cost-per-task
histogram, cost by step position, the share of spend of the costliest tasks, and breakdowns.
Each figure is one a user can check by hand; the definitions are in the README."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from agentcost.analysis.exact import exact_name, money_total, rounded
from agentcost.money import EXACT, MONEY_DECIMALS, exact_sum
from agentcost.pricing.cost import has_unpriced_part

HOURS_PER_DAY = 24
DAYS_PER_MONTH = 30
POSITIONS_SHOWN = 20
BREAKDOWNS = ("user", "workflow", "agent", "model", "tool", "day", "hour", "week", "month",
              "session", "project", "branch", "block")
# Breakdowns in time order; the others are by cost, most first.
TIME_BREAKDOWNS = frozenset({"day", "hour", "week", "month", "block"})
# The row of the steps without a value to group by.
NONE = "(none)"
NO_TOOL = "(no tool)"
# The canonical columns each breakdown groups by, beside those every report reads.
# An agent is its own column where the steps record one beside the workflow; elsewhere the
# workflow column holds the agent's name (spans, coding agents), and stands for it.
BREAKDOWN_COLUMNS = {"user": ("user",), "workflow": ("workflow",), "agent": ("agent", "workflow"),
                     "session": ("session_id",), "project": ("project",),
                     "branch": ("project", "git_branch")}


@dataclass(frozen=True)
class SpendRate:
    window_hours: float
    per_hour: float  # total cost over the window / its length in hours
    last_hour_usd: float  # cost of the steps that started in the window's last hour
    tasks_last_hour: int
    projected_day_usd: float  # last hour's cost x 24
    projected_month_usd: float  # last hour's cost x 24 x 30
    unpriced_steps_last_hour: int = 0  # their cost is unknown: the figures are of the rest
    steps_last_hour: int = 0

    @property
    def shorter_than_an_hour(self) -> bool:
        """The "last hour" is then the whole window: no hour was seen, so there is no last
        hour's cost to show or to project from (an hour's rate would be an extrapolation)."""
        return self.window_hours < 1

    @property
    def projects(self) -> bool:
        """A day and a month at the last hour's rate: an hour was seen and its cost is known."""
        return self.last_hour_known and not self.shorter_than_an_hour

    @property
    def last_hour_known(self) -> bool:
        """Some step of the last hour is priced whole: its figures are a cost, not nothing."""
        return self.steps_last_hour > self.unpriced_steps_last_hour


@dataclass(frozen=True)
class Bin:
    low: float
    high: float  # the bin holds tasks costing more than `low`, up to and including `high`
    tasks: int


def spend_rate(priced: pl.DataFrame, start: datetime | None, end: datetime | None,
               total_usd: float) -> SpendRate | None:
    if start is None or end is None or end <= start:
        return None
    hours = (end - start) / timedelta(hours=1)
    last = priced.lazy().filter(pl.col("start_time") >= end - timedelta(hours=1)).select(
        money_total(priced.columns, "total_cost_usd"), pl.col("task_id").n_unique(),
        has_unpriced_part().sum(), pl.len()).collect().row(0)
    last_hour = float(last[0] or 0.0)
    return SpendRate(hours, total_usd / hours, last_hour, int(last[1]),
                     last_hour * HOURS_PER_DAY, last_hour * HOURS_PER_DAY * DAYS_PER_MONTH,
                     int(last[2] or 0), int(last[3] or 0))


def nice_edges(low: float, high: float) -> list[float]:
    """Bin edges on the 1-2-5 series (..., 0.01, 0.02, 0.05, 0.1, ...) covering [low, high]:
    costs per task span orders of magnitude, so equal-width bins would put almost every task
    in the first one."""
    low = max(low, 1e-9)
    exponent = math.floor(math.log10(low))
    edges = [0.0]
    while True:
        for mantissa in (1, 2, 5):
            edge = mantissa * 10.0 ** exponent
            if edge >= low or len(edges) > 1:
                edges.append(round(edge, 12))
            if edge >= high:
                return edges
        exponent += 1


def histogram(costs: list[float]) -> list[Bin]:
    if not costs:
        return []
    positive = [c for c in costs if c > 0]
    edges = nice_edges(min(positive) if positive else 1e-6, max(costs))
    series = pl.Series(costs)
    bins = []
    for low, high in itertools.pairwise(edges):
        inside = ((series > low) & (series <= high)) if low > 0 else (series <= high)
        bins.append(Bin(low, high, int(inside.sum())))
    return bins


def top_share(costs: list[float], percent: float) -> tuple[int, float]:
    """(how many tasks are the top `percent`, their share of total spend): the top 1% of 250
    tasks is the 3 costliest (rounded up). `costs` in ascending order."""
    if not costs or not sum(costs):
        return 0, 0.0
    count = max(math.ceil(percent / 100 * len(costs)), 1)
    return count, sum(reversed(costs[-count:])) / sum(costs)  # costliest first, as shown


def by_position(priced: pl.DataFrame) -> pl.DataFrame:
    """Mean cost of the k-th step of a task, over the tasks that have a k-th step (steps past
    POSITIONS_SHOWN grouped as the last row): how context growth makes later steps dearer.
    The mean is over the steps priced whole (`priced_steps`): an unpriced step's cost is
    unknown, not zero; null where no step at that position is priced."""
    total = exact_name("total_cost_usd")
    exact = pl.col(total) if total in priced.columns else pl.col("total_cost_usd").cast(EXACT)
    # The costs of the steps priced whole, taken within each group: no column of every
    # step's cost-or-null is made.
    cost = pl.col("cost").filter(pl.col("whole"))
    # Only the columns it needs: grouping the whole frame by an expression copies it.
    return (
        priced.lazy()
        .select(pl.col("step").clip(upper_bound=POSITIONS_SHOWN + 1).alias("position"),
                (~has_unpriced_part()).alias("whole"), exact.alias("cost"),
                (pl.col("input_tokens") + pl.col("cache_read_tokens")).alias("prompt"))
        .group_by("position")
        .agg(pl.len().alias("steps"),
             cost.count().alias("priced_steps"),
             pl.when(cost.count() > 0)
             .then((rounded(cost.sum()) / cost.count()).round(MONEY_DECIMALS))
             .alias("mean_cost_usd"),
             pl.col("prompt").mean().alias("mean_prompt_tokens"))
        .sort("position")
        .collect()
    )


def breakdown(priced: pl.DataFrame, by: str) -> pl.DataFrame:
    """Steps, tasks and total cost (LLM, tools, compute) by `by` (BREAKDOWNS), every step in
    one row: the rows add up to the report's total. Times are UTC: a week is an ISO week
    (2026-W05), a block one of the 5-hour windows of analysis/blocks.py; a branch is the
    project and its git branch, "path (branch)"."""
    if by == "block":
        from agentcost.analysis.blocks import block_breakdown, block_sums

        return block_breakdown(block_sums(priced))
    key = breakdown_key(by)
    # Lazy, so that filtering copies only the columns used, not every column of every step.
    frame = priced.lazy()
    grouped = (
        # Every step has a row to go to, so the rows add up to the whole spend: by tool, the
        # steps that called none (LLM calls, mostly) are a row of their own.
        frame.group_by(key.fill_null(NO_TOOL if by == "tool" else NONE).alias(by))
        .agg(pl.len().alias("steps"), pl.col("task_id").n_unique().alias("tasks"),
             money_total(priced.columns, "total_cost_usd").alias("cost_usd"),
             # Their cost is the priced part only, as a task's total is: say so per row.
             has_unpriced_part().sum()
             .alias("unpriced_steps"))
        .collect()
    )
    return finish_breakdown(grouped, by)


def finish_breakdown(grouped: pl.DataFrame, by: str) -> pl.DataFrame:
    """Each row's share of the total, in the breakdown's order."""
    total = float(grouped.select(exact_sum(pl.col("cost_usd"))).item() or 0.0)
    # Put in order first: polars may divide a row in one place of a column by the total one
    # way and in another place the other, a last digit apart, and the groups come in any
    # order.
    return (
        grouped.sort(_order(by)[0], descending=_order(by)[1], nulls_last=True)
        .with_columns((pl.col("cost_usd") / total if total else pl.lit(None, pl.Float64))
                      .alias("share"))
    )


def breakdown_key(by: str) -> pl.Expr:
    if by == "agent":
        return pl.coalesce(pl.col("agent").cast(pl.String), pl.col("workflow").cast(pl.String))
    text = {"user": "user", "workflow": "workflow", "model": "model",
            "tool": "tool_name", "session": "session_id", "project": "project"}
    if by in text:
        return pl.col(text[by]).cast(pl.String)
    if by == "branch":
        project = pl.col("project").cast(pl.String)
        return (pl.when(pl.col("git_branch").is_not_null())
                .then(pl.concat_str(project.fill_null("(none)"), pl.lit(" ("),
                                    pl.col("git_branch").cast(pl.String), pl.lit(")")))
                .otherwise(project))
    return pl.col("start_time").dt.strftime({"day": "%Y-%m-%d", "hour": "%Y-%m-%d %H:00",
                                             "week": "%G-W%V", "month": "%Y-%m"}[by])


def _order(by: str) -> tuple[list[str], list[bool]]:
    """Time breakdowns in time order; everything else by cost, most first, then by name."""
    if by in TIME_BREAKDOWNS:
        return [by], [False]
    return ["cost_usd", by], [True, False]


@dataclass(frozen=True)
class Dashboard:
    spend_rate: SpendRate | None
    histogram: list[Bin]
    top_1: tuple[int, float]
    top_10: tuple[int, float]
    by_position: pl.DataFrame
    breakdown: pl.DataFrame | None
    breakdown_by: str | None


def build_dashboard(priced: pl.DataFrame, task_costs: list[float], *, window_start: datetime |
                    None, window_end: datetime | None, total_usd: float, by: str | None
                    ) -> Dashboard:
    """`task_costs`: every task's cost, ascending."""
    return Dashboard(
        spend_rate(priced, window_start, window_end, total_usd),
        histogram(task_costs),
        top_share(task_costs, 1),
        top_share(task_costs, 10),
        by_position(priced),
        breakdown(priced, by) if by else None,
        by,
    )
