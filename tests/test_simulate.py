"""`agentcost simulate`: each strategy on small hand-built logs with hand-computed results."""

from __future__ import annotations

import io
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentcost.ingest.read import read_steps
from agentcost.pricing.table import load_price_table
from agentcost.simulation.engine import simulate
from agentcost.simulation.scenario import CacheRule, Compression, Inflation, Route, Scenario
from agentcost.simulation.strategies.budget import BudgetTouched
from agentcost.simulation.strategies.caching import CachingTouched, ToolHits
from agentcost.simulation.strategies.compression import CompressionTouched
from agentcost.simulation.strategies.routing import RoutingTouched

PRICES = """
models:
  big: {input: 3.0, output: 15.0}
  small: {input: 0.2, output: 1.0}
tools:
  web_search: {per_call: 0.01}
  step_tool: {per_call: 0.25}
"""


@pytest.fixture
def table(write_prices):
    return load_price_table(write_prices(PRICES))


def steps_of(write_jsonl, records, name="steps.jsonl"):
    return read_steps([str(write_jsonl(records, name))]).steps


def test_route_four_of_ten_steps_to_a_15x_cheaper_model(write_jsonl, table):
    records = [{"task_id": "t", "step_number": i, "model": "big", "input_tokens": 1_000,
                "output_tokens": 100, "step_name": "summarize" if i in (2, 4, 6, 8) else "plan"}
               for i in range(1, 11)]
    steps = steps_of(write_jsonl, records)
    result = simulate(steps, table, Scenario(routes=(Route("summarize", "small"),)))
    per_big, per_small = (1_000 * 3 + 100 * 15) / 1e6, (1_000 * 0.2 + 100 * 1) / 1e6
    assert result.baseline.total_usd == pytest.approx(10 * per_big)
    assert result.result.total_usd == pytest.approx(6 * per_big + 4 * per_small)
    assert (result.touched["routing"].steps, result.touched["routing"].tasks) == (4, 1)
    inflated = simulate(steps, table, Scenario(routes=(Route("summ*", "small"),),
                                               inflations=(Inflation("summ*", 1.3),)))
    assert inflated.result.total_usd == pytest.approx(
        6 * per_big + 4 * (1_300 * 0.2 + 130 * 1) / 1e6)
    by_model = simulate(steps, table, Scenario(routes=(Route("big", "small", by_model=True),)))
    assert by_model.result.total_usd == pytest.approx(10 * per_small)
    shadowed = simulate(steps, table, Scenario(routes=(
        Route("summarize", "small"), Route("summ*", "big"), Route("sumarize", "small"))))
    assert shadowed.touched["routing"].steps == 4
    assert [w.split(" routed")[0] for w in shadowed.warnings] == [
        "route steps labelled summ* -> big", "route steps labelled sumarize -> small"]


def test_cache_with_repeats_inside_and_outside_the_ttl(write_jsonl, table):
    calls = [  # (seconds, query, task): q1, q2, q3 repeat inside the hour; q4, q5 after it
        (0, "q1", "a"), (10, "q2", "a"), (20, "q3", "b"), (30, "q4", "b"), (40, "q5", "c"),
        (600, "q1", "c"), (700, "q2", "b"), (900, "q3", "a"),
        (5_000, "q4", "a"), (6_000, "q5", "b"),
    ]
    records = [{"task_id": task, "tool": "web_search", "tool_args": {"query": q},
                "timestamp": 1_795_000_000 + t, "duration_s": 2.0} for t, q, task in calls]
    records.append({"task_id": "a", "tool": "web_search", "timestamp": 1_795_000_001})
    steps = steps_of(write_jsonl, records)
    result = simulate(steps, table, Scenario(cache=(CacheRule("web_search", 3_600),)))
    assert result.baseline.tool_usd == pytest.approx(11 * 0.01)
    assert result.result.tool_usd == pytest.approx(8 * 0.01)
    [per_tool] = result.touched["caching"].per_tool
    assert (per_tool.calls, per_tool.hits, per_tool.no_args) == (11, 3, 1)
    assert any("1 of 11 web_search calls carries no arguments: it cannot" in c
               for c in result.caveats)
    short = simulate(steps, table, Scenario(cache=(CacheRule("*", 60),)))
    assert short.touched["caching"].steps == 0


