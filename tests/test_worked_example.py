"""The design's worked example: a 10-step research agent on gpt-4o with two paid tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import SAMPLES

SAMPLE = str(SAMPLES / "research_agent.jsonl")


def test_worked_example_numbers_in_json(run_cli):
    result = run_cli("report", SAMPLE, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["tasks"] == 1
    assert summary["steps"] == 10
    assert summary["tokens"]["input"] == 38_800
    assert summary["tokens"]["output"] == 3_200
    # 38,800 x $2.50/1M + 3,200 x $10/1M = $0.097 + $0.032
    assert summary["cost_usd"]["llm"] == pytest.approx(0.129, abs=1e-12)
    # 2 web_search x $0.005 + 3 read_page x $0.001
    assert summary["cost_usd"]["tool"] == pytest.approx(0.013, abs=1e-12)
    assert summary["cost_usd"]["total"] == pytest.approx(0.142, abs=1e-12)


def test_worked_example_numbers_in_table(run_cli):
    result = run_cli("report", SAMPLE, "--no-color")
    assert result.exit_code == 0
    assert "input 38,800" in result.stdout
    assert "output 3,200" in result.stdout
    assert "LLM $0.129  tools $0.013  compute $0.00  total $0.142" in result.stdout


@pytest.mark.parametrize("how", ["script", "module"])
def test_installed_command_gives_the_worked_example(how):
    if how == "script":
        script = shutil.which("agentcost", path=os.path.dirname(sys.executable)) or shutil.which(
            "agentcost")
        if script is None:
            pytest.skip("agentcost is not installed as a command")
        command = [script]
    else:
        command = [sys.executable, "-m", "agentcost"]
    completed = subprocess.run([*command, "report", SAMPLE, "--format", "json"],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    cost = json.loads(completed.stdout)["summary"]["cost_usd"]
    assert (round(cost["llm"], 6), round(cost["tool"], 6), round(cost["total"], 6)) == (
        0.129, 0.013, 0.142)
