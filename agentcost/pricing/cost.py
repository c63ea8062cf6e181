"""Price canonical steps: lookups into the price table and arithmetic, all polars expressions.

Model names are resolved once per distinct name (pricing/resolve.py), tools once per distinct
tool; then every step is priced in one pass:

- the price in force at the step's start time (price history), for its service tier;
- the long-context tier for the whole request once its whole prompt (cache included) passes
  the model's threshold;
- tokens x price per bucket, times a regional uplift where the model name implies one.

Adds to each step, keeping the steps' order:
    long_context_tier   whether the request is billed at the model's long-context prices
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
from agentcost.pricing.table import (
    DEFAULT_TIER,
    Period,
    PriceSet,
    PriceTable,
    ServiceTier,
    TierPrices,
)

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
NOT_IN_TABLE = "model not in price table"  # the one reason a near name is suggested for
# Why a step's LLM call is unpriced, in the order the reasons are looked for (pricing's
# `checks`); a bucket's reason is looked for only when none before it holds.
REASONS = (
    "no token counts recorded",
    "no model recorded",
    "no model and no token counts recorded",
    NOT_IN_TABLE,
    "no {tier} tier price listed",
    "no price in force at the step's date",
    "no long-context {tier} tier price listed",
    *(f"no {words} price listed" for _, _, words in BUCKETS),
)
# A step's model and tier, and its tool, are looked up by their category codes in a table with a
# place for every code, when it needs at most this many (codes number the names this process
# has seen); beyond, by key or name.
MAX_LOOKUP_TABLE = 1 << 20
TIER_BITS = 33
BEGINNING = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FOREVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def has_unpriced_part() -> pl.Expr:
    """Whether a priced step has a part without a price (its LLM call or its tool call): its
    total is then the priced part only."""
    return pl.col("unpriced_reason").is_not_null() | pl.col("tool_unpriced")


def _bucket_prices(prices: PriceSet | None, prefix: str) -> dict[str, float | None]:
    values = {} if prices is None else {
        "input": prices.input, "cache_read": prices.cache_read,
        "cache_write_5m": prices.cache_write_5m, "cache_write_1h": prices.cache_write_1h,
        "output": prices.output,
        "reasoning": prices.output if prices.reasoning is None else prices.reasoning,
    }
    return {f"{prefix}{bucket}": values.get(bucket) for _, bucket, _ in BUCKETS}


def _period_row(model: str, tier: str, period: Period, prices: ServiceTier
                ) -> dict[str, object]:
    """A period's prices at a tier: the tier's own prices, or the period's times a factor.
    The long-context threshold is the period's either way; a tier that lists no long-context
    prices leaves the `lc_` prices null, and requests past the threshold unpriced."""
    long_context = period.long_context
    if isinstance(prices, TierPrices):
        base, above = prices.prices, prices.long_context
    else:
        base = period.prices.scaled(prices)
        above = None if long_context is None else long_context.prices.scaled(prices)
    since = BEGINNING if period.since is None else dt.datetime.combine(
        period.since, dt.time(), tzinfo=dt.UTC)
    return {
        "table_model": model, "tier": tier, "since": since,
        **_bucket_prices(base, "p_"),
        "lc_threshold": None if long_context is None else long_context.threshold,
        "lc_inclusive": None if long_context is None else long_context.inclusive,
        **_bucket_prices(above, "lc_"),
    }


def price_rows(table: PriceTable) -> pl.DataFrame:
    """One row per model, service tier and price period, numbered by `_period`. A tier's own
    prices are those of the current period only: a step from before it at that tier finds no
    price in force."""
    rows = []
    for model in table.models.values():
        for period in model.periods:
            rows.append(_period_row(model.name, DEFAULT_TIER, period, 1.0))
            for tier, prices in model.service_tiers.items():
                if isinstance(prices, float) or period is model.periods[-1]:
                    rows.append(_period_row(model.name, tier, period, prices))
    schema: dict[str, pl.DataType] = {
        "table_model": pl.String(), "tier": pl.String(), "since": pl.Datetime("us", "UTC"),
        **{f"p_{bucket}": pl.Float64() for _, bucket, _ in BUCKETS},
        "lc_threshold": pl.Int64(), "lc_inclusive": pl.Boolean(),
        **{f"lc_{bucket}": pl.Float64() for _, bucket, _ in BUCKETS},
    }
    return (pl.DataFrame(rows, schema=schema).sort("since")
            .with_row_index("_period").with_columns(pl.col("_period").cast(pl.UInt32)))


def _tool_prices(tools: pl.Series, table: PriceTable) -> dict[str, float]:
    """The price per call of every tool named in `tools` that the table prices."""
    names = sorted(tools.drop_nulls().unique().cast(pl.String).to_list())
    prices = {name: resolve_tool(name, table) for name in names}
    return {name: price.per_call for name, price in prices.items() if price is not None}


def _tool_price(tools: pl.Series, table: PriceTable) -> pl.Expr:
    """Each step's tool's price per call (null: not in the table), `tools` the steps' tools:
    from a table with a place for every tool's category code when the codes are few (one
    gather), else by name."""
    prices = _tool_prices(tools, table)
    codes = tools.to_physical().to_list()
    if max(codes, default=0) >= MAX_LOOKUP_TABLE:
        return pl.col("tool_name").replace_strict(prices, default=None,
                                                  return_dtype=pl.Float64)
    by_code: list[float | None] = [None] * (max(codes, default=0) + 1)
    for code, name in zip(codes, tools.cast(pl.String).to_list(), strict=True):
        by_code[code] = prices.get(name)
    return pl.lit(pl.Series(by_code, dtype=pl.Float64)).gather(
        pl.col("tool_name").cast(pl.Categorical).to_physical())


def _tier_name(raw: str | None) -> str:
    tier = (raw or DEFAULT_TIER).lower()
    return DEFAULT_TIER if tier in DEFAULT_TIER_NAMES else tier


def _pair_key(model_factor: int = 1 << TIER_BITS) -> pl.Expr:
    """A step's model and service tier as one integer, from their category codes: null
    without a model. A code numbers the distinct names this process has seen: under 2**31
    (billions of names) it leaves the tier's code + 1, under 2**33, its own bits.
    `model_factor`: above every tier's code + 1 (the key then numbers the pairs densely)."""
    model = pl.col("model").cast(pl.Categorical).to_physical().cast(pl.UInt64)
    tier = (pl.col("service_tier").cast(pl.Categorical).to_physical().cast(pl.UInt64) + 1
            ).fill_null(0)
    return (model * model_factor + tier).alias("_key")