def test_compression_after_step_5_of_a_10_step_task(write_jsonl, table):
    # Linear growth: the prompt grows by 500 tokens a step from 1,000.
    records = [{"task_id": "t", "step_number": i, "model": "big",
                "input_tokens": 1_000 + 500 * (i - 1), "output_tokens": 100}
               for i in range(1, 11)]
    steps = steps_of(write_jsonl, records)
    scenario = Scenario(compression=Compression(after_step=5, keep_last=3,
                                                summary_model="small", summary_tokens=200))
    result = simulate(steps, table, scenario)
    # Steps 6..10 drop the additions of steps 1..j-4: 1,000 .. 3,000 tokens, replaced by 200.
    old = [1_000, 1_500, 2_000, 2_500, 3_000]
    removed = sum(o - 200 for o in old)  # 9,000 input tokens at $3/M
    summaries = (sum(old) * 0.2 + 5 * 200 * 1.0) / 1e6
    assert result.touched["compression"] == CompressionTouched(
        steps=5, tasks=1, tokens_removed=removed, summary_calls=5)
    assert result.baseline.total_usd - result.result.total_usd == pytest.approx(
        removed * 3 / 1e6 - summaries)


def test_budget_cuts_two_of_a_hundred_tasks(write_jsonl, table):
    records = []
    for task in range(100):
        length = 50 if task in (13, 77) else 5
        records += [{"task_id": f"t{task:03d}", "step_number": i, "tool": "step_tool"}
                    for i in range(1, length + 1)]
    steps = steps_of(write_jsonl, records)
    result = simulate(steps, table, Scenario(budget_usd=5.0))
    touched = result.touched["budget"]
    # Each runaway reaches $5.00 at step 20 (kept) and loses steps 21..50: 30 x $0.25.
    assert (touched.tasks, touched.steps) == (2, 60)
    assert touched.runaways_cut == 2 and touched.normal_tasks_cut == 0
    assert result.baseline.total_usd - result.result.total_usd == pytest.approx(2 * 30 * 0.25)
    limited = simulate(steps, table, Scenario(max_steps=4))
    assert limited.touched["budget"].tasks == 100


ROUND_PRICES = """
models:
  big: {input: 10.0, output: 10.0}
  small: {input: 1.0, output: 1.0}
tools:
  web_search: {per_call: 0.01}
"""


def four_strategy_log(write_jsonl):
    """Task a: prompts of 1,000, 2,000, 3,000 and 4,000 tokens on `big` ($10/M: $0.01 a
    thousand), step 2 labelled summarize, and a web search; task b: one 1,000-token step and
    the same search a minute later. Baseline: a $0.11, b $0.02."""
    def llm(task, step, tokens, label="plan"):
        return {"task_id": task, "step_number": step, "model": "big", "step_name": label,
                "input_tokens": tokens, "output_tokens": 0, "timestamp": 1_795_000_000 + step}

    def search(task, step, at):
        return {"task_id": task, "step_number": step, "tool": "web_search",
                "tool_args": {"q": "x"}, "timestamp": 1_795_000_000 + at}

    return steps_of(write_jsonl, [
        llm("a", 1, 1_000), llm("a", 2, 2_000, "summarize"), search("a", 3, 3),
        llm("a", 4, 3_000), llm("a", 5, 4_000), llm("b", 1, 1_000), search("b", 2, 60)])


FOUR_STRATEGIES = Scenario(
    routes=(Route("summarize", "small"),), cache=(CacheRule("web_search", 3_600),),
    compression=Compression(after_step=2, keep_last=1, summary_model="small",
                            summary_tokens=100),
    budget_usd=0.025)


