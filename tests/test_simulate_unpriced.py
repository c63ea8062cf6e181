"""Unknown is never zero in `simulate`: the unpriced steps of the baseline and of each scenario
are shown in every format, and a step that only one side can price is left out of both, never
counted as saved."""

from __future__ import annotations

import csv
import io
import json

import pytest

from agentcost.pricing.table import load_price_table
from agentcost.simulation.engine import UnpricedSteps, simulate
from agentcost.simulation.scenario import Compression, Route, Scenario
from tests.conftest import REAL_TRACES

PRICES = """
models:
  big: {input: 3.0, output: 15.0}
  small: {input: 0.2, output: 1.0}
tools:
  web_search: {per_call: 0.01}
"""
T0 = 1_795_000_000


def search(task, step, at):
    return {"task_id": task, "step_number": step, "tool": "web_search", "tool_args": {"q": "x"},
            "timestamp": T0 + at}


def mixed_log(write_jsonl):
    """Task a: a `big` step of 1,000 in and 100 out ($0.0045), a step on a model the table
    does not know (2,000 in, 500 out: 2,500 tokens, unpriced), a web search ($0.01); task b:
    the same search 10 s later ($0.01), and a call to a tool the table does not know."""
    return write_jsonl([
        {"task_id": "a", "step_number": 1, "model": "big", "input_tokens": 1_000,
         "output_tokens": 100, "timestamp": T0},
        {"task_id": "a", "step_number": 2, "model": "mystery-model", "input_tokens": 2_000,
         "output_tokens": 500, "timestamp": T0 + 1},
        search("a", 3, 2),
        search("b", 1, 12),
        {"task_id": "b", "step_number": 2, "tool": "scraper", "tool_args": {"u": "y"},
         "timestamp": T0 + 20},
    ])


def test_unpriced_steps_are_shown_in_every_format(run_cli, write_jsonl, write_prices):
    path, prices = str(mixed_log(write_jsonl)), str(write_prices(PRICES))
    args = ("simulate", path, "--prices", prices, "--cache", "web_search:1h")
    # Baseline: $0.0045 + $0.01 + $0.01 = $0.0245; the scenario's second search is a hit:
    # $0.0145. Both leave out the same 2 steps: mystery-model (2,500 tokens) and scraper (0).
    table = run_cli(*args, "--no-color")
    assert table.exit_code == 0, table.stderr
    line = ("Unpriced, excluded from the totals: baseline 2 steps (2,500 tokens), scenario 2 "
            "steps (2,500 tokens)")
    assert "Baseline $0.0245  ->  scenario $0.0145  (saving $0.01," in table.stdout
    assert line in table.stdout
    assert "Unpriced steps (excluded from the totals)" in table.stdout
    assert "mystery-model" in table.stdout and "tool scraper" in table.stdout
    assert "agentcost: unpriced, excluded from the totals: baseline 2 steps" in table.stderr

    document = json.loads(run_cli(*args, "-f", "json").stdout)
    [simulation] = document["simulations"]
    groups = [{"what": "mystery-model", "reason": "model not in price table", "steps": 1,
               "tokens": 2_500},
              {"what": "tool scraper", "reason": "no price for the tool call", "steps": 1,
               "tokens": 0}]
    for side, total in (("baseline", 0.0245), ("result", 0.0145)):
        outcome = simulation[side]
        assert outcome["total_usd"] == pytest.approx(total, abs=1e-12)
        assert (outcome["unpriced_steps"], outcome["unpriced_tokens"]) == (2, 2_500)
        assert outcome["totals_exclude_unpriced"] is True
        assert outcome["unpriced"] == groups
    assert simulation["waterfall"][0]["unpriced_steps"] == 2

    rows = list(csv.DictReader(io.StringIO(run_cli(*args, "-f", "csv").stdout)))
    assert [(r["part"], r["stage"], r["total_usd"], r["unpriced_steps"], r["unpriced_tokens"])
            for r in rows] == [("baseline", "baseline", "0.0245000000", "2", "2500"),
                               ("waterfall", "caching", "0.0145000000", "2", "2500"),
                               ("alone", "caching", "0.0145000000", "", ""),
                               ("result", "result", "0.0145000000", "2", "2500")]
    markdown = run_cli(*args, "-f", "markdown").stdout  # nothing in it would be markup
    assert line in markdown
    assert "| baseline | mystery-model | model not in price table | 1 | 2,500 |" in markdown


