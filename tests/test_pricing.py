"""The price table loader and costing, checked against hand-computed costs."""

from __future__ import annotations

import json

import polars as pl
import pytest

from agentcost.errors import PriceTableError
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table
from tests.conftest import REAL_TRACES

PRICES = """\
version: 1
models:
  gpt-4o:
    input: 2.50
    output: 10.00
    cache_read: 1.25
  claude-sonnet-4-5:
    input: 3
    output: 15
    cache_read: 0.30
    cache_write_5m: 3.75
    cache_write_1h: 6
  gemini-2.5-flash:
    input: 0.30
    output: 2.50
  old-model:
    input: 1
    output: 2
tools:
  web_search:
    per_call: 0.01
compute:
  per_second: 0.0001
"""


def priced(write_jsonl, write_prices, records):
    table = load_price_table(write_prices(PRICES))
    steps = read_steps([str(write_jsonl(records))]).steps
    return price_steps(steps.lazy(), table).collect().sort("source_line")


def test_hand_computed_costs(write_jsonl, write_prices):
    frame = priced(write_jsonl, write_prices, [
        # 10,000 prompt of which 6,000 cached: 4,000 x 2.50 + 6,000 x 1.25 + 500 x 10 per 1M
        {"task_id": "a", "model": "gpt-4o", "input_tokens": 10_000, "cache_read_tokens": 6_000,
         "output_tokens": 500},
        # Anthropic-style additive counts: 100 x 3 + 2,000 x 0.30 + 1,000 x 3.75 + 4,000 x 6
        # + 300 x 15
        {"task_id": "b", "model": "claude-sonnet-4-5", "input_tokens": 100,
         "cache_read_tokens": 2_000, "cache_write_5m_tokens": 1_000,
         "cache_write_1h_tokens": 4_000, "output_tokens": 300},
        # Gemini thinking billed apart, at the output rate: 1,000 x 0.30 + (200 + 800) x 2.50
        {"task_id": "c", "model": "gemini-2.5-flash", "input_tokens": 1_000,
         "output_tokens": 200, "reasoning_tokens": 800},
        # Tool call and 12.5 s of compute
        {"task_id": "d", "tool_name": "web_search", "duration_s": 12.5},
    ])
    assert frame["llm_cost_usd"].to_list() == pytest.approx([
        (4_000 * 2.50 + 6_000 * 1.25 + 500 * 10) / 1e6,
        (100 * 3 + 2_000 * 0.30 + 1_000 * 3.75 + 4_000 * 6 + 300 * 15) / 1e6,
        (1_000 * 0.30 + 1_000 * 2.50) / 1e6,
        0.0,
    ], abs=1e-15)
    assert frame["tool_cost_usd"].to_list() == [0.0, 0.0, 0.0, 0.01]
    assert frame["compute_cost_usd"].to_list()[3] == pytest.approx(0.00125)
    assert frame["unpriced_reason"].to_list() == [None, None, None, None]


def test_unknown_is_never_zero(write_jsonl, write_prices):
    frame = priced(write_jsonl, write_prices, [
        {"task_id": "a", "model": "gpt-4o-2024-05-13", "input_tokens": 100, "output_tokens": 1},
        {"task_id": "a", "input_tokens": 100, "output_tokens": 1},
        {"task_id": "a", "model": "old-model", "input_tokens": 10, "cache_read_tokens": 5},
        {"task_id": "a", "model": "gpt-4o"},
        {"task_id": "a", "tool_name": "mystery_tool"},
    ])
    assert frame["unpriced_reason"].to_list() == [
        "model not in price table", "no model recorded", "no cache-read price listed",
        "no token counts recorded", None]
    assert frame["llm_cost_usd"].to_list()[:4] == [None, None, None, None]
    assert frame["tool_unpriced"].to_list() == [False, False, False, False, True]
    assert frame["tool_cost_usd"].to_list()[4] is None