def _pair_of_step(pairs: pl.DataFrame) -> pl.Expr:
    """Each step's row in `pairs` (_pairs): from a table with a place for every code pair
    when the codes are few (one gather), else by its key."""
    keys = pairs["_key"].to_list()
    tiers = max((key & ((1 << TIER_BITS) - 1) for key in keys), default=0) + 1
    models = max((key >> TIER_BITS for key in keys), default=0) + 1
    if models * tiers > MAX_LOOKUP_TABLE:
        return _pair_key().replace_strict(pairs["_key"], pairs["_pair"], default=None,
                                          return_dtype=pl.UInt32).alias("_pair")
    table: list[int | None] = [None] * (models * tiers)
    for key, row in zip(keys, pairs["_pair"].to_list(), strict=True):
        table[(key >> TIER_BITS) * tiers + (key & ((1 << TIER_BITS) - 1))] = row
    return pl.lit(pl.Series(table, dtype=pl.UInt32)).gather(_pair_key(tiers)).alias("_pair")


def _pairs(distinct: pl.DataFrame, table: PriceTable, periods: pl.DataFrame) -> pl.DataFrame:
    """One row per (model name, service tier) in `distinct` (`_key`: _pair_key), numbered by
    `_pair`: the table entry the name resolves to, its regional uplift, the tier it is billed
    at, whether the table lists that tier, and `_period`, its price row when the model has
    one price for all time (a model with a price history, or tier prices from a date, has
    its row picked per step, by date)."""
    distinct = (distinct.drop_nulls("_key")
                .select("_key", "model",
                        pl.col("service_tier").cast(pl.String).fill_null("").alias("_tier_key"))
                .sort(pl.col("model").cast(pl.String), "_tier_key"))
    aliases = table.alias_map()
    resolved = [resolve_model(name, table, aliases)
                for name in distinct["model"].cast(pl.String).to_list()]
    periods_of = periods.group_by("table_model", "tier").agg(
        pl.len().alias("_periods"), pl.col("_period").first(),
        (pl.col("since").first() == BEGINNING).alias("_always"))
    return (
        distinct.with_columns(
            pl.Series("table_model", [r.model for r in resolved], pl.String()),
            pl.Series("uplift", [r.uplift for r in resolved], pl.Float64()),
            pl.col("_tier_key").replace_strict(
                {key: _tier_name(key or None) for key in distinct["_tier_key"].unique()},
                return_dtype=pl.String()).alias("tier"))
        .join(periods_of, on=["table_model", "tier"], how="left", maintain_order="left")
        .with_columns(pl.col("_periods").is_not_null().alias("tier_listed"),
                      pl.when((pl.col("_periods") == 1) & pl.col("_always"))
                      .then(pl.col("_period")).alias("_period"))
        .drop("_always")
        .with_row_index("_pair")
        .with_columns(pl.col("_pair").cast(pl.UInt32))
    )


