"""`agentcost pricing ...`: list, show, which, check, import-litellm."""

from __future__ import annotations

import json

import pytest

from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table
from tests.conftest import ROOT, SAMPLES

LITELLM = ROOT.parent / "shared" / "reference" / "litellm-model-prices-1.110.2.json"


def test_which_explains_the_resolution(run_cli):
    result = run_cli("pricing", "which", "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert result.exit_code == 0
    assert "-> claude-sonnet-4-5" in result.stdout
    assert "regional uplift x1.1 (bedrock-geo)" in result.stdout
    unknown = run_cli("pricing", "which", "gpt-4o-2099-01-01")
    assert unknown.exit_code == 3 and "-> unpriced" in unknown.stdout


def test_show_and_list(run_cli):
    shown = run_cli("pricing", "show", "deepseek-chat").stdout
    assert "since 2024-12-26: input 0.27  output 1.1" in shown
    assert "since 2025-09-29: input 0.28  output 0.42" in shown
    assert run_cli("pricing", "show", "no-such-model").exit_code == 1
    listed = run_cli("pricing", "list").stdout
    assert "gpt-4o: input 2.5  output 10" in listed
    assert "tool web_search: 0.005 per call" in listed


def test_check_lists_unpriced_names_and_fails(run_cli, write_jsonl):
    path = write_jsonl([{"task_id": "a", "model": "gpt-4o", "input_tokens": 1},
                        {"task_id": "a", "model": "mystery-1", "input_tokens": 1},
                        {"task_id": "b", "model": "mystery-1", "input_tokens": 1},
                        {"task_id": "b", "tool": "own_tool"}])
    result = run_cli("pricing", "check", str(path))
    assert result.exit_code == 3
    assert "model mystery-1 (2 steps): UNPRICED" in result.stdout
    assert "tool own_tool (1 call): UNPRICED" in result.stdout
    assert run_cli("pricing", "check", str(SAMPLES / "research_agent.jsonl")).exit_code == 0


@pytest.mark.skipif(not LITELLM.is_file(), reason="shared/reference not present")
def test_import_litellm_converts_and_prices_like_the_source(run_cli, tmp_path, write_jsonl):
    output = tmp_path / "litellm.yaml"
    result = run_cli("pricing", "import-litellm", str(LITELLM), "-o", str(output))
    assert result.exit_code == 0, result.stderr
    assert "price fields our format cannot express, dropped" in result.stderr
    source = json.loads(LITELLM.read_text())
    table = load_price_table(output)
    for name in ("gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "deepseek-chat"):
        entry = source[name]
        assert table.models[name].input == pytest.approx(entry["input_cost_per_token"] * 1e6)
        assert table.models[name].output == pytest.approx(entry["output_cost_per_token"] * 1e6)
    sonnet = table.models["claude-sonnet-4-5"]
    assert sonnet.cache_write_5m == pytest.approx(1.25 * sonnet.input)  # Anthropic 5m: 1.25x
    assert sonnet.cache_write_1h == pytest.approx(2 * sonnet.input)     # and 1h: 2x
    # A step priced with the converted table equals the source's per-token arithmetic.
    steps = read_steps([str(write_jsonl([
        {"task_id": "a", "model": "claude-sonnet-4-5", "uncached_input_tokens": 1_000,
         "cache_read_tokens": 5_000, "output_tokens": 200, "service_tier": "batch"},
    ]))]).steps
    cost = price_steps(steps.lazy(), table).collect()["llm_cost_usd"].item()
    entry = source["claude-sonnet-4-5"]
    expected = (1_000 * entry["input_cost_per_token_batches"]
                + 5_000 * entry["cache_read_input_token_cost_batches"]
                + 200 * entry["output_cost_per_token_batches"])
    assert cost == pytest.approx(expected)


def test_import_litellm_drops_damaged_entries_and_keeps_the_rest(run_cli, tmp_path):
    source = tmp_path / "prices.json"
    source.write_text(json.dumps({
        "good": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
        "listed-mode": {"mode": ["chat"], "input_cost_per_token": 1e-6},
        "negative": {"mode": "chat", "input_cost_per_token": -1e-6,
                     "output_cost_per_token": 2e-6},
        "huge": {"mode": "chat", "input_cost_per_token": 1e308, "output_cost_per_token": 2e-6},
        "odd-provider": {"mode": "chat", "litellm_provider": {"x": 1},
                         "input_cost_per_token": 3e-6, "output_cost_per_token": 4e-6},
        "escape": {"mode": "\x1b[2J", "input_cost_per_token": 1e-6},
    }))
    output = tmp_path / "out.yaml"
    result = run_cli("pricing", "import-litellm", str(source), "-o", str(output))
    assert result.exit_code == 0, result.stderr
    table = load_price_table(output)
    assert sorted(table.models) == ["good", "odd-provider"]
    assert table.models["good"].input == pytest.approx(1.0)
    assert table.models["odd-provider"].output == pytest.approx(4.0)
    assert "(no mode) 1" in result.stderr and "\\x1b[2J 1" in result.stderr
    assert "\x1b" not in result.stderr


def test_pricing_check_of_nothing_readable_is_not_a_pass(run_cli, tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text('{\n  "theme": "dark"\n}\n')
    result = run_cli("pricing", "check", str(settings))
    assert result.exit_code == 1
    assert "valid JSON, not a trace format agentcost reads: top-level keys theme" in result.stderr
    assert "no usable line in 3 lines read" in result.stderr


# A small LiteLLM file: per-token prices (x 1e6 = per 1M), one alias stub.
SMALL_LITELLM = {
    "gpt-4o": {"mode": "chat", "input_cost_per_token": 9e-6, "output_cost_per_token": 9e-5},
    "new-model": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6},
    "new-model-2026": {"alias_of": "new-model"},
    "gpt-4o-2024-08-06": {"alias_of": "new-model"},  # a name the table already prices
    "long-model": {
        "mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
        "input_cost_per_token_above_200k_tokens": 2e-6,
        "output_cost_per_token_above_200k_tokens": 4e-6,
        "input_cost_per_token_batches": 5e-7, "output_cost_per_token_batches": 1e-6,
        "input_cost_per_token_above_200k_tokens_batches": 1e-6,
        "output_cost_per_token_above_200k_tokens_batches": 2e-6,
        "input_cost_per_token_priority": 2e-6, "output_cost_per_token_priority": 4e-6,
        "input_cost_per_token_above_128k_tokens_priority": 3e-6,  # not the model's threshold
    },
}

OWN_TABLE = """\
version: 1
models:
  gpt-4o:              # our own price, curated: the merge keeps it
    input: 2.5
    output: 10
    aliases: [gpt-4o-2024-08-06]
tools:
  vector_search: {per_call: 0.0004}
compute:
  per_second: 0.002
"""


def test_import_litellm_merges_into_a_table_and_keeps_its_tools(run_cli, tmp_path,
                                                                 write_prices):
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(SMALL_LITELLM))
    own = write_prices(OWN_TABLE)
    output = tmp_path / "merged.yaml"
    result = run_cli("pricing", "import-litellm", str(source), "-o", str(output),
                     "--merge-into", str(own))
    assert result.exit_code == 0, result.stderr
    assert "2 models added from litellm.json; 1 model it already prices kept" in result.stderr
    table = load_price_table(output)
    assert table.tools["vector_search"].per_call == 0.0004
    assert table.compute_per_second == 0.002
    assert table.models["gpt-4o"].input == 2.5           # the table's entry wins
    assert table.models["gpt-4o"].aliases == ("gpt-4o-2024-08-06",)
    assert table.models["new-model"].input == pytest.approx(1.0)
    # the alias the table already uses is left out, the other kept
    assert table.models["new-model"].aliases == ("new-model-2026",)
    assert list(table.models) == ["gpt-4o", "new-model", "long-model"]


def test_import_litellm_keeps_a_tiers_long_context_prices(run_cli, tmp_path, write_jsonl):
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(SMALL_LITELLM))
    output = tmp_path / "out.yaml"
    result = run_cli("pricing", "import-litellm", str(source), "-o", str(output))
    assert result.exit_code == 0, result.stderr
    assert "(tier long-context prices without their tier, the model's threshold" in result.stderr
    table = load_price_table(output)
    steps = read_steps([str(write_jsonl([
        # batch above 200k: 300,000 x 1.00 + 1,000 x 2.00 per 1M
        {"task_id": "t", "model": "long-model", "input_tokens": 300_000, "output_tokens": 1_000,
         "service_tier": "batch"},
        # priority lists no long-context price at 200k: unpriced, not the base priority price
        {"task_id": "t", "model": "long-model", "input_tokens": 300_000, "output_tokens": 1_000,
         "service_tier": "priority"},
    ]))]).steps
    priced = price_steps(steps.lazy(), table).collect().sort("source_line")
    assert priced["llm_cost_usd"].to_list() == [pytest.approx(0.302), None]
    assert priced["unpriced_reason"].to_list() == [
        None, "no long-context priority tier price listed"]


