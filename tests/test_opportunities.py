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