def _indexed(steps: pl.LazyFrame, pairs: pl.DataFrame, periods: pl.DataFrame
             ) -> pl.LazyFrame:
    """`steps` with, for every step, its row in `pairs` (`_pair`) and its price row in
    `periods` (`_period`; null: unpriced), computed as the steps are, chunk by chunk. Models
    with a price history take the latest price whose `since` is on or before the step's
    start: an as-of join, which needs its steps sorted by time, so only those steps pay for
    the sort."""
    pair = _pair_of_step(pairs)
    dated = pairs.filter(pl.col("tier_listed") & pl.col("_period").is_null())
    if not dated.height:
        return steps.with_columns(pair).with_columns(
            pl.lit(pairs["_period"]).gather(pl.col("_pair")).alias("_period"))
    present = steps.select(pair, pl.col("start_time").fill_null(FOREVER).alias("_at")).collect()
    by_date = (
        present.with_row_index("_row")
        .filter(pl.col("_pair").is_in(dated["_pair"].implode()))
        .sort("_at")
        .join_asof(
            dated.select("_pair", "table_model", "tier")
            .join(periods.select("table_model", "tier", "since", "_period"),
                  on=["table_model", "tier"]).sort("since").drop("table_model", "tier"),
            left_on="_at", right_on="since", by="_pair", strategy="backward",
            check_sortedness=False)
    )
    period = pairs["_period"].gather(present["_pair"]).scatter(by_date["_row"],
                                                              by_date["_period"])
    return steps.with_columns(pl.lit(present["_pair"]).alias("_pair"),
                              pl.lit(period).alias("_period"))


def price_steps(steps: pl.LazyFrame, table: PriceTable, *, cost_mode: str = "computed"
                ) -> pl.LazyFrame:
    """`cost_mode`: computed (our table), reported (the producer's own cost), or auto (the
    producer's where it recorded one, ours elsewhere).

    The steps are never joined: each step gets two row numbers (its model and tier, its price
    period) and every price is a gather from the small price frames inside the cost
    expressions, so pricing adds the cost columns and nothing else to memory."""
    if cost_mode not in COST_MODES:
        raise ValueError(f"cost mode {cost_mode!r} is not one of {', '.join(COST_MODES)}")
    periods = price_rows(table)
    # What the steps need looked up: their distinct models and tiers, and tools; and what
    # they hold at all, so that no step is checked for what none of them has.
    distinct, tools, held = pl.collect_all([
        steps.select(_pair_key(), pl.col("model", "service_tier").cast(pl.Categorical))
        .unique("_key"),
        steps.select(pl.col("tool_name").cast(pl.Categorical).drop_nulls().unique()),
        steps.select(pl.col("model").null_count().alias("models_missing"),
                     *(pl.col(column).max().alias(f"most_{column}") for column, _, _ in BUCKETS),
                     *(pl.col(column).null_count().alias(f"missing_{column}")
                       for column, _, _ in BUCKETS))])
    pairs = _pairs(distinct, table, periods)
    return _costs(_indexed(steps, pairs, periods), pairs, periods,
                  _tool_price(tools["tool_name"], table), table,
                  cost_mode, held.row(0, named=True))


def _both_ways(periods: pl.DataFrame, bucket: str) -> pl.Series:
    """A bucket's price in each period below its long-context threshold, then past it."""
    below, past = periods[f"p_{bucket}"].to_list(), periods[f"lc_{bucket}"].to_list()
    return pl.Series([price for prices in zip(below, past, strict=True) for price in prices],
                     dtype=pl.Float64)


def _price_missing(periods: pl.DataFrame, bucket: str) -> bool:
    """Whether some period lists no price for a bucket, below its long-context threshold or
    past one it has."""
    return bool(periods[f"p_{bucket}"].null_count() or periods.filter(
        pl.col("lc_threshold").is_not_null() & pl.col(f"lc_{bucket}").is_null()).height)


def _reason_words(tiers: pl.Series) -> pl.Series:
    """The words of each reason in REASONS for each pair (at least one), at
    `reason x pairs + pair`: the tier's own reasons name the pair's tier."""
    names = tiers.to_list() or [DEFAULT_TIER]
    return pl.Series([words.format(tier=tier) for words in REASONS for tier in names],
                     dtype=pl.String)


