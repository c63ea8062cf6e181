"""Hand-computed costs for the pricing rules that peers get wrong, with the shipped table."""

from __future__ import annotations

import polars as pl
import pytest

from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.resolve import resolve_model
from agentcost.pricing.table import load_price_table


@pytest.fixture(scope="module")
def table():
    return load_price_table()


def cost_of(write_jsonl, table, record):
    steps = read_steps([str(write_jsonl([{"task_id": "t", **record}]))]).steps
    row = price_steps(steps.lazy(), table).collect().row(0, named=True)
    return row["llm_cost_usd"], row["unpriced_reason"]


def test_openai_cached_input_and_reasoning(write_jsonl, table):
    # o3: 10,000 prompt tokens of which 4,000 cached; 2,000 completion tokens, reasoning
    # included (OpenAI counts it in completion tokens): 6,000 x 2 + 4,000 x 0.5 + 2,000 x 8
    cost, _ = cost_of(write_jsonl, table, {"model": "o3-2025-04-16", "input_tokens": 10_000,
                                           "cache_read_tokens": 4_000, "output_tokens": 2_000})
    assert cost == pytest.approx((6_000 * 2 + 4_000 * 0.5 + 2_000 * 8) / 1e6)


def test_anthropic_cache_writes_5m_and_1h_and_reads(write_jsonl, table):
    cost, _ = cost_of(write_jsonl, table, {
        "model": "claude-sonnet-4-5-20250929", "uncached_input_tokens": 100,
        "cache_read_tokens": 2_000, "cache_write_5m_tokens": 1_000,
        "cache_write_1h_tokens": 4_000, "output_tokens": 300})
    assert cost == pytest.approx((100 * 3 + 2_000 * 0.30 + 1_000 * 3.75 + 4_000 * 6
                                  + 300 * 15) / 1e6)


@pytest.mark.parametrize(("prompt", "expected"), [
    (199_999, (199_999 * 1.25 + 1_000 * 10) / 1e6),   # under: base prices
    (200_000, (200_000 * 1.25 + 1_000 * 10) / 1e6),   # at: still base (the threshold is exclusive)
    (200_001, (200_001 * 2.50 + 1_000 * 15) / 1e6),   # over: every bucket at the tier
])
def test_gemini_long_context_is_whole_request(write_jsonl, table, prompt, expected):
    cost, _ = cost_of(write_jsonl, table, {"model": "gemini-2.5-pro", "input_tokens": prompt,
                                           "output_tokens": 1_000})
    assert cost == pytest.approx(expected)


def test_long_context_counts_cached_tokens_in_the_prompt(write_jsonl, table):
    # 150,000 uncached + 60,000 cache reads = 210,000 prompt: the tier applies to both
    cost, _ = cost_of(write_jsonl, table, {"model": "gemini-2.5-pro", "input_tokens": 210_000,
                                           "cache_read_tokens": 60_000, "output_tokens": 10})
    assert cost == pytest.approx((150_000 * 2.50 + 60_000 * 0.25 + 10 * 15) / 1e6)


def test_batch_tier(write_jsonl, table):
    cost, _ = cost_of(write_jsonl, table, {"model": "gpt-4o", "input_tokens": 10_000,
                                           "output_tokens": 1_000, "service_tier": "batch"})
    assert cost == pytest.approx((10_000 * 2.5 + 1_000 * 10) * 0.5 / 1e6)
    cost, reason = cost_of(write_jsonl, table, {"model": "gpt-4o-mini", "input_tokens": 10,
                                                "service_tier": "scale"})
    assert cost is None and reason == "no scale tier price listed"
    cost, _ = cost_of(write_jsonl, table, {"model": "gpt-4o", "input_tokens": 1_000,
                                           "service_tier": "default"})
    assert cost == pytest.approx(1_000 * 2.5 / 1e6)


