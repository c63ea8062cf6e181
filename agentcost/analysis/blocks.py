"""The 5-hour windows subscription plans meter usage by (Claude's "blocks"), as ccusage draws
them (ryoppippi/ccusage rust/crates/ccusage/src/blocks.rs, identify_session_blocks): requests
in time order; a block starts at its first request's time floored to the hour (UTC) and holds
every request up to 5 hours after that start, inclusive; the first request later than that
starts the next block. Other steps (tool calls) go to the block that started last at or before
them."""

from __future__ import annotations

import polars as pl

BLOCK_HOURS = 5
BLOCK_LENGTH_US = BLOCK_HOURS * 3_600_000_000
HOUR_US = 3_600_000_000
LABEL = "%Y-%m-%d %H:%M"


def block_starts(request_times: pl.Series) -> pl.Series:
    """The start of each block (UTC microseconds), in order, from the requests' start times.
    One pass per block, not per request: each block's end is found by binary search."""
    times = request_times.drop_nulls().cast(pl.Int64).sort()
    starts: list[int] = []
    index, count = 0, len(times)
    while index < count:
        start = times[index] - times[index] % HOUR_US
        starts.append(start)
        index = int(times.search_sorted(start + BLOCK_LENGTH_US, side="right"))
    return pl.Series("block", starts, dtype=pl.Int64)


def block_label(frame: pl.LazyFrame | pl.DataFrame) -> pl.Series:
    """Each step's block, by the start time of the block ("2026-04-23 17:00", UTC): the first
    block whose end is not before the step, if it has started by then (a time on a block's
    end is in that block, as a request there is); else, in a gap, the block before. Null for a
    step without a start time, or one before every request."""
    frame = frame.lazy()
    requests = frame.filter(pl.col("kind") == "llm").select("start_time").collect()
    starts = block_starts(requests["start_time"])
    times = frame.select(pl.col("start_time").cast(pl.Int64)).collect().to_series()
    if starts.is_empty():
        return pl.Series("block", [None] * len(times), dtype=pl.String)
    ends = starts + BLOCK_LENGTH_US
    blocks = pl.DataFrame({"index": pl.int_range(len(starts), eager=True), "start": starts})
    first_not_ended = ends.search_sorted(times.fill_null(0), side="left").cast(pl.Int64)
    found = pl.DataFrame({"time": times, "index": first_not_ended})
    found = found.join(blocks, on="index", how="left", maintain_order="left").select(
        pl.when(pl.col("time").is_null()).then(None)
        .when(pl.col("start") <= pl.col("time")).then(pl.col("index"))
        .otherwise(pl.col("index") - 1).alias("index"))
    return (found.join(blocks, on="index", how="left", maintain_order="left")
            .select(pl.col("start").cast(pl.Datetime("us", "UTC")).dt.strftime(LABEL))
            .to_series().alias("block"))


def block_sums(priced: pl.DataFrame) -> pl.DataFrame:
    """Steps summed by all a block depends on: their time as the hour it falls in, and whether
    exactly on that hour (`time`: the hour, or a microsecond past it: blocks start and end on
    the hour, so every time strictly inside an hour falls in the same block as this one);
    whether a request; and their task. Money as exact decimals: the sums of partitions of
    the steps add up, and `block_breakdown` takes the rows of all of them."""
    from agentcost.money import exact_partial
    from agentcost.pricing.cost import has_unpriced_part

    hour = pl.col("start_time").dt.truncate("1h")
    time = (pl.when(pl.col("start_time") == hour).then(hour)
            .otherwise(hour + pl.duration(microseconds=1)))
    return priced.group_by(
        time.alias("start_time"), (pl.col("kind") == "llm").fill_null(False).alias("request"),
        "task_id").agg(
        pl.len().alias("steps"), exact_partial(pl.col("total_cost_usd")).alias("cost"),
        has_unpriced_part().sum().alias("unpriced_steps"))


def block_breakdown(sums: pl.DataFrame) -> pl.DataFrame:
    """Steps, tasks and total cost by block (analysis/dashboard.breakdown's columns), from
    `block_sums` rows."""
    from agentcost.analysis.dashboard import NONE, finish_breakdown
    from agentcost.money import MONEY_DECIMALS

    frame = sums.with_columns(pl.when(pl.col("request")).then(pl.lit("llm")).alias("kind"))
    grouped = (frame.with_columns(block_label(frame).fill_null(NONE).alias("block"))
               .group_by("block")
               .agg(pl.col("steps").sum(), pl.col("task_id").n_unique().alias("tasks"),
                    pl.col("cost").sum().cast(pl.Float64).round(MONEY_DECIMALS)
                    .alias("cost_usd"),
                    pl.col("unpriced_steps").sum()))
    return finish_breakdown(grouped, "block")