def test_all_four_strategies_waterfall_and_alone_by_hand(write_jsonl, write_prices):
    table = load_price_table(write_prices(ROUND_PRICES))
    result = simulate(four_strategy_log(write_jsonl), table, FOUR_STRATEGIES)
    assert result.baseline.total_usd == pytest.approx(0.13)
    # Routing: a's step 2 at $1/M, $0.02 -> $0.002. Caching: b's search repeats a's, $0.01.
    # Compression (LLM positions 3 and 4 of a; each step added 1,000 tokens): 900 and 1,900
    # old tokens go ($0.028), for summaries reading 1,000 and 2,000 and writing 100 on
    # `small` ($0.0032). Budget: a then costs 0.01, 0.002, 0.01 (search), 0.0011 (summary),
    # 0.021, 0.0021 (summary), 0.021; it reaches $0.025 at its step 4 and loses the rest.
    assert [stage.strategy for stage in result.waterfall] == [
        "routing", "caching", "compression", "budget"]
    assert [stage.total_usd for stage in result.waterfall] == pytest.approx(
        [0.112, 0.102, 0.102 - 0.028 + 0.0032, 0.0772 - 0.0231])
    # Alone, on the recorded steps: caching and compression save the same; the budget cuts a
    # after $0.03 (steps 1 and 2) and saves its last three steps, $0.08.
    assert [name for name, _ in result.alone] == [stage.strategy for stage in result.waterfall]
    assert [total for _, total in result.alone] == pytest.approx(
        [0.112, 0.12, 0.13 - 0.0248, 0.05])
    assert result.result.total_usd == pytest.approx(0.0541)
    assert (result.result.steps, result.result.tasks) == (7, 2)  # 7 + 2 summaries - 2 cut


def test_each_strategy_reports_a_typed_record(write_jsonl, write_prices):
    table = load_price_table(write_prices(ROUND_PRICES))
    touched = simulate(four_strategy_log(write_jsonl), table, FOUR_STRATEGIES).touched
    assert touched["routing"] == RoutingTouched(steps=1, tasks=1, unmatched=(),
                                                inflations_unmatched=())
    assert touched["caching"] == CachingTouched(steps=1, tasks=1, per_tool=(
        ToolHits("web_search", calls=2, no_args=0, hits=1, saved_usd=0.01),))
    assert touched["compression"] == CompressionTouched(
        steps=2, tasks=1, tokens_removed=900 + 1_900, summary_calls=2)
    budget = touched["budget"]
    assert isinstance(budget, BudgetTouched)
    # Task a ($0.11) is over 5x the median task ($0.02): the one runaway, and the one cut.
    assert (budget.steps, budget.tasks, budget.runaway_tasks, budget.runaways_cut,
            budget.normal_tasks_cut) == (2, 1, 1, 1, 0)
    assert (budget.saved_usd, budget.saved_on_runaways_usd, budget.saved_on_normal_usd) == (
        pytest.approx(0.0231), pytest.approx(0.0231), 0.0)
    assert budget.detail() == ("1 of 1 runaway tasks cut (saving $0.0231), 0 normal tasks cut "
                               "(saving $0.00)")
    assert list(budget.figures()) == [
        "steps", "tasks", "runaway_tasks", "runaways_cut", "normal_tasks_cut",
        "saved_on_runaways_usd", "saved_on_normal_usd", "saved_usd", "tasks_partly_unpriced"]
    assert touched["caching"].figures()["per_tool"] == [
        {"tool_name": "web_search", "calls": 2, "no_args": 0, "hits": 1, "saved_usd": 0.01}]


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 100_000))
def test_identity_scenario_reproduces_the_baseline(tmp_path_factory, seed):
    from benchmarks.generate import generate

    path = tmp_path_factory.mktemp("identity") / "log.jsonl"
    buffer = io.StringIO()
    generate(buffer, steps=random.Random(seed).randint(20, 300), seed=seed)
    path.write_text(buffer.getvalue())
    steps = read_steps([str(path)]).steps
    result = simulate(steps, load_price_table(), Scenario())
    assert result.result == result.baseline
    # A strategy that matches nothing changes nothing either.
    nothing = simulate(steps, load_price_table(),
                       Scenario(routes=(Route("no-such-label", "gpt-4o-mini"),),
                                cache=(CacheRule("no_such_tool", 60),), budget_usd=1e9))
    assert nothing.result.total_usd == pytest.approx(result.baseline.total_usd, rel=1e-12)


