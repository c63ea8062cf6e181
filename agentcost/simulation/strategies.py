"""The four strategies, each a pure transform of the step table, as polars expressions.

Routing and history compression change what is priced (models, tokens), so they act on steps
before pricing; tool caching and budgets act on priced steps. Each returns what it touched.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import polars as pl

from agentcost.money import EXACT, exact_sum
from agentcost.simulation import sorted_groups as groups
from agentcost.simulation.scenario import CacheRule, Compression, Route

TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")
RUNAWAY_MULTIPLE = 5.0  # a task costing more than 5 x the median task is a runaway
# Steps reach the strategies numbered in input order (files in order, lines in order), in
# steps of two, as `_row`: a total order that does not depend on the row order joins leave
# behind. Within a task, steps are ordered by step number, then `_row`; a simulated summary
# call takes the odd number just before the step it serves.
ORDER_COLUMN = "_row"
TASK_COLUMN = "_task"  # tasks numbered too: grouping by an integer is cheaper than by text
WITHIN_TASK = ["step", ORDER_COLUMN]


def number_steps(steps: pl.DataFrame) -> pl.DataFrame:
    return steps.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) * 2).alias(ORDER_COLUMN),
        pl.col("task_id").cast(pl.Categorical).to_physical().cast(pl.Int64).alias(TASK_COLUMN),
    )


@dataclass
class Touched:
    steps: int = 0
    tasks: int = 0
    details: dict[str, object] = field(default_factory=dict)


def glob_regex(pattern: str) -> str:
    """A shell glob as an anchored regular expression polars' engine reads (fnmatch writes
    Python's `\\Z`, which it does not)."""
    translated = fnmatch.translate(pattern)
    return "^" + translated.removesuffix(r"\Z") + "$"