def _costs(priced: pl.LazyFrame, pairs: pl.DataFrame, periods: pl.DataFrame,
           tool_price: pl.Expr, table: PriceTable, cost_mode: str,
           held: dict[str, int | None]) -> pl.LazyFrame:
    """The cost columns. `held`: what the steps hold at all (price_steps): a bucket no step
    has tokens in costs nothing anywhere and lacks no price, a check that holds for no step
    is not made."""
    def of_pair(values: pl.Series) -> pl.Expr:
        return pl.lit(values).gather(pl.col("_pair"))

    def of_period(values: pl.Series) -> pl.Expr:
        return pl.lit(values).gather(pl.col("_period"))

    tokens = [pl.col(column).fill_null(0) for column, _, _ in BUCKETS]
    prompt = tokens[0] + tokens[1] + tokens[2] + tokens[3]
    threshold = of_period(periods["lc_threshold"])
    long_context = threshold.is_not_null() & (
        (prompt > threshold) | (of_period(periods["lc_inclusive"]) & (prompt == threshold)))
    # A step's prices are its period's row, below or past the long-context threshold: one
    # gather per bucket from the periods' prices listed both ways, period by period.
    price_row = pl.col("_period") * 2 + pl.col("long_context_tier").cast(pl.UInt32)
    # Buckets some step has tokens in: the others add 0 to every step's cost.
    used = [(column, bucket) for column, bucket, _ in BUCKETS
            if (held[f"most_{column}"] or 0) > 0]
    price = {bucket: pl.lit(_both_ways(periods, bucket)).gather(price_row)
             for _, bucket in used}
    has_tokens = pl.sum_horizontal(column for column, _, _ in BUCKETS) > 0
    token_counts_missing = pl.any_horizontal(pl.col(column).is_null() for column, _, _ in BUCKETS)
    known = pl.col("model").is_not_null()
    llm_kind = pl.col("kind").is_in(["llm", "embedding"]).fill_null(False)
    models_missing = bool(held["models_missing"])
    held_periods = periods.join(pairs.select("table_model", "tier").drop_nulls().unique(),
                                on=["table_model", "tier"], how="semi")
    # Every model's price row, when each model has one for all time.
    rows = pairs["_period"] if pairs["_period"].null_count() == 0 else None
    # Why a step's LLM call has no price: the first that holds, as a number (REASONS), then
    # its words, the tier named where the reason is the tier's. (None: holds for no step.)
    checks: list[pl.Expr | None] = [
        known & token_counts_missing
        if any(held[f"missing_{column}"] for column, _, _ in BUCKETS) else None,
        ~known & has_tokens if models_missing else None,
        # A model call that records neither: its cost is unknown, not $0.
        ~known & llm_kind if models_missing else None,
        known & of_pair(pairs["table_model"].is_null())
        if pairs["table_model"].null_count() else None,
        known & ~of_pair(pairs["tier_listed"]) if not pairs["tier_listed"].all() else None,
        known & of_period(periods["p_input"]).is_null()
        if rows is None or periods["p_input"].gather(rows).null_count() else None,
        known & pl.col("long_context_tier") & of_period(periods["lc_input"]).is_null()
        if rows is None or periods.filter(
            pl.col("_period").is_in(rows.implode()) & pl.col("lc_threshold").is_not_null()
            & pl.col("lc_input").is_null()).height else None,
        # A step without a price row has a reason above: only a listed price can be missing,
        # in a period of the steps' models and tiers.
        *((pl.col(column) > 0) & price[bucket].is_null()
          if bucket in price and _price_missing(held_periods, bucket) else None
          for column, bucket, _ in BUCKETS),
    ]
    code: pl.Expr = pl.lit(None, pl.UInt32)
    for number, check in reversed(list(enumerate(checks))):
        if check is not None:
            code = pl.when(check).then(pl.lit(number, pl.UInt32)).otherwise(code)
    width = max(pairs.height, 1)
    reason = pl.lit(_reason_words(pairs["tier"])).gather(
        code * width + pl.col("_pair").fill_null(0))
    if all(check is None for check in checks):  # every step's call is priced
        reason = pl.lit(None, pl.String)
    bucket_costs = [
        pl.when(pl.col(column) > 0).then(pl.col(column) * price[bucket]).otherwise(0.0)
        for column, bucket in used
    ] or [pl.lit(0.0)]
    llm_cost = (pl.sum_horizontal(bucket_costs) / PER_MILLION
                * of_pair(pairs["uplift"]).fill_null(1.0))
    computed_tool = pl.when(pl.col("tool_name").is_null()).then(0.0).otherwise(tool_price)
    per_second = pl.lit(table.compute_per_second)
    if table.compute_per_workflow:
        per_second = pl.col("workflow").cast(pl.String).replace_strict(
            table.compute_per_workflow, default=table.compute_per_second,
            return_dtype=pl.Float64)
    compute_cost = pl.col("duration_s").fill_null(0.0) * per_second
    reported = pl.col("reported_cost_usd")
    reported_tool = pl.col("reported_tool_cost_usd")
    is_call = pl.col("kind").is_in(["llm", "embedding"]) | known
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
    return (
        priced.with_columns(long_context.alias("long_context_tier"))
        .with_columns(reason.alias("computed_reason"))
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
        .drop("computed_reason", "_pair", "_period")
    )