def test_import_litellm_merges_into_the_shipped_table(run_cli, tmp_path):
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(SMALL_LITELLM))
    output = tmp_path / "merged.yaml"
    result = run_cli("pricing", "import-litellm", str(source), "-o", str(output),
                     "--merge-into", "default")
    assert result.exit_code == 0, result.stderr
    default = load_price_table()
    table = load_price_table(output)
    assert [(t.name, t.per_call, t.source) for t in table.tools.values()] == [
        (t.name, t.per_call, t.source) for t in default.tools.values()]
    assert set(table.models) == {*default.models, "new-model", "long-model"}
    assert table.models["gpt-4o"].service_tiers == default.models["gpt-4o"].service_tiers


def test_import_litellm_merge_keeps_extends_pointing_at_the_same_base(run_cli, tmp_path):
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(SMALL_LITELLM))
    (tmp_path / "base.yaml").write_text("models:\n  base-model: {input: 1, output: 2}\n")
    (tmp_path / "own").mkdir()
    own = tmp_path / "own" / "mine.yaml"
    own.write_text("extends: ../base.yaml\ntools:\n  t: {per_call: 0.1}\n")
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "merged.yaml"
    result = run_cli("pricing", "import-litellm", str(source), "-o", str(output),
                     "--merge-into", str(own))
    assert result.exit_code == 0, result.stderr
    table = load_price_table(output)
    assert {"base-model", "gpt-4o", "new-model"} <= set(table.models)
    assert table.tools["t"].per_call == 0.1