def test_bedrock_geo_profile_uplift(write_jsonl, table):
    cost, _ = cost_of(write_jsonl, table, {
        "model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "uncached_input_tokens": 1_000,
        "output_tokens": 100})
    assert cost == pytest.approx((1_000 * 3 + 100 * 15) * 1.1 / 1e6)
    global_profile, _ = cost_of(write_jsonl, table, {
        "model": "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "uncached_input_tokens": 1_000, "output_tokens": 100})
    assert global_profile == pytest.approx((1_000 * 3 + 100 * 15) / 1e6)


def test_deepseek_2025_call_gets_the_price_then_in_force(write_jsonl, table):
    old, _ = cost_of(write_jsonl, table, {"model": "deepseek-chat", "input_tokens": 1_000,
                                          "output_tokens": 1_000,
                                          "timestamp": "2025-06-01T12:00:00Z"})
    new, _ = cost_of(write_jsonl, table, {"model": "deepseek-chat", "input_tokens": 1_000,
                                          "output_tokens": 1_000,
                                          "timestamp": "2025-10-01T12:00:00Z"})
    assert old == pytest.approx((1_000 * 0.27 + 1_000 * 1.10) / 1e6)
    assert new == pytest.approx((1_000 * 0.28 + 1_000 * 0.42) / 1e6)
    before, reason = cost_of(write_jsonl, table, {"model": "deepseek-chat", "input_tokens": 1,
                                                  "timestamp": "2024-06-01T00:00:00Z"})
    assert before is None and reason == "no price in force at the step's date"


def test_mixed_steps_keep_their_order_and_each_its_own_price(write_jsonl, table):
    # Dated (price history), undated, unknown and tool-only steps in one log, times out of
    # order: every priced row stays where it was and gets the price of its own date.
    records = [
        {"task_id": "t", "model": "deepseek-chat", "input_tokens": 1_000,
         "timestamp": "2025-10-01T00:00:00Z"},
        {"task_id": "t", "model": "gpt-4o", "input_tokens": 1_000,
         "timestamp": "2025-01-01T00:00:00Z"},
        {"task_id": "t", "model": "deepseek-chat", "input_tokens": 1_000,
         "timestamp": "2025-06-01T00:00:00Z"},
        {"task_id": "t", "model": "no-such-model", "input_tokens": 1_000,
         "timestamp": "2025-03-01T00:00:00Z"},
        {"task_id": "t", "tool_name": "web_search", "timestamp": "2025-02-01T00:00:00Z"},
        {"task_id": "t", "model": "deepseek-chat", "input_tokens": 1_000,
         "timestamp": "2024-01-01T00:00:00Z"},
    ]
    steps = read_steps([str(write_jsonl(records))]).steps.sort("source_line")
    priced = price_steps(steps.lazy(), table).collect()
    assert priced["source_line"].to_list() == [1, 2, 3, 4, 5, 6]
    assert priced["llm_cost_usd"].to_list() == pytest.approx(
        [0.28e-3, 2.50e-3, 0.27e-3, None, 0.0, None], nan_ok=True)
    assert priced["unpriced_reason"].to_list() == [
        None, None, None, "model not in price table", None,
        "no price in force at the step's date"]
    assert priced["tool_cost_usd"].to_list()[4] == pytest.approx(0.005)


@pytest.mark.parametrize("name", ["gpt-4o-2025-01-01", "claude-sonnet-4-5-20991231",
                                  "gpt-4o-turbo", "openai/gpt-4o-2099-01-01"])
def test_unknown_dated_model_stays_unpriced(write_jsonl, table, name):
    cost, reason = cost_of(write_jsonl, table, {"model": name, "input_tokens": 100})
    assert cost is None and reason == "model not in price table"


def test_sibling_snapshot_is_not_its_sibling(table):
    assert resolve_model("gpt-4o-2024-05-13", table).model == "gpt-4o-2024-05-13"
    assert table.models["gpt-4o-2024-05-13"].input == 5.0
    assert resolve_model("gpt-4o-2024-08-06", table).model == "gpt-4o"


@pytest.mark.parametrize(("name", "model", "uplift"), [
    ("openai/gpt-4o", "gpt-4o", 1.0),
    ("azure/gpt-4o-mini", "gpt-4o-mini", 1.0),
    ("gemini/gemini-2.5-pro", "gemini-2.5-pro", 1.0),
    ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5", 1.0),
    ("bedrock/eu.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5", 1.1),
    ("us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5", 1.2),
    ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku", 1.0),
    ("azure/eu/gpt-4o", "gpt-4o", 1.1),
    ("vertex_ai/gemini-2.0-flash", "gemini-2.0-flash", 1.5),
    ("gemini/gemini-2.0-flash", "gemini-2.0-flash", 1.0),
])
def test_name_resolution(table, name, model, uplift):
    resolution = resolve_model(name, table)
    assert (resolution.model, resolution.uplift) == (model, uplift)


def test_tool_patterns_and_compute_per_workflow(write_jsonl, write_prices):
    prices = write_prices("""
extends: default    # no models of its own: a table with none at all is refused
tools:
  web_search: {per_call: 0.01}
  "mcp_*": {per_call: 0.002}
compute:
  per_second: 0.001
  workflows: {research: 0.01}
""")
    table = load_price_table(prices)
    path = write_jsonl([
        {"task_id": "a", "tool": "web_search", "duration_s": 2, "workflow": "research"},
        {"task_id": "a", "tool": "mcp_fetch", "duration_s": 2, "workflow": "support"},
        {"task_id": "a", "tool": "local_fn", "duration_s": 1},
    ])
    steps = read_steps([str(path)]).steps
    priced = price_steps(steps.lazy(), table).collect().sort("source_line")
    assert priced["tool_cost_usd"].to_list() == [0.01, 0.002, None]
    assert priced["compute_cost_usd"].to_list() == pytest.approx([0.02, 0.002, 0.001])
    assert isinstance(priced, pl.DataFrame)