def _matches(column: str, pattern: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.contains(glob_regex(pattern))


def apply_routes(steps: pl.DataFrame, routes: tuple[Route, ...]) -> tuple[pl.DataFrame, Touched]:
    """Reprice matching LLM steps at another model with the same tokens (times the route's
    step inflation). The first route that matches a step wins."""
    is_call = pl.col("kind").cast(pl.String).is_in(["llm", "embedding"])
    target: pl.Expr = pl.lit(None, pl.String())
    inflation: pl.Expr = pl.lit(1.0)
    which: pl.Expr = pl.lit(None, pl.Int32())
    for index, route in reversed(list(enumerate(routes))):
        hit = is_call & _matches("model" if route.by_model else "name", route.pattern)
        target = pl.when(hit).then(pl.lit(route.target)).otherwise(target)
        inflation = pl.when(hit).then(pl.lit(route.inflation)).otherwise(inflation)
        which = pl.when(hit).then(pl.lit(index, pl.Int32())).otherwise(which)
    marked = steps.with_columns(target.alias("_route"), inflation.alias("_inflation"),
                                which.alias("_which"))
    routed = marked["_route"].is_not_null()
    marked = marked.with_columns(routed.alias("_routed"))  # kept for the caller to reprice
    used = set(marked["_which"].drop_nulls().unique().to_list())
    touched = Touched(int(routed.sum()), marked.filter(routed)["task_id"].n_unique(),
                      {"unmatched": [route.describe() for index, route in enumerate(routes)
                                     if index not in used]})
    result = marked.with_columns(
        pl.when(pl.col("_route").is_not_null()).then(pl.col("_route"))
        .otherwise(pl.col("model").cast(pl.String)).cast(pl.Categorical).alias("model"),
        *((pl.col(column) * pl.col("_inflation")).round(0).cast(pl.Int64).alias(column)
          for column in TOKEN_COLUMNS),
        # The routed model's provider tier and reported cost no longer apply.
        pl.when(pl.col("_route").is_not_null()).then(None)
        .otherwise(pl.col("reported_cost_usd")).alias("reported_cost_usd"),
    ).drop("_route", "_inflation", "_which")
    return result, touched


def apply_compression(steps: pl.DataFrame, compression: Compression
                      ) -> tuple[pl.DataFrame, Touched]:
    """From LLM step N+1 of each task on, the context that steps older than the last K added is
    replaced by a summary of T tokens, made by one call to the summary model per compressed
    step (input: the tokens it replaces; output: T).

    What each step adds to the context is inferred from how the whole prompt grows between
    consecutive LLM steps of the task (clipped at zero). Removed tokens come out of cache reads
    first (a long history is what gets cached), then out of uncached input."""
    n, k, t = compression.after_step, compression.keep_last, compression.summary_tokens
    prompt = (pl.col("input_tokens").fill_null(0) + pl.col("cache_read_tokens").fill_null(0)
              + pl.col("cache_write_5m_tokens").fill_null(0)
              + pl.col("cache_write_1h_tokens").fill_null(0))
    is_llm = (pl.col("kind") == "llm") & pl.col("input_tokens").is_not_null()
    # Positions and context growth on the few columns they need (filtering the whole table
    # would copy every column of most rows), sorted once (sorting every column, or one sort per
    # window, costs more), then joined back by `_row`.
    growth = (
        steps.lazy().filter(is_llm)
        .select(ORDER_COLUMN, TASK_COLUMN, "step", prompt.alias("_prompt"))
        .collect()
        .sort(TASK_COLUMN, *WITHIN_TASK)
        .with_columns(
            groups.position(TASK_COLUMN).alias("_position"),
            (groups.next_in_group(pl.col("_prompt"), TASK_COLUMN) - pl.col("_prompt"))
            .clip(lower_bound=0).fill_null(0).alias("_added"),
        )
        # Tokens added by steps 1 .. j-1-K: a cumulative sum, shifted K+1 positions.
        .with_columns(groups.cumulative_sum(pl.col("_added"), TASK_COLUMN).alias("_added_so_far"))
        .with_columns(groups.earlier_in_group(pl.col("_added_so_far"), k + 1, TASK_COLUMN)
                      .fill_null(0).alias("_old"))
        .filter((pl.col("_position") > n) & (pl.col("_old") > t))  # the steps that change
        .select(ORDER_COLUMN, "_position", "_old", (pl.col("_old") - t).alias("_dropped"))
    )
    from_cache = pl.min_horizontal(pl.col("_dropped"), pl.col("cache_read_tokens").fill_null(0))
    hit = (  # only LLM steps are in `growth`
        steps.join(growth, on=ORDER_COLUMN, how="inner", maintain_order="left")
        .with_columns(from_cache.alias("_from_cache"))
        .with_columns(
            (pl.col("cache_read_tokens") - pl.col("_from_cache")).alias("cache_read_tokens"),
            (pl.col("input_tokens") - (pl.col("_dropped") - pl.col("_from_cache")))
            .clip(lower_bound=0).alias("input_tokens"),
        )
    )
    summaries = hit.select(
        (pl.col(ORDER_COLUMN) - 1).alias(ORDER_COLUMN),
        pl.col(TASK_COLUMN),
        pl.col("task_id"),
        pl.col("step"),
        pl.col("start_time"),
        pl.lit("llm").alias("kind"),
        pl.lit("history summary (simulated)").alias("name"),
        pl.lit(compression.summary_model).alias("model"),
        (pl.col("_old")).alias("input_tokens"),  # the summary call reads the whole old part
        pl.lit(t, pl.Int64).alias("output_tokens"),
    )
    touched = Touched(hit.height, hit["task_id"].n_unique(), {
        "tokens_removed": int(hit["_dropped"].sum() or 0),
        "summary_calls": hit.height,
    })
    helpers = ["_position", "_old", "_dropped", "_from_cache"]
    # Only the rows that change (and the new summary calls) are returned: the caller reprices
    # them and puts them in place of the rows with the same `_row`.
    changed = pl.concat([
        hit.drop(helpers).select(*steps.columns),
        _conform_like(summaries, steps),
    ], how="vertical")
    return changed, touched


def _conform_like(rows: pl.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        pl.col(name).cast(dtype) if name in rows.columns
        else pl.lit(0 if name in TOKEN_COLUMNS else None, dtype).alias(name)
        for name, dtype in like.schema.items()
    )


def apply_cache(priced: pl.DataFrame, rules: tuple[CacheRule, ...]) -> tuple[pl.DataFrame, Touched]:
    """Replay every tool call of the log in time order, across tasks. A call's key is its tool
    and its canonical arguments; a call whose key was seen within the tool's TTL before is a hit:
    its tool cost goes, and so does its compute time when the step is only the tool call.
    Calls without recorded arguments cannot be simulated and are counted apart."""
    ttl: pl.Expr = pl.lit(None, pl.Float64())
    for rule in reversed(rules):
        ttl = pl.when(_matches("tool_name", rule.tool)).then(pl.lit(rule.ttl_seconds)) \
            .otherwise(ttl)
    calls = priced.with_row_index("_call").with_columns(ttl.alias("_ttl"))
    cached = calls.filter(pl.col("tool_name").is_not_null() & pl.col("_ttl").is_not_null())
    with_args = cached.filter(pl.col("tool_args").is_not_null())
    seconds = pl.col("start_time").dt.epoch("us") / 1e6
    keyed = with_args.sort("start_time", ORDER_COLUMN, nulls_last=False).with_columns(
        (seconds - seconds.shift(1).over("tool_name", "tool_args")).alias("_since_seen"))
    hits = keyed.filter(pl.col("_since_seen").is_not_null()
                        & (pl.col("_since_seen") <= pl.col("_ttl")))["_call"]
    is_hit = pl.col("_call").is_in(hits.implode())
    per_tool = (
        cached.group_by(pl.col("tool_name").cast(pl.String))
        .agg(pl.len().alias("calls"), pl.col("tool_args").is_null().sum().alias("no_args"),
             is_hit.sum().alias("hits"),
             exact_sum(pl.when(is_hit).then(pl.col("tool_cost_usd"))).alias("saved_usd"))
        .sort("tool_name")
    )
    result = zero_hits(calls, is_hit)
    touched = Touched(hits.len(), calls.filter(is_hit)["task_id"].n_unique(),
                      {"per_tool": per_tool})
    if "_row" in calls.columns:  # which steps hit, for a caller that reprices some rows later
        touched.details["hit_rows"] = calls.filter(is_hit)["_row"]
    return result.drop("_call", "_ttl"), touched


def zero_hits(priced: pl.DataFrame, is_hit: pl.Expr) -> pl.DataFrame:
    """A cache hit costs no tool call, and no compute when the step is only the tool call."""
    tool_only = pl.col("kind") == "tool"
    return priced.with_columns(
        pl.when(is_hit).then(0.0).otherwise(pl.col("tool_cost_usd")).alias("tool_cost_usd"),
        pl.when(is_hit & tool_only).then(0.0).otherwise(pl.col("compute_cost_usd"))
        .alias("compute_cost_usd"),
        pl.when(is_hit & tool_only).then(0.0).otherwise(pl.col("duration_s"))
        .alias("duration_s"),
    ).with_columns(
        pl.sum_horizontal("llm_cost_usd", "tool_cost_usd", "compute_cost_usd")
        .alias("total_cost_usd")
    )


def apply_budget(priced: pl.DataFrame, budget_usd: float | None, max_steps: int | None,
                 runaways: pl.Series, *, keep_rows: bool = True
                 ) -> tuple[pl.DataFrame, Touched]:
    """Cut each task at the first step at which its cumulative cost reaches the budget (that
    step is kept: it is the one that crossed), and/or after `max_steps` steps. `runaways`: the
    ids of tasks whose baseline cost is over 5x the median task's. `keep_rows=False` when
    only the figures are wanted: the steps are then returned as they came."""
    # The cut is worked out on the four columns it needs (sorting every column would cost more
    # than the rest), then applied to the steps by their `_row`.
    # Running totals summed exactly: a float running total over a sorted million rows drifts,
    # and a task whose costs add up to the budget exactly must be cut at the same step always.
    cost = pl.col("total_cost_usd").fill_null(0).cast(EXACT)
    ordered = priced.select(TASK_COLUMN, *WITHIN_TASK, "total_cost_usd").sort(
        TASK_COLUMN, *WITHIN_TASK).with_columns(
        groups.cumulative_sum(cost, TASK_COLUMN).alias("_cumulative"),
        groups.position(TASK_COLUMN).alias("_position"),
    )
    before = (pl.col("_cumulative") - cost).cast(pl.Float64)
    keep = pl.lit(True)
    if budget_usd is not None:
        keep = keep & (before < budget_usd)
    if max_steps is not None:
        keep = keep & (pl.col("_position") <= max_steps)
    marked = ordered.with_columns(keep.alias("_keep"))
    task_costs = marked.group_by(TASK_COLUMN).agg(
        (~pl.col("_keep")).any().alias("cut"),
        exact_sum(pl.when(~pl.col("_keep")).then(pl.col("total_cost_usd"))).alias("saved"))
    runaway = pl.col(TASK_COLUMN).is_in(runaways.implode())
    cut = task_costs.filter(pl.col("cut"))
    touched = Touched(int((~marked["_keep"]).sum()), cut.height, {
        "runaway_tasks": runaways.len(),
        "runaways_cut": cut.filter(runaway).height,
        "normal_tasks_cut": cut.filter(~runaway).height,
        "saved_on_runaways_usd": cut.filter(runaway).select(exact_sum(pl.col("saved"))).item(),
        "saved_on_normal_usd": cut.filter(~runaway).select(exact_sum(pl.col("saved"))).item(),
    })
    touched.details["saved_usd"] = marked.select(
        exact_sum(pl.when(~pl.col("_keep")).then(pl.col("total_cost_usd")))).item()
    if not keep_rows:
        return priced, touched
    dropped = marked.filter(~pl.col("_keep"))[ORDER_COLUMN]
    result = priced.filter(~pl.col(ORDER_COLUMN).is_in(dropped.implode()))
    return result, touched
