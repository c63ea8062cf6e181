"""What simulate's settings mean: a cache entry lives for its TTL from the fetch that stored it,
--max-steps counts the agent's own steps, --step-inflation takes a glob, --since/--until pick
the steps; a setting that acts on nothing is a warning, one that cannot act a usage error."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcost.ingest.read import read_steps
from agentcost.pricing.table import load_price_table
from agentcost.simulation.engine import simulate
from agentcost.simulation.scenario import CacheRule, Compression, Inflation, Route, Scenario
from agentcost.simulation.strategies.caching import fetches

PRICES = """
models:
  big: {input: 3.0, output: 15.0}
  small: {input: 0.2, output: 1.0}
tools:
  web_search: {per_call: 0.01}
"""
ELEVEN = int(dt.datetime(2026, 11, 27, 11, 0, tzinfo=dt.UTC).timestamp())


@pytest.fixture
def table(write_prices):
    return load_price_table(write_prices(PRICES))


def steps_of(write_jsonl, records):
    return read_steps([str(write_jsonl(records))]).steps


def test_a_cache_entry_expires_its_ttl_after_the_fetch_that_stored_it(write_jsonl, table):
    # 11:00 fetches (the entry lasts to 12:00), 11:50 hits, 12:40 misses and fetches again (to
    # 13:40), 13:30 hits: 2 hits, where a TTL sliding on each call would count 3.
    records = [{"task_id": f"t{i}", "step_number": 1, "tool": "web_search",
                "tool_args": {"q": "same"}, "timestamp": ELEVEN + minutes * 60}
               for i, minutes in enumerate((0, 50, 100, 150))]
    result = simulate(steps_of(write_jsonl, records), table,
                      Scenario(cache=(CacheRule("web_search", 3_600),)))
    [tool] = result.touched["caching"].per_tool
    assert (tool.calls, tool.hits) == (4, 2)
    assert result.baseline.total_usd - result.result.total_usd == pytest.approx(2 * 0.01)


def sequential_fetches(calls: list[tuple[int, int, float]]) -> set[int]:
    """The definition, one call at a time: (key, second, ttl) in time order per key."""
    stored: dict[int, float] = {}
    fetched = set()
    order = sorted(range(len(calls)), key=lambda i: (calls[i][0], calls[i][1], i))
    for i in order:
        key, at, ttl = calls[i]
        if key not in stored or at > stored[key]:
            stored[key] = at + ttl
            fetched.add(i)
    return fetched


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40), st.sampled_from([0, 3, 10])),
                max_size=40))
def test_fetches_follow_the_definition_call_by_call(calls):
    start = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    keyed = pl.DataFrame({
        "tool_name": [f"tool{key % 2}" for key, _, _ in calls],
        "tool_args": [f"args{key}" for key, _, _ in calls],
        "start_time": [start + dt.timedelta(seconds=at) for _, at, _ in calls],
        # One TTL per tool, as rules give: the first drawn for the tool.
        "_ttl": [float(next(t for k, _, t in calls if k % 2 == key % 2)) for key, _, _ in calls],
        "_row": [2 * i for i in range(len(calls))],
    }, schema_overrides={"start_time": pl.Datetime("us", "UTC"), "_row": pl.Int64})
    same_ttl = [(key, at, keyed["_ttl"][i]) for i, (key, at, _) in enumerate(calls)]
    # Fetches are named by `_row`: twice the call's place.
    assert {row // 2 for row in fetches(keyed).to_list()} == sequential_fetches(same_ttl)


def test_max_steps_counts_agent_steps_not_the_summaries_compression_adds(write_jsonl, table):
    # 12 LLM steps whose prompt grows by 500 tokens a step from 1,000; compression after step
    # 5 adds a summary call before each of steps 6..12 (7 calls). --max-steps 9 keeps agent
    # steps 1..9 and the summaries of 6..9; it cuts steps 10..12 and their 3 summaries.
    records = [{"task_id": "t", "step_number": i, "model": "big",
                "input_tokens": 1_000 + 500 * (i - 1), "output_tokens": 100,
                "timestamp": ELEVEN + i} for i in range(1, 13)]
    result = simulate(steps_of(write_jsonl, records), table, Scenario(
        compression=Compression(after_step=5, keep_last=3, summary_model="small",
                                summary_tokens=200), max_steps=9))
    assert result.touched["compression"].summary_calls == 7
    assert result.touched["budget"].steps == 6
    assert result.result.steps == 12 + 7 - 6
    # Alone, the limit cuts steps 10..12: 5,500 + 6,000 + 6,500 input tokens at $3/M and 300
    # output at $15/M.
    [(_, alone)] = [entry for entry in result.alone if entry[0] == "budget"]
    assert result.baseline.total_usd - alone == pytest.approx((18_000 * 3 + 300 * 15) / 1e6)


def label_log(write_jsonl):
    """Ten `big` steps of 1,000 in and 100 out ($0.0045 each); 2, 4, 6, 8 labelled summarize."""
    return [{"task_id": "t", "step_number": i, "model": "big", "input_tokens": 1_000,
             "output_tokens": 100, "timestamp": ELEVEN + i,
             "step_name": "summarize" if i in (2, 4, 6, 8) else "plan"} for i in range(1, 11)]


def test_step_inflation_is_a_glob_on_the_routed_steps(run_cli, write_jsonl, write_prices):
    path = str(write_jsonl(label_log(write_jsonl)))
    prices = str(write_prices(PRICES))
    result = run_cli("simulate", path, "--prices", prices, "--route", "summ*=small",
                     "--step-inflation", "summarize=1.3", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [simulation] = json.loads(result.stdout)["simulations"]
    # The 4 routed steps at x1.3: 1,300 x 0.2 + 130 x 1 = $0.00039 each, against $0.0045.
    assert simulation["result"]["total_usd"] == pytest.approx(6 * 0.0045 + 4 * 0.00039)
    assert "routed steps labelled summarize: x1.3 steps and tokens" in (
        simulation["scenario"]["strategies"])
    # By the recorded model, and the first inflation that matches a step wins.
    steps = read_steps([path]).steps
    by_model = simulate(steps, load_price_table(write_prices(PRICES)), Scenario(
        routes=(Route("summ*", "small"),),
        inflations=(Inflation("big", 2.0, by_model=True), Inflation("summ*", 1.3))))
    assert by_model.result.total_usd == pytest.approx(6 * 0.0045 + 4 * 0.0006)
    assert by_model.warnings == ["step inflation for label summ* matched no routed step"]


@pytest.mark.parametrize(("flags", "message"), [
    ((), "no strategy to replay: give at least one of --route, --cache, --compress-after, "
         "--budget, --max-steps"),
    (("--keep-last", "2"), "--keep-last acts only with --compress-after"),
    (("--summary-model", "small", "--budget", "1"), "--summary-model acts only with "
                                                      "--compress-after"),
    (("--step-inflation", "summarize=1.3", "--budget", "1"),
     "--step-inflation acts only with --route"),
])
def test_settings_that_cannot_act_are_usage_errors(run_cli, write_jsonl, write_prices, flags,
                                                   message):
    path = str(write_jsonl(label_log(write_jsonl)))
    result = run_cli("simulate", path, "--prices", str(write_prices(PRICES)), *flags)
    assert result.exit_code == 2
    assert message in result.stderr


def test_settings_that_match_nothing_are_warned_about(run_cli, write_jsonl, write_prices):
    path = str(write_jsonl(label_log(write_jsonl)))
    result = run_cli("simulate", path, "--prices", str(write_prices(PRICES)), "--route",
                     "sumarize=small", "--cache", "web_serch", "-f", "json")
    assert result.exit_code == 0
    warnings = ["route steps labelled sumarize -> small routed no step: no LLM step matches "
                "it, or an earlier route took them all",
                "cache rule web_serch matched no tool call: no tool called in these steps "
                "matches it, or an earlier rule took its calls"]
    assert json.loads(result.stdout)["simulations"][0]["warnings"] == warnings
    assert result.stderr.splitlines()[-2:] == [f"agentcost: warning: {w}" for w in warnings]
    # A budget sweep alone needs no strategy: it is its own.
    sweep = run_cli("simulate", path, "--prices", str(write_prices(PRICES)),
                    "--budget-sweep", "0.01")
    assert sweep.exit_code == 0, sweep.stderr


@pytest.mark.parametrize(("settings_text", "line", "message"), [
    ("keep_last: 2", 4, "keep_last acts only with compress_after"),
    ("step_inflation: [summarize=1.3]\n    budget: 1", 4,
     "step_inflation acts only with route"),
    ("{}", 3, "no strategy to replay: give at least one of route, cache, compress_after"),
    ("max_steps: 0", 4, "max_steps must be a whole number from 1 to 1,000,000,000, got 0"),
    # The flags' bounds: a budget that could never be reached, counts no polars int holds
    ("budget: .nan", 4, "budget must be a number from 0 to 1,000,000,000,000, got nan"),
    ("max_steps: 100000000000000000000", 4,
     "max_steps must be a whole number from 1 to 1,000,000,000, got 100000000000000000000"),
    ("compress_after: 2\n    summary_tokens: 100000000000000000000", 5,
     "summary_tokens must be a whole number from 1 to 1,000,000,000, got "
     "100000000000000000000"),
    ("compress_after: 2\n    keep_last: 1.5", 5,
     "keep_last must be a whole number from 0 to 1,000,000,000, got 1.5"),
    ("route: [summarize=small]\n    step_inflation: ['*=1e300']", 5,
     "--step-inflation '*=1e300': write LABEL=FACTOR, a factor above 0 and at most 1,000"),
    ("cache: ['web_search:0s']", 4, "--cache 'web_search:0s': a TTL above 0s and at most 365d"),
])
def test_scenario_files_get_the_flags_checks(run_cli, write_jsonl, tmp_path, settings_text,
                                             line, message):
    path = str(write_jsonl(label_log(write_jsonl)))
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(f"scenarios:\n  ok: {{budget: 1}}\n  bad:\n    {settings_text}\n"
                         if settings_text != "{}" else
                         "scenarios:\n  ok: {budget: 1}\n  bad: {}\n")
    result = run_cli("simulate", path, "--scenario", str(scenarios))
    assert result.exit_code == 1
    assert f"{scenarios}:{line}: scenario 'bad': {message}" in result.stderr


def test_scenario_files_take_inflation_globs(run_cli, write_jsonl, write_prices, tmp_path):
    path = str(write_jsonl(label_log(write_jsonl)))
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text("scenarios:\n  cheap:\n    route: ['summ*=small']\n"
                         "    step_inflation: [summarize=1.3]\n")
    result = run_cli("simulate", path, "--prices", str(write_prices(PRICES)), "--scenario",
                     str(scenarios), "-f", "json")
    assert result.exit_code == 0, result.stderr
    [simulation] = json.loads(result.stdout)["simulations"]
    assert simulation["result"]["total_usd"] == pytest.approx(6 * 0.0045 + 4 * 0.00039)


def test_since_and_until_pick_the_steps_replayed(run_cli, write_jsonl, write_prices):
    # Steps at 11:00:01 .. 11:00:10; the window [11:00:03, 11:00:07) holds steps 3..6, of
    # which 4 and 6 are summarize: routed, $0.0045 -> $0.0003 each.
    path = str(write_jsonl(label_log(write_jsonl)))
    result = run_cli("simulate", path, "--prices", str(write_prices(PRICES)), "--route",
                     "summarize=small", "--since", "2026-11-27T11:00:03Z", "--until",
                     "2026-11-27T11:00:07Z", "-f", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["window"]["since"] == "2026-11-27T11:00:03+00:00"
    [simulation] = document["simulations"]
    assert simulation["baseline"]["steps"] == 4
    assert simulation["baseline"]["total_usd"] == pytest.approx(4 * 0.0045)
    assert simulation["result"]["total_usd"] == pytest.approx(2 * 0.0045 + 2 * 0.0003)
    table = run_cli("simulate", path, "--prices", str(write_prices(PRICES)), "--route",
                    "summarize=small", "--since", "2026-11-27T11:00:03Z", "--no-color")
    assert table.stdout.startswith(
        "Window\nSteps that started from 2026-11-27 11:00:03 UTC to the last step; 2 steps "
        "outside\n")


@pytest.mark.parametrize(("options", "message"), [
    (("--budget", "nan"), "Invalid value for '--budget'"),
    (("--budget", "1e400"), "Invalid value for '--budget'"),
    (("--max-steps", "100000000000000000000"), "Invalid value for '--max-steps'"),
    (("--compress-after", "100000000000000000000"), "Invalid value for '--compress-after'"),
    (("--compress-after", "1", "--keep-last", "100000000000000000000"),
     "Invalid value for '--keep-last'"),
    (("--compress-after", "1", "--summary-tokens", "100000000000000000000"),
     "Invalid value for '--summary-tokens'"),
    (("--compress-after", "1", "--summary-tokens", "1e20"),
     "Invalid value for '--summary-tokens'"),
    (("--budget-sweep", "nan,inf"), "agentcost: error: --budget-sweep 'nan,inf': budgets must "
                                    "be above 0 and at most 1,000,000,000,000\n"),
    (("--budget-sweep", "0.01,nan"), "agentcost: error: --budget-sweep '0.01,nan': budgets "
                                     "must be above 0 and at most 1,000,000,000,000\n"),
    (("--route", "summarize=small", "--step-inflation", "*=nan"),
     "agentcost: error: --step-inflation '*=nan': write LABEL=FACTOR, a factor above 0 and at "
     "most 1,000\n"),
    (("--route", "summarize=small", "--step-inflation", "*=1e300"),
     "agentcost: error: --step-inflation '*=1e300': write LABEL=FACTOR, a factor above 0 and "
     "at most 1,000\n"),
    (("--cache", "web_search:0s"),
     "agentcost: error: --cache 'web_search:0s': a TTL above 0s and at most 365d\n"),
    (("--cache", "web_search:99999999999999999999d"),
     "agentcost: error: --cache 'web_search:99999999999999999999d': a TTL above 0s and at "
     "most 365d\n"),
])
def test_numeric_options_out_of_range_are_usage_errors(run_cli, write_jsonl, write_prices,
                                                       options, message):
    records = [*label_log(write_jsonl),
               *({"task_id": "t", "step_number": 10 + i, "tool_name": "web_search",
                  "tool_args": {"q": "x"}, "timestamp": ELEVEN + 10 + i} for i in (1, 2))]
    path = str(write_jsonl(records))
    result = run_cli("simulate", path, "--prices", str(write_prices(PRICES)), *options)
    assert result.exit_code == 2, result.output
    if message.startswith("agentcost: error: "):
        assert result.stderr == message
    else:  # the command line's own parser, in its box
        assert message in result.stderr
    assert "Traceback" not in result.output
