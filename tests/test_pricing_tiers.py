"""Service tiers priced per model as the providers list them, with hand-computed costs: the
shipped table's tier prices, a tier's own long-context prices, and the checks on both."""

from __future__ import annotations

import pytest

from agentcost.errors import PriceTableError
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table

MILLION = 1_000_000


@pytest.fixture(scope="module")
def table():
    return load_price_table()


def cost_of(write_jsonl, table, record):
    steps = read_steps([str(write_jsonl([{"task_id": "t", **record}]))]).steps
    row = price_steps(steps.lazy(), table).collect().row(0, named=True)
    return row["llm_cost_usd"], row["unpriced_reason"]


@pytest.mark.parametrize(("model", "bucket", "expected"), [
    # Priority is not one multiplier: each model's listed price (LiteLLM 1.110.2 *_priority).
    ("gpt-5", "input_tokens", 2.50),            # 2x of 1.25 (a flat 1.7x gave 2.125)
    ("gpt-5", "output_tokens", 20.00),
    ("gpt-5-mini", "input_tokens", 0.45),       # 1.8x of 0.25
    ("o4-mini", "input_tokens", 2.00),          # 2 / 8, against 1.10 / 4.40
    ("o4-mini", "output_tokens", 8.00),
    ("gpt-4.1", "input_tokens", 3.50),          # 1.75x of 2.00
    ("gpt-4.1-mini", "output_tokens", 2.80),    # 1.75x of 1.60
    ("o3", "output_tokens", 14.00),             # 1.75x of 8.00
    ("gpt-4o-mini", "input_tokens", 0.25),      # 0.25 / 1.00, not 1.7 x 0.15 = 0.255
    ("gpt-4o-mini", "output_tokens", 1.00),
    ("gemini-2.5-pro", "output_tokens", 18.00),
])
def test_priority_a_million_tokens_costs_the_listed_price(write_jsonl, table, model, bucket,
                                                          expected):
    # One bucket of 1,000,000 tokens: the cost is the listed price per 1M, to the cent.
    record = {"model": model, "input_tokens": 0, "output_tokens": 0, bucket: MILLION,
              "service_tier": "priority"}
    cost, reason = cost_of(write_jsonl, table, record)
    assert reason is None
    assert cost == pytest.approx(expected)


def test_priority_cached_input_is_the_listed_cache_price(write_jsonl, table):
    # gpt-5 priority: 1,000,000 prompt tokens of which 400,000 cached:
    # 600,000 x 2.50 + 400,000 x 0.25 = 1.50 + 0.10
    cost, _ = cost_of(write_jsonl, table, {"model": "gpt-5", "input_tokens": MILLION,
                                           "cache_read_tokens": 400_000, "output_tokens": 0,
                                           "service_tier": "priority"})
    assert cost == pytest.approx(1.60)


@pytest.mark.parametrize(("cache_read", "uncached", "expected"), [
    # Gemini batch halves input and output but keeps the cache-read price.
    # Under 200k: 100,000 x 0.625 + 50,000 x 0.125 + 10,000 x 5.00 per 1M
    (50_000, 100_000, (100_000 * 0.625 + 50_000 * 0.125 + 10_000 * 5.0) / MILLION),
    # Over 200k (250,000 prompt): every bucket at batch long-context prices:
    # 100,000 x 1.25 + 150,000 x 0.25 + 10,000 x 7.50 per 1M = 0.2375
    (150_000, 100_000, (100_000 * 1.25 + 150_000 * 0.25 + 10_000 * 7.5) / MILLION),
])
def test_gemini_batch_keeps_the_cache_read_price(write_jsonl, table, cache_read, uncached,
                                                 expected):
    cost, reason = cost_of(write_jsonl, table, {
        "model": "gemini-2.5-pro", "uncached_input_tokens": uncached,
        "cache_read_tokens": cache_read, "output_tokens": 10_000, "service_tier": "batch"})
    assert reason is None
    assert cost == pytest.approx(expected)


def test_gemini_batch_cache_read_above_200k_is_a_quarter_dollar(write_jsonl, table):
    # 1,000,000 cache-read tokens alone make the prompt pass 200k: $0.25 per 1M (halved it
    # would be $0.125)
    cost, _ = cost_of(write_jsonl, table, {"model": "gemini-2.5-pro", "uncached_input_tokens": 0,
                                           "cache_read_tokens": MILLION, "output_tokens": 0,
                                           "service_tier": "batch"})
    assert cost == pytest.approx(0.25)


def test_openai_batch_stays_a_flat_half(write_jsonl, table):
    # gpt-5 batch: half of every price, cache reads included (0.0625):
    # 600,000 x 0.625 + 400,000 x 0.0625 + 100,000 x 5 per 1M = 0.375 + 0.025 + 0.5
    cost, _ = cost_of(write_jsonl, table, {"model": "gpt-5", "input_tokens": MILLION,
                                           "cache_read_tokens": 400_000,
                                           "output_tokens": 100_000, "service_tier": "batch"})
    assert cost == pytest.approx(0.9)


@pytest.mark.parametrize(("prompt", "expected", "reason"), [
    # gpt-5.5 priority lists no long-context price: at the threshold (exclusive) it is the
    # priority price, 272,000 x 12.50 per 1M; past it, unpriced rather than a guess.
    (272_000, 272_000 * 12.5 / MILLION, None),
    (272_001, None, "no long-context priority tier price listed"),
])
def test_a_tier_without_long_context_prices_leaves_long_requests_unpriced(
        write_jsonl, table, prompt, expected, reason):
    cost, why = cost_of(write_jsonl, table, {"model": "gpt-5.5", "input_tokens": prompt,
                                             "output_tokens": 0, "service_tier": "priority"})
    assert why == reason
    assert cost == (None if expected is None else pytest.approx(expected))


