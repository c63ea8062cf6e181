"""Price canonical steps: joins with the price table and arithmetic, all polars expressions.

Model names are resolved once per distinct name (pricing/resolve.py), tools once per distinct
tool; then every step is priced in one pass:

- the price in force at the step's start time (price history), for its service tier;
- the long-context tier for the whole request once its whole prompt (cache included) passes
  the model's threshold;
- tokens x price per bucket, times a regional uplift where the model name implies one.

Adds to each step:
    llm_cost_usd        null when the step's tokens cannot be priced (see unpriced_reason)
    computed_cost_usd   our price of the LLM call whatever the cost mode, for reconciliation
    unpriced_reason     why not: no model recorded, model not in the price table, a bucket with
                        tokens but no listed price, no token counts, no price for its tier or date
    tool_cost_usd       null when the tool is not in the price table (tool_unpriced is true)
    compute_cost_usd    duration_s x the compute price per second (of its workflow, if listed)
    total_cost_usd      the sum of the priced parts: unpriced parts are excluded, never 0
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from agentcost.pricing.resolve import resolve_model, resolve_tool
from agentcost.pricing.table import DEFAULT_TIER, Period, PriceSet, PriceTable

PER_MILLION = 1_000_000
COST_MODES = ("computed", "reported", "auto")
BUCKETS = (
    ("input_tokens", "input", "input"),
    ("cache_read_tokens", "cache_read", "cache-read"),
    ("cache_write_5m_tokens", "cache_write_5m", "5-minute cache-write"),
    ("cache_write_1h_tokens", "cache_write_1h", "1-hour cache-write"),
    ("output_tokens", "output", "output"),
    ("reasoning_tokens", "reasoning", "reasoning"),
)
DEFAULT_TIER_NAMES = ("default", "auto", "standard", "on_demand")
BEGINNING = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FOREVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def _bucket_prices(prices: PriceSet | None, prefix: str) -> dict[str, float | None]:
    values = {} if prices is None else {
        "input": prices.input, "cache_read": prices.cache_read,
        "cache_write_5m": prices.cache_write_5m, "cache_write_1h": prices.cache_write_1h,
        "output": prices.output,
        "reasoning": prices.output if prices.reasoning is None else prices.reasoning,
    }
    return {f"{prefix}{bucket}": values.get(bucket) for _, bucket, _ in BUCKETS}


def _period_row(model: str, tier: str, period: Period, factor: float | PriceSet
                ) -> dict[str, object]:
    if isinstance(factor, PriceSet):  # explicit tier prices: no long-context tier known
        prices, long_context = factor, None
    else:
        prices = period.prices.scaled(factor)
        long_context = period.long_context
    since = BEGINNING if period.since is None else dt.datetime.combine(
        period.since, dt.time(), tzinfo=dt.UTC)
    return {
        "table_model": model, "tier": tier, "since": since,
        **_bucket_prices(prices, "p_"),
        "lc_threshold": None if long_context is None else long_context.threshold,
        "lc_inclusive": None if long_context is None else long_context.inclusive,
        **_bucket_prices(None if long_context is None
                         else long_context.prices.scaled(1.0 if isinstance(factor, PriceSet)
                                                         else factor), "lc_"),
    }


def price_rows(table: PriceTable) -> pl.DataFrame:
    """One row per model, service tier and price period."""
    rows = []
    for model in table.models.values():
        for period in model.periods:
            rows.append(_period_row(model.name, DEFAULT_TIER, period, 1.0))
            for tier, factor in model.service_tiers.items():
                rows.append(_period_row(model.name, tier, period, factor))
    schema: dict[str, pl.DataType] = {
        "table_model": pl.String(), "tier": pl.String(), "since": pl.Datetime("us", "UTC"),
        **{f"p_{bucket}": pl.Float64() for _, bucket, _ in BUCKETS},
        "lc_threshold": pl.Int64(), "lc_inclusive": pl.Boolean(),
        **{f"lc_{bucket}": pl.Float64() for _, bucket, _ in BUCKETS},
    }
    return pl.DataFrame(rows, schema=schema).sort("since")


def _resolutions(models: list[str], table: PriceTable) -> pl.DataFrame:
    aliases = table.alias_map()
    resolved = [resolve_model(name, table, aliases) for name in models]
    return pl.DataFrame(
        {"model": [r.name for r in resolved], "table_model": [r.model for r in resolved],
         "uplift": [r.uplift for r in resolved]},
        schema={"model": pl.Categorical(), "table_model": pl.String(), "uplift": pl.Float64()})


def _tool_prices(tools: list[str], table: PriceTable) -> pl.DataFrame:
    prices = [resolve_tool(name, table) for name in tools]
    return pl.DataFrame(
        {"tool_name": tools, "price_per_call": [p.per_call if p else None for p in prices]},
        schema={"tool_name": pl.Categorical(), "price_per_call": pl.Float64()})


def _distinct(steps: pl.LazyFrame, column: str) -> list[str]:
    values = steps.select(pl.col(column).unique().drop_nulls().cast(pl.String)).collect()
    return sorted(values.to_series().to_list())


def _tier_name(raw: str | None) -> str:
    tier = (raw or DEFAULT_TIER).lower()
    return DEFAULT_TIER if tier in DEFAULT_TIER_NAMES else tier


def _lookup(models: list[str], tiers: list[str | None], table: PriceTable,
            rows: pl.DataFrame) -> pl.DataFrame:
    """Every (model name, service tier) pair in the steps, resolved and joined to its prices
    once: the steps then need one join on these few rows. Models with a price history keep
    their periods (several rows with `since`) for an as-of join."""
    resolutions = _resolutions(models, table).with_columns(
        pl.col("model").cast(pl.String))
    pairs = resolutions.join(
        pl.DataFrame({"service_tier": tiers, "tier": [_tier_name(t) for t in tiers]},
                     schema={"service_tier": pl.String(), "tier": pl.String()}),
        how="cross")
    listed = rows.select("table_model", "tier").unique().with_columns(
        pl.lit(True).alias("tier_listed"))
    return (pairs.join(listed, on=["table_model", "tier"], how="left")
            .join(rows, on=["table_model", "tier"], how="left")
            .with_columns(pl.col("model").cast(pl.Categorical),
                          pl.col("service_tier").fill_null("").alias("_tier_key"))
            .drop("service_tier"))


def price_steps(steps: pl.LazyFrame, table: PriceTable, *, cost_mode: str = "computed"
                ) -> pl.LazyFrame:
    """`cost_mode`: computed (our table), reported (the producer's own cost), or auto (the
    producer's where it recorded one, ours elsewhere)."""
    if cost_mode not in COST_MODES:
        raise ValueError(f"cost mode {cost_mode!r} is not one of {', '.join(COST_MODES)}")
    rows = price_rows(table)
    with_history = [model.name for model in table.models.values() if len(model.periods) > 1]
    tiers: list[str | None] = [None, *_distinct(steps, "service_tier")]
    lookup = _lookup(_distinct(steps, "model"), tiers, table, rows)
    keys = ["model", "_tier_key"]  # a null tier is "" here: as-of joins do not match nulls
    steps = steps.join(_tool_prices(_distinct(steps, "tool_name"), table).lazy(),
                       on="tool_name", how="left").with_columns(
        pl.col("service_tier").cast(pl.String).fill_null("").alias("_tier_key"))
    # Models with one price for all time: one plain join. Models with a price history: the
    # latest price whose `since` is on or before the step's start (an as-of join, which needs
    # its steps sorted by time, so only those steps pay for the sort).
    dated = lookup["table_model"].is_in(with_history)
    priced = steps.join(lookup.filter(~dated).drop("since").lazy(), on=keys, how="left")
    if with_history and dated.any():
        dated_keys = lookup.filter(dated).select(keys).unique()
        undated = priced.join(dated_keys.lazy(), on=keys, how="anti")
        dated_lookup = lookup.filter(dated)
        identity = ["table_model", "uplift", "tier", "tier_listed"]
        by_date = (
            steps.join(dated_lookup.select(*keys, *identity).unique(keys).lazy(), on=keys)
            .with_columns(pl.col("start_time").fill_null(FOREVER).alias("_at"))
            .sort("_at")
            .join_asof(dated_lookup.drop(identity).lazy(), left_on="_at", right_on="since",
                       by=keys, strategy="backward", check_sortedness=False)
            .drop("since", "_at")
        )
        priced = pl.concat([undated, by_date], how="vertical")
    return _costs(priced, table, cost_mode)


def _costs(priced: pl.LazyFrame, table: PriceTable, cost_mode: str) -> pl.LazyFrame:
    tokens = [pl.col(column).fill_null(0) for column, _, _ in BUCKETS]
    prompt = tokens[0] + tokens[1] + tokens[2] + tokens[3]
    threshold = pl.col("lc_threshold")
    long_context = threshold.is_not_null() & (
        (prompt > threshold) | (pl.col("lc_inclusive") & (prompt == threshold)))
    priced = priced.with_columns(long_context.alias("long_context_tier")).with_columns(
        pl.when(pl.col("long_context_tier")).then(pl.col(f"lc_{bucket}"))
        .otherwise(pl.col(f"p_{bucket}")).alias(f"price_{bucket}") for _, bucket, _ in BUCKETS)
    price = {bucket: pl.col(f"price_{bucket}") for _, bucket, _ in BUCKETS}
    has_tokens = pl.sum_horizontal(column for column, _, _ in BUCKETS) > 0
    token_counts_missing = pl.any_horizontal(pl.col(column).is_null() for column, _, _ in BUCKETS)
    reason: pl.Expr = pl.lit(None, pl.String())
    for column, bucket, words in reversed(BUCKETS):
        reason = (pl.when((pl.col(column) > 0) & price[bucket].is_null())
                  .then(pl.lit(f"no {words} price listed")).otherwise(reason))
    model = pl.col("model")
    reason = (
        pl.when(model.is_not_null() & token_counts_missing)
        .then(pl.lit("no token counts recorded"))
        .when(model.is_null() & has_tokens).then(pl.lit("no model recorded"))
        .when(model.is_not_null() & pl.col("table_model").is_null())
        .then(pl.lit("model not in price table"))
        .when(model.is_not_null() & pl.col("tier_listed").is_null())
        .then(pl.format("no {} tier price listed", pl.col("tier")))
        .when(model.is_not_null() & pl.col("p_input").is_null())
        .then(pl.lit("no price in force at the step's date"))
        .otherwise(reason)
    )
    bucket_costs = [
        pl.when(pl.col(column) > 0).then(pl.col(column) * price[bucket]).otherwise(0.0)
        for column, bucket, _ in BUCKETS
    ]
    llm_cost = pl.sum_horizontal(bucket_costs) / PER_MILLION * pl.col("uplift").fill_null(1.0)
    computed_tool = pl.when(pl.col("tool_name").is_null()).then(0.0).otherwise(
        pl.col("price_per_call"))
    per_second = pl.lit(table.compute_per_second)
    if table.compute_per_workflow:
        per_second = pl.col("workflow").cast(pl.String).replace_strict(
            table.compute_per_workflow, default=table.compute_per_second,
            return_dtype=pl.Float64)
    compute_cost = pl.col("duration_s").fill_null(0.0) * per_second
    reported = pl.col("reported_cost_usd")
    reported_tool = pl.col("reported_tool_cost_usd")
    is_call = pl.col("kind").is_in(["llm", "embedding"]) | model.is_not_null()
    computed: pl.Expr = pl.when(pl.col("computed_reason").is_null()).then(llm_cost)
    llm: pl.Expr
    final_reason: pl.Expr
    tool: pl.Expr
    if cost_mode == "computed":
        llm, final_reason, tool = computed, pl.col("computed_reason"), computed_tool
    elif cost_mode == "reported":
        llm = pl.when(is_call).then(reported).otherwise(0.0)
        final_reason = pl.when(is_call & reported.is_null()).then(
            pl.lit("no cost reported by the producer"))
        tool = pl.when(pl.col("tool_name").is_null()).then(0.0).otherwise(reported_tool)
    else:
        llm = pl.coalesce(reported, computed)
        final_reason = pl.when(reported.is_null()).then(pl.col("computed_reason"))
        tool = pl.coalesce(reported_tool, computed_tool)
    helpers = [f"{prefix}_{bucket}" for prefix in ("p", "lc", "price")
               for _, bucket, _ in BUCKETS]
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
            pl.sum_horizontal("llm_cost_usd", "tool_cost_usd", "compute_cost_usd")
            .alias("total_cost_usd"),
        )
        .drop(*helpers, "price_per_call", "computed_reason", "lc_threshold", "lc_inclusive",
              "tier_listed", "tier", "table_model", "uplift", "_tier_key", strict=False)
    )
