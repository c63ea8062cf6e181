"""A price table that extends another, and the tables that are refused: one with no models,
and --prices given twice."""

from __future__ import annotations

import json

import pytest

from agentcost.errors import PriceTableError
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import default_table_path, load_price_table

ONE_MODEL_MORE = """\
extends: default
models:
  internal-llm:            # a model of our own, priced at what it costs us
    input: 0.40
    output: 1.20
    source: our GPU bill
    as_of: 2026-12-01
  gpt-4o:                  # a negotiated price: the entry replaces the shipped one whole
    input: 2.00
    output: 10.0
    cache_read: 1.25
    aliases: [gpt-4o-2024-08-06, gpt-4o-2024-11-20]
tools:
  vector_search:
    per_call: 0.0004
"""


def test_extends_adds_and_overrides_and_keeps_everything_else(write_prices):
    default = load_price_table()
    table = load_price_table(write_prices(ONE_MODEL_MORE))
    assert table.extends == (str(default_table_path()),)
    assert set(table.models) == {*default.models, "internal-llm"}
    for name, model in default.models.items():
        if name != "gpt-4o":
            assert table.models[name] == model  # every price, tier, alias and uplift as shipped
    assert table.models["gpt-4o"].input == 2.00
    assert table.models["gpt-4o"].service_tiers == {}  # replaced whole: no tiers it did not list
    assert table.tools == {"vector_search": table.tools["vector_search"], **default.tools}
    assert table.tools["vector_search"].per_call == 0.0004
    assert table.compute_per_second == default.compute_per_second


def test_extended_table_prices_steps(write_jsonl, write_prices):
    table = load_price_table(write_prices(ONE_MODEL_MORE))
    steps = read_steps([str(write_jsonl([
        # 1,000,000 x 0.40 + 500,000 x 1.20 per 1M = 0.40 + 0.60
        {"task_id": "t", "model": "internal-llm", "input_tokens": 1_000_000,
         "output_tokens": 500_000},
        # the override: 100,000 x 2.00 + 10,000 x 10 per 1M = 0.20 + 0.10, through an alias
        {"task_id": "t", "model": "gpt-4o-2024-08-06", "input_tokens": 100_000,
         "output_tokens": 10_000},
        # untouched: claude-sonnet-4-5 as shipped, 100,000 x 3 + 10,000 x 15 per 1M
        {"task_id": "t", "model": "claude-sonnet-4-5", "input_tokens": 100_000,
         "output_tokens": 10_000},
        {"task_id": "t", "tool_name": "vector_search"},
        {"task_id": "t", "tool_name": "web_search"},   # the shipped tool: $0.005
    ]))]).steps
    priced = price_steps(steps.lazy(), table).collect().sort("source_line")
    assert priced["llm_cost_usd"].to_list()[:3] == pytest.approx([1.00, 0.30, 0.45])
    assert priced["tool_cost_usd"].to_list()[3:] == pytest.approx([0.0004, 0.005])


def test_extends_a_path_relative_to_the_table_and_chains(tmp_path):
    (tmp_path / "team").mkdir()
    (tmp_path / "base.yaml").write_text(
        "extends: default\nmodels:\n  team-model: {input: 1, output: 2}\n"
        "compute:\n  per_second: 0.001\n", encoding="utf-8")
    child = tmp_path / "team" / "mine.yaml"
    child.write_text("extends: ../base.yaml\nmodels:\n  my-model: {input: 3, output: 4}\n"
                     "compute:\n  workflows: {research: 0.01}\n", encoding="utf-8")
    table = load_price_table(child)
    assert {"team-model", "my-model", "gpt-4o"} <= set(table.models)
    assert table.extends == (str(tmp_path / "team" / ".." / "base.yaml"),
                             str(default_table_path()))
    assert table.compute_per_second == 0.001  # the base's, kept where the child gives none
    assert table.compute_per_workflow == {"research": 0.01}


def test_a_name_of_the_extending_table_takes_over_a_base_alias(write_prices):
    table = load_price_table(write_prices(
        "extends: default\nmodels:\n  claude-opus-4-5-20251101: {input: 4, output: 20}\n"))
    assert table.models["claude-opus-4-5-20251101"].input == 4
    assert "claude-opus-4-5-20251101" not in table.models["claude-opus-4-5"].aliases