def test_output_is_deterministic_and_scenarios_compare(run_cli, tmp_path):
    from tests.conftest import SAMPLES

    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text("scenarios:\n  mini:\n    route: [model:gpt-4o=gpt-4o-mini]\n"
                         "  cached:\n    cache: ['web_search:1h']\n    budget: 0.5\n")
    args = ("simulate", str(SAMPLES / "agents.jsonl"), "--scenario", str(scenarios),
            "--budget-sweep", "0.25,1", "-f", "json")
    first, second = run_cli(*args), run_cli(*args)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert [s["scenario"]["name"] for s in document["simulations"]] == ["mini", "cached"]
    assert [p["budget_usd"] for p in document["budget_sweep"]] == [0.25, 1.0]
    table = run_cli("simulate", str(SAMPLES / "agents.jsonl"), "--cache", "web_search:1h",
                    "--no-color")
    assert "Waterfall" in table.stdout and "Tool caching by tool" in table.stdout
    assert table.stdout.startswith("Scenario: command line\ncache web_search for 3600 s\n")
    assert run_cli("simulate", str(SAMPLES / "agents.jsonl"), "--cache", "x:soon").exit_code == 2


def test_a_model_the_price_table_does_not_know_is_refused_not_priced_at_zero(run_cli, tmp_path):
    from tests.conftest import SAMPLES

    sample = str(SAMPLES / "research_agent.jsonl")
    routed = run_cli("simulate", sample, "--route", "draft=no-such-model")
    assert routed.exit_code == 2
    assert "route draft=no-such-model: 'no-such-model' is not in the price table" in (
        routed.stderr)
    summary = run_cli("simulate", sample, "--compress-after", "3", "--summary-model", "nope")
    assert summary.exit_code == 2 and "summary model: 'nope'" in summary.stderr
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text("scenarios:\n  typo:\n    route: ['draft=gpt-4o-mnii']\n")
    from_file = run_cli("simulate", sample, "--scenario", str(scenarios))
    assert from_file.exit_code == 2 and "in scenario 'typo'" in from_file.stderr
    known = run_cli("simulate", sample, "--route", "draft=gpt-4o-mini", "-f", "json")
    assert known.exit_code == 0, known.stderr


@pytest.mark.parametrize(("settings", "message"), [
    ("cache: [{web_search: 1h}]", "cache: expected text"),
    ("max_steps: 2.5", "max_steps must be a whole number"),
    ("budget: cheap", "budget must be a number"),
    ("compresion_after: 5", "unknown key 'compresion_after'"),
])
def test_scenario_file_mistakes_are_named_by_line(run_cli, tmp_path, settings, message):
    from tests.conftest import SAMPLES

    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(f"scenarios:\n  ok: {{budget: 1}}\n  bad:\n    {settings}\n")
    result = run_cli("simulate", str(SAMPLES / "research_agent.jsonl"), "--scenario",
                     str(scenarios))
    assert result.exit_code == 1
    assert f"{scenarios}:4: scenario 'bad': {message}" in result.stderr


def test_scenario_file_compression_has_the_flags_defaults(run_cli, tmp_path):
    from tests.conftest import SAMPLES

    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text("scenarios:\n  squeeze:\n    compress_after: 5\n")
    sample = str(SAMPLES / "research_agent.jsonl")
    from_file = json.loads(run_cli("simulate", sample, "--scenario", str(scenarios),
                                   "-f", "json").stdout)["simulations"][0]
    from_flags = json.loads(run_cli("simulate", sample, "--compress-after", "5",
                                    "-f", "json").stdout)["simulations"][0]
    assert from_file["result"] == from_flags["result"]
    assert "keeping the last 3 steps" in from_file["scenario"]["strategies"][0]
