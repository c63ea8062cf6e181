"""History compression: from LLM step N+1 of each task on, the context older than the last K
steps is replaced by a summary, written by one call to a summary model."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from agentcost.renderers.text import plural
from agentcost.simulation import sorted_groups as groups
from agentcost.simulation.replay import (
    ORDER_COLUMN,
    TASK_COLUMN,
    TOKEN_COLUMNS,
    WITHIN_TASK,
    Replay,
    swap_rows,
    total_of,
)
from agentcost.simulation.scenario import Compression, Scenario
from agentcost.simulation.strategies.base import (
    Applied,
    Baseline,
    Strategy,
    Tally,
    Touched,
    counted,
    sums,
)


@dataclass(frozen=True)
class CompressionTouched(Touched):
    tokens_removed: int  # input tokens, before the summaries' own
    summary_calls: int

    def detail(self) -> str:
        return (f"{plural(self.tokens_removed, 'input token')} removed, "
                f"{plural(self.summary_calls, 'summary call')}")


def compress(steps: pl.DataFrame, compression: Compression
             ) -> tuple[pl.DataFrame, Tally]:
    """From LLM step N+1 of each task on, the context that steps older than the last K added is
    replaced by a summary of T tokens, made by one call to the summary model per compressed
    step (input: the tokens it replaces; output: T).

    What each step adds to the context is inferred from how the whole prompt grows between
    consecutive LLM steps of the task (clipped at zero). Removed tokens come out of cache reads
    first (a long history is what gets cached), then out of uncached input.

    Only the rows that change (and the new summary calls) are returned, for the caller to price
    and put in place of the rows with the same `_row`."""
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
            # The producer's reported cost was for the whole prompt.
            pl.lit(None, steps.schema["reported_cost_usd"]).alias("reported_cost_usd"),
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
    tally = {"compressed": counted(steps=hit.height, tasks=hit["task_id"].n_unique(),
                                   tokens_removed=int(hit["_dropped"].sum() or 0))}
    helpers = ["_position", "_old", "_dropped", "_from_cache"]
    changed = pl.concat([
        hit.drop(helpers).select(*steps.columns),
        _conform_like(summaries, steps),
    ], how="vertical")
    return changed, tally


def _conform_like(rows: pl.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        pl.col(name).cast(dtype) if name in rows.columns
        else pl.lit(0 if name in TOKEN_COLUMNS else None, dtype).alias(name)
        for name, dtype in like.schema.items()
    )


class HistoryCompression(Strategy[CompressionTouched]):
    name = "compression"
    title = "history compression"
    caveat = ("Context growth is inferred from prompt growth between consecutive LLM steps; "
              "the summary's effect on later answers is not modelled.")

    def enabled(self, scenario: Scenario) -> bool:
        return scenario.compression is not None

    def settings(self, scenario: Scenario) -> list[str]:
        c = scenario.compression
        if c is None:
            return []
        return [f"compress history after step {c.after_step}, keeping the last {c.keep_last} "
                f"steps; summaries of {c.summary_tokens} tokens by {c.summary_model}"]

    def models_priced(self, scenario: Scenario) -> list[tuple[str, str]]:
        if scenario.compression is None:
            return []
        return [("summary model", scenario.compression.summary_model)]

    def apply(self, replay: Replay, scenario: Scenario) -> Applied[CompressionTouched]:
        if scenario.compression is None:
            return Applied(replay, replay, {"compressed": counted(steps=0, tasks=0,
                                                                  tokens_removed=0)})
        changed, tally = compress(replay.steps, scenario.compression)
        if not changed.height:
            return Applied(replay, replay, tally)
        fresh = replay.price(changed)
        return Applied(replay, replay.with_rows(fresh), tally, fresh)

    def touched(self, tally: Tally, scenario: Scenario) -> CompressionTouched:
        found = sums(tally, "compressed")
        return CompressionTouched(found["steps"], found["tasks"], found["tokens_removed"],
                                  found["steps"])  # one summary call per compressed step

    def alone(self, applied: Applied[CompressionTouched], scenario: Scenario,
              baseline: Baseline) -> Decimal:
        if applied.fresh is not None and applied.before.steps_as_recorded:
            # The rows it changed here are the rows it would change on the baseline, priced
            # before any standing adjustment (a cache hit): put them in the baseline with the
            # baseline's own (steps left out of both sides).
            return total_of(swap_rows(baseline.replay.priced,
                                      baseline.replay.adjusted(applied.fresh)))
        return super().alone(applied, scenario, baseline)
