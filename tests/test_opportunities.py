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
        command = shlex.split(found[kind]["command"])[1:]
        assert command[command.index("--prices") + 1] == prices  # the command names the table
        result = run_cli(*command, "-f", "json")
        assert result.exit_code == 0, result.stderr
        [simulation] = json.loads(result.stdout)["simulations"]
        measured = simulation["baseline"]["total_usd"] - simulation["result"]["total_usd"]
        assert measured == pytest.approx(found[kind]["saving_usd"], abs=1e-9)


WINDOW_PRICES = """
models:
  gpt-4o: {provider: openai, input: 2.5, output: 10}
  gpt-4o-mini: {provider: openai, input: 0.15, output: 0.6}
tools:
  web_search: {per_call: 0.01}
compute:
  per_second: 0.001
  workflows: {research: 0.002}
"""


def windowed_log(now: float) -> list[dict]:
    """Tasks of 8 `draft` steps on gpt-4o whose prompt grows, each with a web search (the same
    query, 2 s of research compute); three days ago 5 tasks ten times the size, in the last
    day 4 tasks and one runaway of 40 steps."""
    records = []

    def task(name: str, start: float, steps: int, scale: int) -> None:
        for i in range(1, steps + 1):
            records.append({"task_id": name, "step_number": 2 * i - 1, "model": "gpt-4o",
                            "step_name": "draft", "input_tokens": scale * 1_000 * i,
                            "output_tokens": scale * 50, "timestamp": start + 60 * i,
                            "workflow": "research"})
        records.append({"task_id": name, "step_number": 2 * steps, "tool": "web_search",
                        "tool_args": {"q": "same"}, "duration_s": 2.0,
                        "timestamp": start + 60 * steps + 30, "workflow": "research"})

    for n in range(5):
        task(f"old{n}", now - 3 * 86_400 + 600 * n, 8, 10)
    for n in range(4):
        task(f"new{n}", now - 2 * 3_600 + 600 * n, 8, 1)
    task("runaway", now - 3_600, 40, 1)
    return records


def test_commands_printed_for_a_window_measure_the_reports_figures(run_cli, write_jsonl,
                                                                   write_prices):
    import time

    from agentcost.renderers.text import money

    path = str(write_jsonl(windowed_log(time.time())))
    prices = str(write_prices(WINDOW_PRICES))
    report = run_cli("report", path, "--prices", prices, "--since", "24h", "--opportunities",
                     "-f", "json")
    assert report.exit_code == 0, report.stderr
    found = json.loads(report.stdout)["opportunities"]
    assert {o["kind"] for o in found} == {"routing", "caching", "compression", "budget"}
    for opportunity in found:
        words = shlex.split(opportunity["command"])
        # The window as an absolute time, so that the command measures the same steps later.
        since = words[words.index("--since") + 1]
        assert since.endswith("+00:00") and words[words.index("--prices") + 1] == prices
        result = run_cli(*words[1:], "-f", "json")
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        if opportunity["kind"] == "budget":
            budget = float(opportunity["what"].split("$")[1].split()[0])
            [point] = [p for p in document["budget_sweep"] if p["budget_usd"] == budget]
            measured = point["saving_usd"]
        else:
            [simulation] = document["simulations"]
            measured = simulation["baseline"]["total_usd"] - simulation["result"]["total_usd"]
        assert money(measured) == money(opportunity["saving_usd"]), opportunity
        assert measured == pytest.approx(opportunity["saving_usd"], abs=1e-9), opportunity
    # The window matters: over the whole log (the old tasks too), compression saves more.
    compression = next(o for o in found if o["kind"] == "compression")
    words = shlex.split(compression["command"])
    del words[words.index("--since"):words.index("--since") + 2]
    [whole] = json.loads(run_cli(*words[1:], "-f", "json").stdout)["simulations"]
    assert whole["baseline"]["total_usd"] - whole["result"]["total_usd"] > 1.5 * compression[
        "saving_usd"]


def test_caching_figure_counts_the_compute_a_hit_saves(run_cli, write_jsonl, write_prices):
    # Two searches of the same query a minute apart, 2 s each at $0.002/s (research): the
    # hit saves its $0.01 fee and its $0.004 of compute, as `simulate` counts it.
    records = [{"task_id": f"t{i}", "step_number": 1, "tool": "web_search",
                "tool_args": {"q": "same"}, "duration_s": 2.0, "workflow": "research",
                "timestamp": 1_795_000_000 + 60 * i} for i in range(2)]
    prices = str(write_prices(WINDOW_PRICES))
    report = run_cli("report", str(write_jsonl(records)), "--prices", prices,
                     "--opportunities", "-f", "json")
    [caching] = [o for o in json.loads(report.stdout)["opportunities"] if o["kind"] == "caching"]
    assert caching["saving_usd"] == pytest.approx(0.01 + 2 * 0.002, abs=1e-12)
