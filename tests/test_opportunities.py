"""Each savings opportunity the report finds names a simulate command; running that command
gives the same saving."""

from __future__ import annotations

import json
import shlex

import pytest

from agentcost.analysis.opportunities import cheaper_sibling
from agentcost.pricing.table import load_price_table
from tests.conftest import SAMPLES


def test_every_opportunity_is_what_its_command_measures(run_cli):
    report = run_cli("report", str(SAMPLES / "agents.jsonl"), "--opportunities", "-f", "json")
    assert report.exit_code == 0, report.stderr
    found = json.loads(report.stdout)["opportunities"]
    assert {o["kind"] for o in found} == {"routing", "caching", "compression", "budget"}
    assert [o["saving_usd"] for o in found] == sorted((o["saving_usd"] for o in found),
                                                      reverse=True)
    for opportunity in found:
        args = shlex.split(opportunity["command"])[1:]
        result = run_cli(*args, "-f", "json")
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        if opportunity["kind"] == "budget":
            budget = float(opportunity["what"].split("$")[1].split()[0])
            [point] = [p for p in document["budget_sweep"] if p["budget_usd"] == budget]
            measured = point["saving_usd"]
        else:
            [simulation] = document["simulations"]
            measured = simulation["baseline"]["total_usd"] - simulation["result"]["total_usd"]
        assert measured == pytest.approx(opportunity["saving_usd"], abs=1e-6), opportunity


def test_cheaper_siblings():
    table = load_price_table()
    assert cheaper_sibling("gpt-4o", table) == "gpt-4o-mini"
    assert cheaper_sibling("claude-sonnet-4-5-20250929", table) == "claude-haiku-4-5"
    assert cheaper_sibling("gemini-2.5-pro", table) == "gemini-2.5-flash"
    assert cheaper_sibling("gpt-4o-mini", table) is None
    assert cheaper_sibling("unknown-model", table) is None


def test_names_with_glob_characters_are_matched_literally(run_cli, write_jsonl, write_prices):
    # "search[v2]" as a glob would match "searchv" or "search2", never itself.
    records = [{"task_id": f"t{i}", "step_number": 1, "timestamp": 1_764_000_000 + 60 * i,
                "step_name": "plan*", "model": "gpt-4o", "input_tokens": 1_000,
                "output_tokens": 100, "tool_name": "search[v2]", "tool_args": {"q": "same"}}
               for i in range(5)]
    path = write_jsonl(records)
    prices = str(write_prices(
        "models:\n  gpt-4o: {input: 2.5, output: 10}\n  gpt-4o-mini: {input: 0.15, output: 0.6}\n"
        "tools:\n  'search[v2]': {per_call: 0.01}\n"))
    report = run_cli("report", str(path), "--prices", prices, "--opportunities", "-f", "json")
    assert report.exit_code == 0, report.stderr
    found = {o["kind"]: o for o in json.loads(report.stdout)["opportunities"]}
    assert "search[v2]: 4 of 5 calls" in found["caching"]["what"]
    for kind in ("caching", "routing"):
        result = run_cli(*shlex.split(found[kind]["command"])[1:], "--prices", prices, "-f",
                         "json")
        assert result.exit_code == 0, result.stderr
        [simulation] = json.loads(result.stdout)["simulations"]
        measured = simulation["baseline"]["total_usd"] - simulation["result"]["total_usd"]
        assert measured == pytest.approx(found[kind]["saving_usd"], abs=1e-9)