def test_a_budget_says_it_counts_only_the_priced_part_of_a_task(write_jsonl, write_prices):
    table = load_price_table(write_prices(PRICES))
    steps = read(mixed_log(write_jsonl))
    # Task a ($0.0145 priced) has the mystery-model step, task b ($0.01) the scraper call.
    result = simulate(steps, table, Scenario(budget_usd=0.005))
    assert result.touched["budget"].tasks_partly_unpriced == 2
    assert ("2 tasks with unpriced steps: the budget counts only their priced part, so it may "
            "stop them later than it would.") in result.caveats


@pytest.mark.skipif(not REAL_TRACES.is_dir(), reason="needs the shared real traces")
def test_a_real_trace_with_an_unknown_model_says_what_the_totals_leave_out(run_cli):
    # The Phoenix trace's 9 LLM calls run on `claude-fable-5`, which no price table knows:
    # prompt 310,222 (cache included) and completion 1,895 tokens, 312,117 in all. Of its 8
    # tool calls, 7 are on tools the shipped table does not price either; `bash` it prices at
    # 0 (a shell run locally, as the coding agents' is).
    result = run_cli("simulate", str(REAL_TRACES / "phoenix/pxi-turn-trace.json"), "--cache",
                     "*", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [simulation] = json.loads(result.stdout)["simulations"]
    baseline = simulation["baseline"]
    assert (baseline["unpriced_steps"], baseline["unpriced_tokens"]) == (16, 312_117)
    assert baseline["unpriced"][0] == {"what": "claude-fable-5",
                                       "reason": "model not in price table", "steps": 9,
                                       "tokens": 312_117}
    assert "baseline 16 steps (312,117 tokens)" in result.stderr


def test_a_routed_sonnet_step_has_its_cache_writes_priced_as_openai_input(run_cli, write_jsonl):
    # The shipped pricing.yaml, per 1M tokens: claude-sonnet-4-5 input 3, cache read 0.3,
    # 5-minute cache write 3.75, output 15; gpt-4o input 2.5, output 10; gpt-4o-mini input
    # 0.15, cache read 0.075, output 0.6, and no cache-write price (OpenAI bills a prompt
    # written to its cache as ordinary input).
    path = write_jsonl([
        {"task_id": "t", "step_number": 1, "timestamp": T0, "model": "gpt-4o",
         "step_name": "summarize", "input_tokens": 2_000, "output_tokens": 200},
        {"task_id": "t", "step_number": 2, "timestamp": T0 + 10, "model": "claude-sonnet-4-5",
         "step_name": "summarize", "input_tokens": 500, "cache_read_tokens": 3_000,
         "cache_write_5m_tokens": 500, "output_tokens": 200},
    ])
    result = run_cli("simulate", str(path), "--route", "summ*=gpt-4o-mini", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [simulation] = json.loads(result.stdout)["simulations"]
    # gpt-4o step: 2,000 x 2.5 + 200 x 10 = $0.007 -> 2,000 x 0.15 + 200 x 0.6 = $0.00042,
    # saving $0.00658. Sonnet step: 500 x 3 + 3,000 x 0.3 + 500 x 3.75 + 200 x 15 = $0.007275
    # -> (500 + 500 written) x 0.15 + 3,000 x 0.075 + 200 x 0.6 = $0.000495, saving $0.00678.
    # Never $0.013855: the whole Sonnet step counted as saved.
    assert simulation["baseline"]["total_usd"] == pytest.approx(0.014275, abs=1e-12)
    assert simulation["result"]["total_usd"] == pytest.approx(0.000915, abs=1e-12)
    saving = simulation["baseline"]["total_usd"] - simulation["result"]["total_usd"]
    assert saving == pytest.approx(0.00658 + 0.00678, abs=1e-12)
    assert simulation["result"]["unpriced_steps"] == 0
    assert simulation["touched"]["routing"]["writes_as_input"] == [
        {"model": "gpt-4o-mini", "provider": "OpenAI", "steps": 1, "tokens": 500}]
    assert ("gpt-4o-mini lists no cache-write price: the 500 cache-write tokens of 1 routed step "
            "are priced as ordinary input, as OpenAI bills a prompt written to its cache."
            ) in simulation["caveats"]


NO_RULE_PRICES = """
models:
  sonnet: {provider: anthropic, input: 3.0, output: 15.0, cache_read: 0.3, cache_write_5m: 3.75}
  cheap: {provider: acme, input: 0.5, output: 1.5, cache_read: 0.05}
"""


def test_a_bucket_no_rule_prices_is_left_out_of_both_sides(write_jsonl, write_prices):
    table = load_price_table(write_prices(NO_RULE_PRICES))
    steps = read(write_jsonl([
        {"task_id": "t", "step_number": 1, "model": "sonnet", "step_name": "summarize",
         "input_tokens": 1_000, "output_tokens": 100, "timestamp": T0},
        {"task_id": "t", "step_number": 2, "model": "sonnet", "step_name": "summarize",
         "input_tokens": 500, "cache_read_tokens": 3_000, "cache_write_5m_tokens": 500,
         "output_tokens": 200, "timestamp": T0 + 1},
    ]))
    result = simulate(steps, table, Scenario(routes=(Route("summarize", "cheap"),)))
    # Step 1: 1,000 x 3 + 100 x 15 = $0.0045 -> 1,000 x 0.5 + 100 x 1.5 = $0.00065. Step 2
    # ($0.007275 on sonnet) has cache writes `cheap` lists no price for, and its provider has
    # no rule: unpriced in the scenario, so left out of the baseline too. The saving is
    # $0.00385, never $0.00385 + $0.007275.
    assert result.baseline.total_usd == pytest.approx(0.0045, abs=1e-12)
    assert result.result.total_usd == pytest.approx(0.00065, abs=1e-12)
    assert result.baseline.unpriced == (UnpricedSteps(
        "sonnet", "left out: on cheap in the scenario, no 5-minute cache-write price listed",
        1, 4_200),)
    assert result.result.unpriced == (UnpricedSteps(
        "cheap", "no 5-minute cache-write price listed", 1, 4_200),)
    assert [(s.total_usd, s.unpriced_steps) for s in result.waterfall] == [
        (pytest.approx(0.00065, abs=1e-12), 1)]
    assert result.alone == [("routing", pytest.approx(0.00065, abs=1e-12))]
    assert result.left_out_steps == 1
    assert any(c.startswith("1 step priced on one side only") for c in result.caveats)


def test_a_step_unpriced_as_recorded_is_not_a_cost_when_routed(write_jsonl, write_prices):
    table = load_price_table(write_prices(PRICES))
    steps = read(write_jsonl([
        {"task_id": "t", "step_number": 1, "model": "big", "input_tokens": 1_000,
         "output_tokens": 100, "timestamp": T0},
        {"task_id": "t", "step_number": 2, "model": "mystery", "input_tokens": 1_000,
         "output_tokens": 100, "timestamp": T0 + 1},
    ]))
    result = simulate(steps, table, Scenario(routes=(Route("mystery", "small", by_model=True),)))
    # On `small` the mystery step would cost 1,000 x 0.2 + 100 x 1 = $0.0003, against an
    # unknown cost as recorded: no saving and no loss to show, so it stays out of both.
    assert result.baseline.total_usd == result.result.total_usd == pytest.approx(0.0045)
    assert result.result.unpriced == (UnpricedSteps(
        "small", "left out: unpriced as recorded, model not in price table", 1, 1_100),)


def test_compressed_steps_whose_summary_cannot_be_priced_are_left_out(write_jsonl,
                                                                     write_prices):
    # The summary model's prices start in 2030: a summary made in 2026 has none.
    table = load_price_table(write_prices(
        "models:\n  big: {input: 3.0, output: 15.0}\n"
        "  small: {input: 0.2, output: 1.0, since: 2031-01-01,\n"
        "          history: [{since: 2030-01-01, input: 0.3, output: 1.2}]}\n"))
    steps = read(write_jsonl([
        {"task_id": "t", "step_number": i, "model": "big", "input_tokens": 1_000 + 500 * (i - 1),
         "output_tokens": 100, "timestamp": T0 + i} for i in range(1, 11)]))
    result = simulate(steps, table, Scenario(compression=Compression(
        after_step=5, keep_last=3, summary_model="small", summary_tokens=200)))
    # Steps 6-10 would each drop old context for a summary whose cost is unknown: their
    # saving is unknown, so they are left out of both sides, and the saving is $0, not the
    # 9,000 input tokens removed at $3/M ($0.027).
    assert result.left_out_steps == 5
    assert result.baseline.total_usd == result.result.total_usd
    # Steps 1-5: 1,000 + 1,500 + 2,000 + 2,500 + 3,000 input tokens at $3/M, 500 output at $15/M.
    assert result.baseline.total_usd == pytest.approx((10_000 * 3 + 500 * 15) / 1e6)
    assert result.baseline.unpriced_steps == 5
    assert result.result.unpriced_steps == 10  # the 5 steps and their 5 summaries
    assert result.baseline.unpriced[0].reason.startswith(
        "left out: its history summary on small in the scenario, no price in force")


def test_reported_costs_cannot_measure_a_routed_step(run_cli):
    from tests.conftest import SAMPLES

    result = run_cli("simulate", str(SAMPLES / "research_agent.jsonl"), "--route",
                     "draft=gpt-4o-mini", "--cost-mode", "reported")
    assert result.exit_code == 2
    assert "no cost was reported for the changed steps" in result.stderr


def test_a_compressed_step_is_repriced_not_charged_its_reported_cost(write_jsonl, write_prices):
    table = load_price_table(write_prices(PRICES))
    records = [{"task_id": "t", "step_number": i, "model": "big", "timestamp": T0 + i,
                "input_tokens": 1_000 * i, "output_tokens": 0,
                "cost_usd": 1_000 * i * 3 / 1e6} for i in (1, 2, 3)]
    result = simulate(read(write_jsonl(records)), table, Scenario(compression=Compression(
        after_step=2, keep_last=1, summary_model="small", summary_tokens=100)), cost_mode="auto")
    # Step 3 (3,000 tokens, reported $0.009) keeps what steps 2 and 3 added: the 1,000 step 1
    # added go for 100 summary tokens, so it costs 2,100 x 3 = $0.0063; the summary reads
    # 1,000 and writes 100 on `small`: $0.0003. Its recorded cost no longer applies.
    assert result.baseline.total_usd - result.result.total_usd == pytest.approx(
        0.009 - 0.0063 - 0.0003, abs=1e-12)


def read(path):
    from agentcost.ingest.read import read_steps

    return read_steps([str(path)]).steps


def test_percentiles_and_runaways_are_over_the_tasks_priced_whole(write_jsonl):
    """Three gpt-4o tasks at $0.26 (100,000 input at $2.50/M, 1,000 output at $10/M) and four
    on a model no table prices: P50 is $0.26, not $0.00, and with a median of $0.26 no task
    runs away (over 5 x $0.26)."""
    import agentcost
    from agentcost.simulation.scenario import Scenario

    records = [{"task_id": f"p{n}", "step": 1, "step_name": "s", "model": "gpt-4o",
                "input_tokens": 100_000, "output_tokens": 1_000} for n in range(3)]
    records += [{"task_id": f"u{n}", "step": 1, "step_name": "s", "model": "my-finetune",
                 "input_tokens": 50_000, "output_tokens": 500} for n in range(4)]
    path = write_jsonl(records)
    comparison = agentcost.compare(path, [Scenario(name="cap", budget_usd=1.0)],
                                   budgets=[0.13])
    baseline = comparison.simulations[0].baseline
    assert baseline.percentiles == {50: 0.26, 90: 0.26, 99: 0.26}
    assert baseline.tasks_left_out == 4
    [point] = comparison.budget_sweep
    # One step a task: the step that reaches the budget is kept, so nothing is cut either.
    assert (point.runaway_tasks, point.tasks_cut) == (0, 0)
