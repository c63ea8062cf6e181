"""The series the HTML report draws: cost over time stacked by model, and cost by workflow and
by tool. Each sums the same priced steps as the report's totals, so the bars of a chart add up
to the report's total (unpriced parts are counted per bar, never priced at $0)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from agentcost.money import MONEY_DECIMALS, exact_partial
from agentcost.pricing.cost import has_unpriced_part

# A window up to this long is drawn by hour, up to MAX_DAYS by day, longer by week.
MAX_HOURLY = timedelta(days=3)
MAX_DAILY = timedelta(days=180)
# Models beyond the costliest few are drawn together as one series.
MODELS_DRAWN = 6
OTHER_MODELS = "other models"
NON_LLM = "tools and compute"
NO_MODEL = "(no model)"
NO_TOOL = "(no tool)"
NO_WORKFLOW = "(none)"


@dataclass(frozen=True)
class Charts:
    period: str  # hour, day or week: the width of a bar of `over_time`
    # period (its start, UTC), series (a model, OTHER_MODELS or NON_LLM; null in a period with
    # nothing priced), cost_usd; and per period, unpriced_steps: steps with a part whose cost
    # is unknown, not in the bar.
    over_time: pl.DataFrame
    by_workflow: pl.DataFrame | None  # workflow, steps, tasks, cost_usd, unpriced_steps
    by_tool: pl.DataFrame  # tool, steps, cost_usd, unpriced_steps; NO_TOOL: steps without one
    untimed_steps: int = 0  # steps without a start time: in no bar of `over_time`


def period_for(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None or end - start <= MAX_HOURLY:
        return "hour"
    return "day" if end - start <= MAX_DAILY else "week"


@dataclass(frozen=True)
class ChartSums:
    """What the charts draw, summed over some of the steps (a partition of whole tasks, or
    all): money as exact decimals, over time by the hour (the narrowest bar; an hour lies
    within one day and one week), so that the sums of several partitions add up, and are
    drawn once every partition's are in (`charts_of`)."""

    llm: pl.DataFrame  # hour, model, cost: the LLM cost of timed steps
    other: pl.DataFrame  # hour (null: untimed), steps, cost (tools and compute), unpriced_steps
    models: pl.DataFrame  # model, cost: the LLM cost by model, timed or not
    tools: pl.DataFrame  # tool, steps, cost, unpriced_steps
    workflows: pl.DataFrame | None  # workflow, steps, tasks, cost, unpriced_steps


def chart_sums(priced: pl.DataFrame) -> ChartSums:
    frame = priced.lazy()
    hour = pl.col("start_time").dt.truncate("1h").alias("hour")
    model = pl.col("model").cast(pl.String)
    llm = (frame.filter(pl.col("start_time").is_not_null() & pl.col("llm_cost_usd").is_not_null())
           .group_by(hour, model).agg(exact_partial(pl.col("llm_cost_usd")).alias("cost")))
    other = frame.group_by(hour).agg(
        pl.len().alias("steps"),
        exact_partial(pl.col("tool_cost_usd").fill_null(0) + pl.col("compute_cost_usd")
                      .fill_null(0)).alias("cost"),
        has_unpriced_part().sum().alias("unpriced_steps"))
    models = (frame.filter(pl.col("model").is_not_null()).group_by(model)
              .agg(exact_partial(pl.col("llm_cost_usd")).alias("cost")))
    tool = pl.col("tool_name").cast(pl.String).fill_null(NO_TOOL).alias("tool")
    tools = frame.group_by(tool).agg(
        pl.len().alias("steps"), exact_partial(pl.col("total_cost_usd")).alias("cost"),
        has_unpriced_part().sum().alias("unpriced_steps"))
    queries = [llm, other, models, tools]
    if "workflow" in priced.columns:
        workflow = pl.col("workflow").cast(pl.String).fill_null(NO_WORKFLOW).alias("workflow")
        # Tasks add up across partitions: a partition holds every step of its tasks.
        queries.append(frame.group_by(workflow).agg(
            pl.len().alias("steps"), pl.col("task_id").n_unique().alias("tasks"),
            exact_partial(pl.col("total_cost_usd")).alias("cost"),
            has_unpriced_part().sum().alias("unpriced_steps")))
    frames = pl.collect_all(queries)
    return ChartSums(frames[0], frames[1], frames[2], frames[3],
                     frames[4] if len(frames) > 4 else None)


def build_charts(priced: pl.DataFrame, *, start: datetime | None, end: datetime | None
                 ) -> Charts:
    return charts_of(chart_sums(priced), start=start, end=end)


def charts_of(sums: ChartSums, *, start: datetime | None, end: datetime | None) -> Charts:
    """The charts of `sums` (several partitions' frames one after another): each money sum
    rounded once, as `exact_sum` rounds."""
    period = period_for(start, end)
    bar = pl.col("hour").dt.truncate({"hour": "1h", "day": "1d", "week": "1w"}[period])
    money = pl.col("cost").sum().cast(pl.Float64).round(MONEY_DECIMALS).alias("cost_usd")
    drawn = (sums.models.group_by("model").agg(money)
             .sort("cost_usd", "model", descending=[True, False], nulls_last=True)
             .head(MODELS_DRAWN)["model"].to_list())
    model = pl.col("model")
    series = (pl.when(model.is_null()).then(pl.lit(NO_MODEL))
              .when(model.is_in(drawn)).then(model).otherwise(pl.lit(OTHER_MODELS)))
    llm_part = (sums.llm.group_by(bar.alias("period"), series.alias("series")).agg(money)
                .filter(pl.col("cost_usd") != 0))  # tool steps: no model, nothing to draw
    timed = sums.other.filter(pl.col("hour").is_not_null())
    other_part = (timed.group_by(bar.alias("period")).agg(money)
                  .filter(pl.col("cost_usd") > 0)
                  .with_columns(pl.lit(NON_LLM).alias("series"))
                  .select("period", "series", "cost_usd"))
    unpriced = timed.group_by(bar.alias("period")).agg(pl.col("unpriced_steps").sum())
    # Every period with a step, priced or not: one with nothing priced has a null series.
    over_time = (unpriced.join(pl.concat([llm_part, other_part]), on="period", how="left")
                 .select("period", "series", "cost_usd", "unpriced_steps")
                 .sort("period", "cost_usd", "series", descending=[False, True, False],
                       nulls_last=True))
    by_tool = (sums.tools.group_by("tool")
               .agg(pl.col("steps").sum(), money, pl.col("unpriced_steps").sum())
               .sort("cost_usd", "tool", descending=[True, False]))
    by_workflow = None
    if sums.workflows is not None:
        by_workflow = (sums.workflows.group_by("workflow")
                       .agg(pl.col("steps").sum(), pl.col("tasks").sum(), money,
                            pl.col("unpriced_steps").sum())
                       .sort("cost_usd", "workflow", descending=[True, False]))
        if by_workflow["workflow"].to_list() in ([], [NO_WORKFLOW]):
            by_workflow = None  # the traces name no workflow: nothing to draw
    untimed = int(sums.other.filter(pl.col("hour").is_null())["steps"].sum() or 0)
    return Charts(period, over_time, by_workflow, by_tool, untimed)