def test_a_flat_factor_scales_the_long_context_prices(write_jsonl, table):
    # gpt-5.5 batch: 0.5 x the long-context prices: 300,000 x 10.00 / 2 + 1,000 x 45.00 / 2
    cost, _ = cost_of(write_jsonl, table, {"model": "gpt-5.5", "input_tokens": 300_000,
                                           "output_tokens": 1_000, "service_tier": "batch"})
    assert cost == pytest.approx((300_000 * 5.0 + 1_000 * 22.5) / MILLION)


HISTORY_WITH_TIER = """\
models:
  m:
    input: 2
    output: 8
    since: 2025-06-01
    history:
      - since: 2025-01-01
        input: 4
        output: 16
    service_tiers:
      priority: {input: 3, output: 12}
      batch: 0.5
"""


@pytest.mark.parametrize(("start", "tier", "expected", "reason"), [
    ("2025-07-01T00:00:00Z", "priority", 1_000 * 3 / MILLION, None),
    # The listed tier prices are the current period's: before it, no price is in force.
    ("2025-03-01T00:00:00Z", "priority", None, "no price in force at the step's date"),
    # A flat factor scales whichever period is in force: 1,000 x 4 x 0.5
    ("2025-03-01T00:00:00Z", "batch", 1_000 * 4 * 0.5 / MILLION, None),
])
def test_listed_tier_prices_belong_to_the_current_period(write_jsonl, write_prices, start, tier,
                                                         expected, reason):
    table = load_price_table(write_prices(HISTORY_WITH_TIER))
    cost, why = cost_of(write_jsonl, table, {"model": "m", "input_tokens": 1_000,
                                             "output_tokens": 0, "service_tier": tier,
                                             "start_time": start})
    assert why == reason
    assert cost == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(("text", "line", "message"), [
    ("models:\n  m:\n    input: 1\n    output: 2\n    service_tiers:\n      batch:\n"
     "        input: 0.5\n        output: 1\n        long_context: {input: 1, output: 2}\n",
     9, "lists long_context prices, but the model has no long_context tier"),
    ("models:\n  m:\n    input: 1\n    output: 2\n    long_context: {above: 10, input: 2, "
     "output: 4}\n    service_tiers:\n      batch:\n        input: 0.5\n        output: 1\n"
     "        long_context:\n          above: 20\n          input: 1\n          output: 2\n",
     11, "uses the model's own threshold"),
    ("models:\n  m:\n    input: 1\n    output: 2\n    service_tiers:\n      priority:\n"
     "        input: 2\n", 6, "needs an 'output' price"),
])
def test_tier_price_errors_name_the_line(write_prices, text, line, message):
    path = write_prices(text)
    with pytest.raises(PriceTableError) as raised:
        load_price_table(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert message in str(raised.value)


def test_pricing_show_lists_a_tiers_own_long_context_prices(run_cli):
    result = run_cli("pricing", "show", "gemini-2.5-pro")
    assert result.exit_code == 0, result.stderr
    assert "  batch tier: input 0.625  output 5  cache read 0.125" in result.stdout
    assert "    prompts above 200,000 tokens: input 1.25  output 7.5  cache read 0.25" \
        in result.stdout
    five_five = run_cli("pricing", "show", "gpt-5.5").stdout
    assert "  batch tier: x0.5 the model's prices" in five_five
    assert "  priority tier: input 12.5  output 75  cache read 1.25" in five_five
    assert "    prompts above 272,000 tokens: not listed: unpriced" in five_five


@pytest.mark.parametrize("pair_table", [1 << 20, 0])
def test_each_step_finds_its_model_and_tier_by_position_or_by_key(write_jsonl, table,
                                                                  monkeypatch, pair_table):
    # 1,000,000 input tokens each: gpt-5 at 1.25 (no tier), 2.50 (priority), 1.25 ("default"
    # is the standard tier); gpt-4o-mini at 0.15 (no tier), 0.25 (priority); an unknown model
    # unpriced. Tools: web_search $0.005 a call, read_page $0.001, an unknown tool unpriced,
    # none $0. Looked up in tables by their codes, or (none fits in 0) by key and name.
    from agentcost.pricing import cost

    monkeypatch.setattr(cost, "MAX_LOOKUP_TABLE", pair_table)
    records = [{"model": model, "input_tokens": MILLION, "output_tokens": 0,
                **({"service_tier": tier} if tier else {}), **({"tool_name": tool} if tool else {})}
               for model, tier, tool in [
                   ("gpt-5", None, "web_search"), ("gpt-5", "priority", "read_page"),
                   ("gpt-5", "default", None), ("gpt-4o-mini", None, "no_such_tool"),
                   ("gpt-4o-mini", "priority", "web_search"), ("no-such-model", "priority", None)]]
    steps = read_steps([str(write_jsonl([{"task_id": "t", **r} for r in records]))]).steps
    priced = price_steps(steps.lazy(), table).collect()
    assert priced["llm_cost_usd"].to_list() == pytest.approx(
        [1.25, 2.50, 1.25, 0.15, 0.25, None])
    assert priced["unpriced_reason"].to_list()[-1] == "model not in price table"
    assert priced["tool_cost_usd"].to_list() == [0.005, 0.001, 0.0, None, 0.005, 0.0]
