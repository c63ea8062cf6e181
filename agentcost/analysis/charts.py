"""The series the HTML report draws: cost over time stacked by model, and cost by workflow and
by tool. Each sums the same priced steps as the report's totals, so the bars of a chart add up
to the report's total (unpriced parts are counted per bar, never priced at $0)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from agentcost.money import exact_sum
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


def build_charts(priced: pl.DataFrame, *, start: datetime | None, end: datetime | None
                 ) -> Charts:
    period = period_for(start, end)
    frame = priced.lazy()
    timed = frame.filter(pl.col("start_time").is_not_null()).with_columns(
        pl.col("start_time").dt.truncate({"hour": "1h", "day": "1d", "week": "1w"}[period])
        .alias("period"))
    costliest = (frame.filter(pl.col("model").is_not_null())
                 .group_by(pl.col("model").cast(pl.String))
                 .agg(exact_sum(pl.col("llm_cost_usd")).alias("cost"))
                 .sort("cost", "model", descending=[True, False], nulls_last=True)
                 .head(MODELS_DRAWN).select("model"))
    model = pl.col("model").cast(pl.String)
    drawn = costliest.collect()["model"].to_list()
    series = (pl.when(model.is_null()).then(pl.lit(NO_MODEL))
              .when(model.is_in(drawn)).then(model).otherwise(pl.lit(OTHER_MODELS)))
    llm_part = (timed.filter(pl.col("llm_cost_usd").is_not_null())
                .group_by("period", series.alias("series"))
                .agg(exact_sum(pl.col("llm_cost_usd")).alias("cost_usd"))
                .filter(pl.col("cost_usd") != 0))  # tool steps: no model, nothing to draw
    other_part = (timed.group_by("period")
                  .agg(exact_sum(pl.col("tool_cost_usd").fill_null(0)
                                 + pl.col("compute_cost_usd").fill_null(0)).alias("cost_usd"))
                  .filter(pl.col("cost_usd") > 0)
                  .with_columns(pl.lit(NON_LLM).alias("series"))
                  .select("period", "series", "cost_usd"))
    unpriced = timed.group_by("period").agg(has_unpriced_part().sum().alias("unpriced_steps"))
    # Every period with a step, priced or not: one with nothing priced has a null series.
    over_time_q = (unpriced.join(pl.concat([llm_part, other_part]), on="period", how="left")
                   .select("period", "series", "cost_usd", "unpriced_steps")
                   .sort("period", "cost_usd", "series", descending=[False, True, False],
                         nulls_last=True))
    tool = pl.col("tool_name").cast(pl.String).fill_null(NO_TOOL).alias("tool")
    by_tool_q = (frame.group_by(tool)
                 .agg(pl.len().alias("steps"),
                      exact_sum(pl.col("total_cost_usd")).alias("cost_usd"),
                      has_unpriced_part().sum().alias("unpriced_steps"))
                 .sort("cost_usd", "tool", descending=[True, False]))
    queries = [over_time_q, by_tool_q]
    if "workflow" in priced.columns:
        workflow = pl.col("workflow").cast(pl.String).fill_null(NO_WORKFLOW).alias("workflow")
        queries.append(frame.group_by(workflow)
                       .agg(pl.len().alias("steps"), pl.col("task_id").n_unique().alias("tasks"),
                            exact_sum(pl.col("total_cost_usd")).alias("cost_usd"),
                            has_unpriced_part().sum().alias("unpriced_steps"))
                       .sort("cost_usd", "workflow", descending=[True, False]))
    frames = pl.collect_all(queries)
    by_workflow = frames[2] if len(frames) > 2 else None
    if by_workflow is not None and by_workflow["workflow"].to_list() in ([], [NO_WORKFLOW]):
        by_workflow = None  # the traces name no workflow: nothing to draw
    return Charts(period, frames[0], by_workflow, frames[1],
                  priced["start_time"].null_count())