@pytest.mark.parametrize(("text", "line", "message"), [
    ("models:\n  m:\n    input: 1\n    output: 2\n    colour: red\n", 5, "unknown key 'colour'"),
    ("models:\n  m:\n    input: -1\n    output: 2\n", 3,
     "input must be a number from 0 to 1,000,000,000, got -1"),
    ("models:\n  m:\n    input: cheap\n    output: 2\n", 3, "input must be a number"),
    ("models:\n  m:\n    input: 1\n    output: 2\n  m:\n    input: 1\n    output: 2\n", 5,
     "'m' is listed twice (first on line 2)"),
    ("models:\n  m:\n    output: 2\n", 2, "needs an 'input' price"),
    ("tools:\n  t:\n    per_call: [1]\n", 3, "per_call must be a number"),
    ("models: [\n", 2, "not valid YAML"),
    ("prices: {}\n", 1, "unknown key 'prices' in top level"),
    ("models:\n  m:\n    input: 1\n    output: 2\n    history:\n      - since: 2025-01-01\n"
     "        input: 1\n        output: 1\n", 2, "give the current prices' 'since' date"),
    ("models:\n  m:\n    input: 1\n    output: 2\n    since: 2025-01-01\n    history:\n"
     "      - since: 2025-06-01\n        input: 1\n        output: 1\n", 5,
     "must be later than every history entry"),
    ("models:\n  m:\n    input: 1\n    output: 2\n    long_context:\n      above: 10\n"
     "      from: 10\n      input: 1\n      output: 1\n", 5, "exactly one"),
    ("models:\n  a:\n    input: 1\n    output: 2\n    aliases: [b]\n  b:\n    input: 1\n"
     "    output: 1\n", 2, "alias 'b' of 'a' is also a model"),
    ("models:\n  m:\n    input: 1\n    output: 2\n    regional: {moon: 2}\n", 5,
     "unknown region kind 'moon'"),
    ("models:\n  m:\n    input: 1\n    output: 2\n    since: yesterday\n", 5,
     "since must be a date"),
])
def test_price_table_errors_name_file_and_line(write_prices, text, line, message):
    path = write_prices(text)
    with pytest.raises(PriceTableError) as raised:
        load_price_table(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert message in str(raised.value)


def test_shipped_table_loads_and_is_consistent():
    table = load_price_table()
    assert table.models["gpt-4o"].input == 2.50
    assert table.models["gpt-4o-2024-05-13"].input == 5.00
    assert table.tools["web_search"].per_call == 0.005
    for price in table.models.values():
        assert price.source and price.as_of
        if price.cache_read is not None:
            assert price.cache_read < price.input
        if price.cache_write_5m is not None:  # writes cost more than input, 1h more than 5m
            assert price.input < price.cache_write_5m
            # Retired models (claude-3-opus, claude-3-5-sonnet) list no 1-hour write price.
            assert price.cache_write_1h is None or price.cache_write_5m < price.cache_write_1h
    sonnet = table.models["claude-sonnet-4-5"]
    assert (sonnet.cache_write_5m, sonnet.cache_write_1h) == (3.75, 6.0)


def test_price_scaling_property(write_jsonl, write_prices):
    """Doubling every price doubles every cost."""
    records = [{"task_id": f"t{i}", "model": "gpt-4o", "input_tokens": 1000 * i + 7,
                "cache_read_tokens": 13 * i, "output_tokens": 3 * i} for i in range(1, 20)]
    steps = read_steps([str(write_jsonl(records))]).steps.lazy()
    base = load_price_table(write_prices(PRICES))
    doubled_text = PRICES.replace("2.50", "5.00").replace("10.00", "20.00").replace(
        "1.25", "2.50")
    doubled = load_price_table(write_prices(doubled_text))
    one = price_steps(steps, base).select(pl.col("llm_cost_usd").sum()).collect().item()
    two = price_steps(steps, doubled).select(pl.col("llm_cost_usd").sum()).collect().item()
    assert two == pytest.approx(2 * one, rel=1e-12)


def test_cost_modes_and_reconciliation(run_cli, write_jsonl):
    path = write_jsonl([
        # ours: 10,000 x 2.50 / 1M = $0.025; the producer says the same
        {"task_id": "a", "model": "gpt-4o", "input_tokens": 10_000, "llm_cost_usd": 0.025},
        # ours: $0.025; the producer says $0.030 (20% more): listed
        {"task_id": "a", "model": "gpt-4o", "input_tokens": 10_000, "llm_cost_usd": 0.030},
        # no reported cost: ours only ($0.01)
        {"task_id": "b", "model": "gpt-4o", "output_tokens": 1_000},
        # unknown to our table, but the producer priced it
        {"task_id": "b", "model": "mystery-model", "input_tokens": 5, "llm_cost_usd": 0.5},
    ])

    def llm_total(mode):
        result = run_cli("report", str(path), "-f", "json", "--cost-mode", mode)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    computed = llm_total("computed")
    assert computed["summary"]["cost_usd"]["llm"] == pytest.approx(0.025 + 0.025 + 0.01)
    assert computed["summary"]["unpriced"]["steps"] == 1
    reported = llm_total("reported")
    assert reported["summary"]["cost_usd"]["llm"] == pytest.approx(0.025 + 0.030 + 0.5)
    assert reported["summary"]["unpriced"]["steps"] == 1  # the step nobody reported a cost for
    auto = llm_total("auto")
    assert auto["summary"]["cost_usd"]["llm"] == pytest.approx(0.025 + 0.030 + 0.01 + 0.5)
    assert auto["summary"]["unpriced"]["steps"] == 0
    reconciliation = computed["reconciliation"]
    assert reconciliation["compared_steps"] == 2
    [row] = reconciliation["differing_by_model"]
    assert row["model"] == "gpt-4o" and row["steps"] == 1
    assert row["difference_usd"] == pytest.approx(0.005)
    table = run_cli("report", str(path), "--no-color").stdout
    assert "Reported vs computed cost" in table


@pytest.mark.skipif(not REAL_TRACES.is_dir(), reason="shared/traces/real not present")
@pytest.mark.parametrize(("name", "cost"), [
    ("langfuse/openai-agents-2025-09-30.trace.json", 0.000632),
    ("langfuse/pydantic-ai-tools-2025-12-04.trace.json", 0.00032265),
    ("langfuse/microsoft-agent-2025-12-17.trace.json", 0.00028525),
])
def test_langfuse_samples_price_to_langfuse_cost(run_cli, name, cost):
    result = run_cli("report", str(REAL_TRACES / name), "-f", "json")
    document = json.loads(result.stdout)
    assert document["summary"]["cost_usd"]["llm"] == pytest.approx(cost, rel=1e-9)
    assert document["reconciliation"]["differing_by_model"] == []
    assert document["reconciliation"]["compared_steps"] > 0