@pytest.mark.parametrize(("text", "line", "message"), [
    ("extends: default\nmodels:\n  mine:\n    input: 1\n    output: 2\n    aliases: [gpt-4o]\n",
     3, "alias 'gpt-4o' of 'mine' is a model of the table this one extends"),
    ("extends: missing.yaml\n", 1, "extends 'missing.yaml': no price table at"),
    ("extends: [a, b]\n", 1, "extends must be 'default' or the path of a price table"),
    ("extends: prices.yaml\nmodels:\n  m: {input: 1, output: 2}\n", 1,
     "comes back to a table already read"),
])
def test_extends_errors_name_file_and_line(write_prices, text, line, message):
    path = write_prices(text)
    with pytest.raises(PriceTableError) as raised:
        load_price_table(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert message in str(raised.value)


def test_a_cycle_through_two_tables_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nmodels:\n  m: {input: 1, output: 2}\n",
                                     encoding="utf-8")
    with pytest.raises(PriceTableError) as raised:
        load_price_table(tmp_path / "a.yaml")
    assert f"{tmp_path / 'b.yaml'}:1: extends 'a.yaml' comes back" in str(raised.value)


@pytest.mark.parametrize("text", [
    "",
    "# prices to come\n",
    "version: 1\nmodels: {}\n",
    "models:\ntools:\n  web_search: {per_call: 0.01}\n",
])
def test_a_table_without_models_is_refused(write_prices, text):
    path = write_prices(text)
    with pytest.raises(PriceTableError) as raised:
        load_price_table(path)
    assert str(raised.value).startswith(f"{path}: the price table lists no models")
    assert "extends: default" in str(raised.value)


def test_a_tool_on_top_of_the_default_table_is_fine(write_prices):
    table = load_price_table(write_prices("extends: default\ntools:\n  mine: {per_call: 0.1}\n"))
    assert table.tools["mine"].per_call == 0.1
    assert table.models == load_price_table().models


def test_report_and_check_refuse_an_empty_table(run_cli, write_jsonl, write_prices):
    prices = write_prices("# nothing yet\n")
    path = write_jsonl([{"task_id": "t", "model": "gpt-4o", "input_tokens": 10,
                         "output_tokens": 1}])
    for command in (("report",), ("check", "--max-total", "100")):
        result = run_cli(*command, str(path), "--prices", str(prices))
        assert result.exit_code == 1
        assert result.stdout == ""
        assert f"{prices}: the price table lists no models" in result.stderr


def test_prices_given_twice_is_a_usage_error(run_cli, write_jsonl, write_prices):
    prices = write_prices(ONE_MODEL_MORE)
    path = write_jsonl([{"task_id": "t", "model": "internal-llm", "input_tokens": 10,
                         "output_tokens": 1}])
    for command in (("report", str(path)), ("simulate", str(path)),
                    ("check", str(path), "--max-total", "1"), ("pricing", "list")):
        result = run_cli(*command, "--prices", str(prices), "--prices", str(prices))
        assert result.exit_code == 2, command
        assert "given more than once" in result.stderr and "extends:" in result.stderr
    once = run_cli("report", str(path), "--prices", str(prices), "--format", "json")
    assert once.exit_code == 0, once.stderr
    # 10 x 0.40 + 1 x 1.20 per 1M
    assert json.loads(once.stdout)["summary"]["cost_usd"]["llm"] == pytest.approx(5.2e-6)


def test_pricing_list_names_the_table_it_extends(run_cli, write_prices):
    prices = write_prices(ONE_MODEL_MORE)
    result = run_cli("pricing", "list", "--prices", str(prices), "--width", "1000")
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{prices} (extends {default_table_path()}): ")
    assert "internal-llm: input 0.4  output 1.2" in result.stdout


def test_the_readmes_price_tables_load_as_written(write_prices):
    from tests.conftest import ROOT

    section = (ROOT / "README.md").read_text().split("## The price table", 1)[1]
    full, extending = (block.split("```", 1)[0] for block in section.split("```yaml\n")[1:3])
    table = load_price_table(write_prices(full))
    batch = table.models["gemini-2.5-pro"].service_tiers["batch"]
    assert batch.prices.cache_read == 0.125 and batch.long_context.cache_read == 0.25
    assert table.models["gemini-2.5-pro"].service_tiers["priority"].long_context is None
    mine = load_price_table(write_prices(extending))
    assert mine.models["internal-llm"].input == 0.40
    assert mine.tools["vector_search"].per_call == 0.0004
    assert set(mine.models) == {*load_price_table().models, "internal-llm"}


def test_a_table_of_tools_alone_can_be_extended(tmp_path):
    tools = tmp_path / "team-tools.yaml"
    tools.write_text("tools:\n  vector_search: {per_call: 0.0004}\n", encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: team-tools.yaml\nmodels:\n  m: {input: 1, output: 2}\n",
                    encoding="utf-8")
    table = load_price_table(mine)
    assert list(table.models) == ["m"] and table.tools["vector_search"].per_call == 0.0004
    with pytest.raises(PriceTableError, match="the price table lists no models"):
        load_price_table(tools)  # on its own, it would leave every step unpriced