def test_import_litellm_merges_into_a_table_of_tools_alone(run_cli, tmp_path):
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(SMALL_LITELLM))
    tools = tmp_path / "tools.yaml"
    tools.write_text("tools:\n  vector_search: {per_call: 0.0004}\n")
    output = tmp_path / "merged.yaml"
    result = run_cli("pricing", "import-litellm", str(source), "-o", str(output),
                     "--merge-into", str(tools))
    assert result.exit_code == 0, result.stderr
    table = load_price_table(output)
    assert sorted(table.models) == ["gpt-4o", "long-model", "new-model"]
    assert table.tools["vector_search"].per_call == 0.0004


def test_a_tables_own_text_is_shown_escaped(run_cli, write_prices):
    # An imported table could set the terminal's title (OSC 0), clear the screen (CSI 2J) or
    # turn the line around (U+202E): every text of it is shown as escapes.
    prices = str(write_prices(
        'version: 1\nmodels:\n  m:\n    input: 1\n    output: 2\n'
        '    provider: "\\e]0;pwned\\a"\n    source: "\\e[2J"\n    as_of: "\\u202e2026"\n'
        '    service_tiers: {"\\e[31mbatch": 0.5}\n'))
    shown = run_cli("pricing", "show", "m", "--prices", prices)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "m (\\x1b]0;pwned\\x07)",
        "  always: input 1  output 2  cache read -  cache write 5m -  1h -",
        "  \\x1b[31mbatch tier: x0.5 the model's prices",
        "  source: \\x1b[2J (as of \\u202e2026)",
    ]
    listed = run_cli("pricing", "list", "--prices", prices)
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines()[1] == (
        "  m: input 1  output 2  cache read -  cache write 5m -  1h -  (tiers: "
        "\\x1b[31mbatch)")
