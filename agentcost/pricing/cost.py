"""Price canonical steps: a join with the price table and arithmetic, all polars expressions.

Adds to each step:
    llm_cost_usd      null when the step's tokens cannot be priced (see unpriced_reason)
    unpriced_reason   why not: no model recorded, model not in the price table, a bucket with
                      tokens but no listed price, no token counts recorded
    tool_cost_usd     null when the tool is not in the price table (tool_unpriced is then true)
    compute_cost_usd  duration_s x the compute price per second (0 when no duration)
    total_cost_usd    the sum of the priced parts: unpriced parts are excluded, never counted as 0
"""

from __future__ import annotations

import polars as pl

from agentcost.pricing.table import PriceTable

PER_MILLION = 1_000_000
COST_MODES = ("computed", "reported", "auto")
BUCKET_PRICES = (
    ("input_tokens", "price_input", "input"),
    ("cache_read_tokens", "price_cache_read", "cache-read"),
    ("cache_write_5m_tokens", "price_cache_write_5m", "5-minute cache-write"),
    ("cache_write_1h_tokens", "price_cache_write_1h", "1-hour cache-write"),
    ("output_tokens", "price_output", "output"),
    ("reasoning_tokens", "price_reasoning", "reasoning"),
)
PRICE_COLUMNS = tuple(price for _, price, _ in BUCKET_PRICES)


def model_price_frame(table: PriceTable) -> pl.DataFrame:
    rows = [
        {
            "model": price.name,
            "price_input": price.input,
            "price_cache_read": price.cache_read,
            "price_cache_write_5m": price.cache_write_5m,
            "price_cache_write_1h": price.cache_write_1h,
            "price_output": price.output,
            "price_reasoning": price.output if price.reasoning is None else price.reasoning,
        }
        for price in table.models.values()
    ]
    schema = {"model": pl.Categorical(), **{column: pl.Float64() for column in PRICE_COLUMNS}}
    return pl.DataFrame(rows, schema=schema)


def tool_price_frame(table: PriceTable) -> pl.DataFrame:
    rows = [{"tool_name": tool.name, "price_per_call": tool.per_call}
            for tool in table.tools.values()]
    return pl.DataFrame(rows, schema={"tool_name": pl.Categorical(),
                                      "price_per_call": pl.Float64()})


def price_steps(steps: pl.LazyFrame, table: PriceTable, *, cost_mode: str = "computed"
                ) -> pl.LazyFrame:
    """`cost_mode`: computed (our table), reported (the producer's own cost), or auto (the
    producer's where it recorded one, ours elsewhere). The computed cost is kept in
    computed_cost_usd whatever the mode, for reconciliation."""
    if cost_mode not in COST_MODES:
        raise ValueError(f"cost mode {cost_mode!r} is not one of {', '.join(COST_MODES)}")
    priced = (
        steps.join(model_price_frame(table).lazy(), on="model", how="left")
        .join(tool_price_frame(table).lazy(), on="tool_name", how="left")
    )
    has_tokens = pl.sum_horizontal(tokens for tokens, _, _ in BUCKET_PRICES) > 0
    token_counts_missing = pl.any_horizontal(
        pl.col(tokens).is_null() for tokens, _, _ in BUCKET_PRICES
    )
    reason: pl.Expr = pl.lit(None, pl.String())
    for tokens, price, words in reversed(BUCKET_PRICES):
        reason = (
            pl.when((pl.col(tokens) > 0) & pl.col(price).is_null()
                    & pl.col("price_input").is_not_null())
            .then(pl.lit(f"no {words} price listed"))
            .otherwise(reason)
        )
    reason = (
        pl.when(pl.col("model").is_not_null() & token_counts_missing)
        .then(pl.lit("no token counts recorded"))
        .when(pl.col("model").is_null() & has_tokens)
        .then(pl.lit("no model recorded"))
        .when(pl.col("model").is_not_null() & pl.col("price_input").is_null())
        .then(pl.lit("model not in price table"))
        .otherwise(reason)
    )
    bucket_costs = [
        pl.when(pl.col(tokens) > 0).then(pl.col(tokens) * pl.col(price)).otherwise(0.0)
        for tokens, price, _ in BUCKET_PRICES
    ]
    llm_cost = pl.sum_horizontal(bucket_costs) / PER_MILLION
    computed_tool = pl.when(pl.col("tool_name").is_null()).then(0.0).otherwise(
        pl.col("price_per_call"))
    compute_cost = pl.col("duration_s").fill_null(0.0) * table.compute_per_second
    reported = pl.col("reported_cost_usd")
    reported_tool = pl.col("reported_tool_cost_usd")
    is_call = pl.col("kind").is_in(["llm", "embedding"]) | pl.col("model").is_not_null()
    computed: pl.Expr = pl.when(pl.col("computed_reason").is_null()).then(llm_cost)
    llm: pl.Expr
    final_reason: pl.Expr
    tool: pl.Expr
    if cost_mode == "computed":
        llm = computed
        final_reason = pl.col("computed_reason")
        tool = computed_tool
    elif cost_mode == "reported":
        llm = pl.when(is_call).then(reported).otherwise(0.0)
        final_reason = pl.when(is_call & reported.is_null()).then(
            pl.lit("no cost reported by the producer"))
        tool = pl.when(pl.col("tool_name").is_null()).then(0.0).otherwise(reported_tool)
    else:
        llm = pl.coalesce(reported, computed)
        final_reason = pl.when(reported.is_null()).then(pl.col("computed_reason"))
        tool = pl.coalesce(reported_tool, computed_tool)
    return (
        priced.with_columns(reason.alias("computed_reason"))
        .with_columns(
            computed.alias("computed_cost_usd"),
            llm.alias("llm_cost_usd"),
            final_reason.alias("unpriced_reason"),
            tool.alias("tool_cost_usd"),
            compute_cost.alias("compute_cost_usd"),
        )
        .with_columns(
            (pl.col("tool_name").is_not_null() & pl.col("tool_cost_usd").is_null())
            .alias("tool_unpriced"),
        )
        .with_columns(
            pl.sum_horizontal("llm_cost_usd", "tool_cost_usd", "compute_cost_usd")
            .alias("total_cost_usd")
        )
        .drop(*PRICE_COLUMNS, "price_per_call", "computed_reason")
    )
