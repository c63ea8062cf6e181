"""Near names for a model the price table does not know: suggested in the unpriced section and
by the pricing commands, never used as a price."""

from __future__ import annotations

import json

import pytest

from agentcost.pricing.resolve import near_names
from agentcost.pricing.table import load_price_table


@pytest.fixture(scope="module")
def table():
    return load_price_table()


@pytest.mark.parametrize(("name", "near"), [
    ("GPT-4o", ["gpt-4o"]),                                   # case
    ("claude-sonnet-4.5", ["claude-sonnet-4-5"]),             # dots for dashes
    ("Claude-Sonnet-4.5-20250929", ["claude-sonnet-4-5"]),    # both, on a declared alias
    ("gpt_4.1", ["gpt-4.1"]),
    ("my-gateway/gpt-4o-mini", ["gpt-4o-mini"]),              # a prefix no rule knows
    ("openai/GPT-5", ["gpt-5"]),
    # a date nobody declared: the undated entry and the dated one with its own price
    ("gpt-4o-2024-02-01", ["gpt-4o", "gpt-4o-2024-05-13"]),
    ("claude-haiku-4-5-20991231", ["claude-haiku-4-5"]),
    ("claude-fable-5", []),                                   # nothing near
    ("gpt-4o-mini-realtime", []),
])
def test_near_names(table, name, near):
    assert near_names(name, table) == near


REPORT_STEPS = [
    {"task_id": "a", "model": "GPT-4o", "input_tokens": 1_000, "output_tokens": 100},
    {"task_id": "a", "model": "claude-sonnet-4.5", "input_tokens": 2_000, "output_tokens": 200},
    # 1,000 x 2.50 + 100 x 10 per 1M = 0.0035: the only priced step
    {"task_id": "b", "model": "gpt-4o", "input_tokens": 1_000, "output_tokens": 100},
    # unpriced for another reason (no cache-read price): nothing to suggest
    {"task_id": "b", "model": "gpt-4o-2024-05-13", "input_tokens": 1_000,
     "cache_read_tokens": 500, "output_tokens": 100},
]


def test_report_suggests_and_never_prices(run_cli, write_jsonl):
    path = write_jsonl(REPORT_STEPS)
    document = json.loads(run_cli("report", str(path), "--format", "json").stdout)
    unpriced = {row["model"]: row for row in document["unpriced"]["models"]}
    assert unpriced["GPT-4o"]["did_you_mean"] == ["gpt-4o"]
    assert unpriced["claude-sonnet-4.5"]["did_you_mean"] == ["claude-sonnet-4-5"]
    assert unpriced["GPT-4o"]["unpriced_reason"] == "model not in price table"
    assert unpriced["gpt-4o-2024-05-13"]["did_you_mean"] == []
    assert unpriced["gpt-4o-2024-05-13"]["unpriced_reason"] == "no cache-read price listed"
    # The suggestions were not applied: only the gpt-4o step is priced.
    assert document["summary"]["cost_usd"]["llm"] == pytest.approx(0.0035)
    assert document["summary"]["unpriced"]["steps"] == 3
    assert [m["model"] for m in document["by_model"]] == ["gpt-4o"]


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_report_formats_show_the_suggestion_column(run_cli, write_jsonl, fmt):
    path = write_jsonl(REPORT_STEPS)
    result = run_cli("report", str(path), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert "did you mean" in result.stdout
    assert "claude-sonnet-4-5" in result.stdout.replace("\\-", "-")  # markdown escapes dashes
    assert "never used as prices" in result.stdout


def test_no_suggestion_column_when_there_is_nothing_to_suggest(run_cli, write_jsonl):
    path = write_jsonl([{"task_id": "a", "model": "claude-fable-5", "input_tokens": 10,
                         "output_tokens": 1}])
    result = run_cli("report", str(path))
    assert "Unpriced LLM steps" in result.stdout
    assert "did you mean" not in result.stdout


def test_a_suggested_name_from_the_table_is_made_safe(run_cli, write_jsonl, write_prices):
    prices = write_prices('models:\n  "evil\\e[2Jmodel": {input: 1, output: 2}\n')
    path = write_jsonl([{"task_id": "a", "model": "EVIL\x1b[2JMODEL", "input_tokens": 10,
                         "output_tokens": 1}])
    result = run_cli("report", str(path), "--prices", str(prices))
    assert "\x1b" not in result.stdout
    assert "evil\\x1b[2Jmodel" in result.stdout


def test_pricing_commands_suggest(run_cli, write_jsonl):
    which = run_cli("pricing", "which", "GPT-4o", "--width", "1000")
    assert which.exit_code == 3
    assert "did you mean gpt-4o? (not applied)" in which.stdout
    show = run_cli("pricing", "show", "claude-sonnet-4.5")
    assert show.exit_code == 1
    assert "did you mean claude-sonnet-4-5?" in show.stderr
    path = write_jsonl([{"task_id": "a", "model": "GPT-4o", "input_tokens": 10,
                         "output_tokens": 1}])
    check = run_cli("pricing", "check", str(path))
    assert check.exit_code == 3
    assert "model GPT-4o (1 step): UNPRICED" in check.stdout
    assert "did you mean gpt-4o? (not applied)" in check.stdout


def test_simulate_route_to_a_near_name_is_refused_with_the_suggestion(run_cli, write_jsonl):
    path = write_jsonl([{"task_id": "a", "name": "summarize", "model": "gpt-4o",
                         "input_tokens": 10, "output_tokens": 1}])
    result = run_cli("simulate", str(path), "--route", "summarize=GPT-4o-mini")
    assert result.exit_code == 2
    assert "did you mean 'gpt-4o-mini'?" in result.stderr
