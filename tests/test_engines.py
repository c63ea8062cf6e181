"""Every executor gives the same report, simulation and check, byte for byte (bar the line
that names the engine): on the sample traces, on shards where each task spans many files, and
on adversarial prices. The local executor is run with one bucket and with several, so that
tasks, repeats and percentiles are split across buckets."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

import agentcost
from agentcost.engine.choose import pick
from agentcost.engine.local import LocalExecutor
from agentcost.engine.quantiles import nearest_ranks
from agentcost.simulation.scenario import CacheRule, Scenario
from agentcost.stats import nearest_rank
from tests.engine_datasets import (
    ADVERSARIAL_SCENARIO,
    DUPLICATED,
    REPORTS,
    SCENARIO,
    dataset_named,
    without_engine,
)

EXECUTORS: dict[str, Callable[[], Any]] = {
    "local, one bucket": lambda: LocalExecutor(buckets=1),
    "local, five buckets": lambda: LocalExecutor(buckets=5),
    "local, default buckets": lambda: "local",
    # Every file over 16 KiB read in pieces (a file with a bad line is read again, whole).
    "local, 16K pieces": lambda: LocalExecutor(buckets=4, piece_bytes=16 * 1024),
}
_MEMORY_REPORTS: dict[str, bytes] = {}  # the reference, computed once per case


# Every report on one local executor, and each way of reading and bucketing on each data set's
# plain report: what a report shows does not depend on how the steps were gathered.
CASES = [("local, five buckets", dataset, options) for dataset, options in REPORTS] + [
    (executor, dataset, {}) for executor in EXECUTORS if executor != "local, five buckets"
    for dataset in ("samples", "shards", "adversarial")]


@pytest.mark.parametrize(("executor", "dataset", "options"), CASES)
def test_every_executor_writes_the_same_report(executor, dataset, options, shards,
                                               adversarial):
    inputs, prices = dataset_named(dataset, shards, adversarial)
    case = f"{dataset} {sorted(options.items())}"
    if case not in _MEMORY_REPORTS:
        memory = agentcost.report(inputs, prices=prices, engine="memory", **options)
        assert memory.engine == "memory"
        _MEMORY_REPORTS[case] = agentcost.render(memory, "json").encode()
    other = agentcost.report(inputs, prices=prices, engine=EXECUTORS[executor](), **options)
    assert other.engine == "local"
    expected = _MEMORY_REPORTS[case]
    written = agentcost.render(other, "json").encode()
    assert b'"engine": "local"' in written
    assert without_engine(written) == without_engine(expected)


@pytest.mark.parametrize("executor", ["local, one bucket", "local, five buckets"])
@pytest.mark.parametrize("dataset", ["samples", "shards", "adversarial"])
def test_every_executor_draws_the_same_charts(executor, dataset, shards, adversarial):
    inputs, prices = dataset_named(dataset, shards, adversarial)
    memory = agentcost.report(inputs, prices=prices, engine="memory", charts=True).charts
    other = agentcost.report(inputs, prices=prices, engine=EXECUTORS[executor](),
                             charts=True).charts
    assert memory is not None and other is not None
    assert other.period == memory.period and other.untimed_steps == memory.untimed_steps
    assert other.over_time.equals(memory.over_time)
    assert other.by_tool.equals(memory.by_tool)
    assert (other.by_workflow is None) == (memory.by_workflow is None)


# The local executor plays a simulation bucket by bucket, with the cache hits found over every
# bucket's tool calls (spilled again by tool and arguments): one bucket and five.
@pytest.mark.parametrize("executor", ["local, one bucket", "local, five buckets"])
@pytest.mark.parametrize("dataset", ["samples", "shards", "adversarial"])
def test_every_executor_simulates_the_same(executor, dataset, shards, adversarial):
    inputs, prices = dataset_named(dataset, shards, adversarial)
    scenario = ADVERSARIAL_SCENARIO if dataset == "adversarial" else SCENARIO
    budgets = [0.5, 0.75] if dataset == "adversarial" else [0.02, 0.1]
    memory = agentcost.compare(inputs, [scenario], budgets=budgets, prices=prices,
                               engine="memory")
    other = agentcost.compare(inputs, [scenario], budgets=budgets, prices=prices,
                              engine=EXECUTORS[executor]())
    assert (memory.engine, other.engine) == ("memory", "local")
    assert agentcost.render(other, "json") == agentcost.render(memory, "json")
    assert other.budget_sweep == memory.budget_sweep
    assert memory.simulations[0].touched["caching"].steps > 0  # hits across tasks


def test_several_scenarios_in_a_window_simulate_the_same(shards):
    """Two scenarios replayed together (each caching with its own rules) on the steps of a
    window, on five buckets: each as one pass over the window's steps gives it."""
    scenarios = [SCENARIO, Scenario(name="cache-only", cache=(CacheRule("*", 60),),
                                    max_steps=5)]
    window = {"since": "2026-11-27T06:00:00", "until": "2026-11-28T01:00:00"}
    memory = agentcost.compare(shards, scenarios, budgets=[0.03], engine="memory", **window)
    local = agentcost.compare(shards, scenarios, budgets=[0.03],
                              engine=LocalExecutor(buckets=5), **window)
    assert agentcost.render(local, "json") == agentcost.render(memory, "json")
    assert memory.steps_outside > 0
    shorter = memory.simulations[1].touched
    assert 0 < shorter["caching"].steps < memory.simulations[0].touched["caching"].steps


def test_a_budget_reached_exactly_is_the_same_cut_on_both(adversarial):
    """Tasks t000, t003, ... step at $0.25 a step (250,000 tokens at $1 per million) plus
    compute; the $0.50 budget is reached exactly at the second step's tokens, so every such
    task of three steps or more is cut. Both executors cut the same tasks."""
    inputs, prices = adversarial
    cut = [agentcost.simulate(inputs, Scenario(budget_usd=0.5), prices=prices, engine=engine)
           .touched["budget"].figures() for engine in ("memory", LocalExecutor(buckets=4))]
    assert cut[0] == cut[1]
    assert cut[0]["tasks"] > 0


@pytest.mark.parametrize("executor", ["local, five buckets"])  # a check reads the report only
def test_every_executor_checks_the_same(executor, shards):
    limits = {"max_task_cost": 0.05, "max_total": 1.0, "max_p90": 0.01,
              "fail_on_unpriced": True, "max_skipped": 0}
    memory = agentcost.check(agentcost.report(shards, engine="memory"), **limits)
    other = agentcost.check(agentcost.report(shards, engine=EXECUTORS[executor]()), **limits)
    assert agentcost.render(other, "json") == agentcost.render(memory, "json")
    assert other == memory
    assert len(other) >= 3


def test_repeats_across_files_are_accounted_as_one_pass_would(shards):
    """Seven lines copied into the next shard: each skipped once as a repeat, wherever the
    buckets put its task; the first five places listed in file and line order."""
    memory = agentcost.report(shards, engine="memory").accounting
    local = agentcost.report(shards, engine=LocalExecutor(buckets=5)).accounting
    repeats = [tally for reason, tally in local.skipped.items() if "duplicate" in reason]
    assert sum(tally.count for tally in repeats) == DUPLICATED
    assert local.lines_repeated == memory.lines_repeated == DUPLICATED
    assert local.skipped == memory.skipped and local.notes == memory.notes
    assert local.lines_used == memory.lines_used
    assert local.lines_read == local.lines_used + local.lines_skipped + local.lines_blank


def test_pieces_of_a_file_are_read_as_the_whole_file_is(tmp_path, monkeypatch):
    """A clean file read 4 KiB at a time gives the steps, unknown-field notes and line
    numbers of one whole read; one with a blank line and a bad line in its middle (not for
    the whole-file fast path) is read again in chunks, as a whole read falls back to."""
    from benchmarks.generate import generate

    out = io.StringIO()
    generate(out, steps=300, seed=4)
    lines = [line.replace('"user"', '"colour":"red","user"', 1) for line in out.getvalue()
             .splitlines()]
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(lines) + "\n", encoding="utf-8")
    unclean = tmp_path / "unclean.jsonl"
    unclean.write_text("\n".join([*lines[:150], "", "{not json", *lines[150:]]) + "\n",
                       encoding="utf-8")
    from agentcost.engine.spill import BucketSpill

    spilled: list[int] = []
    write = BucketSpill.write
    monkeypatch.setattr(BucketSpill, "write",
                        lambda self, steps: (spilled.append(steps.height), write(self, steps)))
    for path in (clean, unclean):
        memory = agentcost.report([path], engine="memory")
        spilled.clear()
        pieces = agentcost.report([path], engine=LocalExecutor(buckets=3, piece_bytes=4096))
        # The clean file's 90 KB went to the spill in pieces; the other, after the piece
        # with its blank line, was read again whole and went in one go.
        if path == clean:
            assert len(spilled) > 10 and sum(spilled) == len(lines)
        else:
            assert spilled[-1] == len(lines)
        assert pieces.summary.steps == memory.summary.steps == len(lines)
        assert without_engine(agentcost.render(pieces, "json").encode()) == without_engine(
            agentcost.render(memory, "json").encode())
    assert any("colour" in note for note in memory.accounting.notes)
    assert memory.accounting.lines_blank == 1 and memory.accounting.lines_skipped == 1


def test_the_local_executor_leaves_no_spill_behind(tmp_path, shards):
    spill = tmp_path / "spill"
    spill.mkdir()
    agentcost.report(shards, engine=LocalExecutor(buckets=3, spill_dir=str(spill)))
    assert list(spill.iterdir()) == []


def test_a_failure_midway_leaves_no_spill_behind(tmp_path, shards, monkeypatch):
    import agentcost.engine.local as local

    def fail(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "priced_partial", fail)
    with pytest.raises(KeyboardInterrupt):
        agentcost.report(shards, engine=LocalExecutor(buckets=3, spill_dir=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []


def test_two_pass_percentiles_are_nearest_rank():
    """Ten values 0.1 ... 1.0 over three partitions: P50 is rank ceil(5) = 0.5, P90 rank 9 =
    0.9, P99 rank ceil(9.9) = 10 = 1.0."""
    values = [round(0.1 * k, 1) for k in range(1, 11)]
    partitions = [pl.Series(values[i::3]) for i in range(3)]
    assert nearest_ranks(lambda: partitions, (50, 90, 99)) == {50: 0.5, 90: 0.9, 99: 1.0}
    assert nearest_ranks(lambda: [pl.Series([], dtype=pl.Float64)], (50,)) == {}


def test_two_pass_percentiles_match_one_sorted_list_on_awkward_values():
    rng = random.Random(3)
    for _ in range(100):
        values = [rng.choice([0.0, 1e-11 * rng.randint(1, 9), 0.30000000000000004,
                              rng.random() * 10 ** rng.randint(-9, 4)])
                  for _ in range(rng.randint(1, 200))]
        parts = rng.randint(1, 6)
        partitions = [pl.Series(values[i::parts], dtype=pl.Float64) for i in range(parts)]
        ordered = sorted(values)
        assert nearest_ranks(lambda p=partitions: p, (50, 90, 99)) == {
            p: nearest_rank(ordered, p) for p in (50, 90, 99)}


def test_auto_picks_memory_while_the_input_fits_comfortably():
    """The memory executor holds about 2 bytes per input byte: 1 GB of input needs about
    2 GB, which is half of 4 GB free (memory) but more than half of 3 GB (local)."""
    gigabyte = 1024**3
    assert pick(gigabyte, 4 * gigabyte) == "memory"
    assert pick(gigabyte, 3 * gigabyte) == "local"
    assert pick(gigabyte, None) == "memory"


def test_auto_runs_local_when_little_memory_is_free(monkeypatch, shards):
    """The shards are about 600 KB: with 1 MB free, twice that is more than half of it;
    with 8 MB free, it is less."""
    import agentcost.engine.choose as choose

    monkeypatch.setattr(choose, "available_bytes", lambda: 1_000_000)
    assert agentcost.report(shards).engine == "local"
    monkeypatch.setattr(choose, "available_bytes", lambda: 8_000_000)
    assert agentcost.report(shards).engine == "memory"


def test_a_container_limit_counts_as_what_is_free(tmp_path):
    """A cgroup limit of 4 GiB with 1 GiB in use leaves 3 GiB; no limit says nothing."""
    from agentcost.engine.choose import _cgroup_left

    (tmp_path / "memory.max").write_text(f"{4 * 1024**3}\n")
    (tmp_path / "memory.current").write_text(f"{1024**3}\n")
    assert _cgroup_left(tmp_path) == 3 * 1024**3
    (tmp_path / "memory.max").write_text("max\n")
    assert _cgroup_left(tmp_path) is None


def test_the_command_line_says_which_engine_ran(run_cli, shards):
    paths = [str(path) for path in shards]
    local = run_cli("report", *paths, "--engine", "local", "--format", "json")
    auto = run_cli("report", *paths, "--format", "json")
    assert local.exit_code == auto.exit_code == 0
    assert json.loads(local.stdout)["inputs"]["engine"] == "local"
    assert json.loads(auto.stdout)["inputs"]["engine"] == "memory"  # a small input fits
    table = run_cli("report", *paths, "--engine", "local")
    assert "Engine: local" in table.stdout
    for command in (["simulate", *paths, "--budget", "0.05"],
                    ["check", *paths, "--max-total", "1000", "--max-skipped", "100"]):
        assert run_cli(*command, "--engine", "local").exit_code == 0
    wrong = run_cli("report", *paths, "--engine", "spark")
    assert wrong.exit_code == 2


def test_blocks_on_the_hour_are_the_same_in_every_bucket(write_jsonl):
    """gpt-4o-mini at $0.15 per million input tokens: 1,000,000 tokens cost $0.15 a step.
    Requests at 10:00:00 (a), 15:00:00 (b: exactly 5 hours on, still the 10:00 block),
    15:00:00.5 (c: later, so a block starting 15:00), 21:30 (d: a block at 21:00); a tool
    call of e at 20:40 falls in the gap after the 15:00 block, so in it. Each task is alone
    in its bucket or not, however many buckets there are: the blocks are those one pass
    finds."""
    def step(task: str, at: str, **more: object) -> dict[str, object]:
        return {"task_id": task, "step_number": 1, "timestamp": f"2026-11-27T{at}Z", **more}

    llm = {"model": "gpt-4o-mini", "input_tokens": 1_000_000, "output_tokens": 0}
    path = write_jsonl([step("a", "10:00:00", **llm), step("b", "15:00:00", **llm),
                        step("c", "15:00:00.5", **llm), step("d", "21:30:00", **llm),
                        step("e", "20:40:00", tool_name="grep", kind="tool")])
    expected = {"2026-11-27 10:00": (2, 0.3), "2026-11-27 15:00": (2, 0.15),
                "2026-11-27 21:00": (1, 0.15)}
    for engine in ("memory", LocalExecutor(buckets=1), LocalExecutor(buckets=4)):
        table = agentcost.report([path], by="block", engine=engine).dashboard.breakdown
        assert table is not None
        found = {block: (steps, cost) for block, steps, cost
                 in table.select("block", "steps", "cost_usd").iter_rows()}
        assert found == expected


@pytest.mark.parametrize("engine", ["memory", "local"])
def test_a_simulation_of_no_step_is_the_empty_one_on_every_executor(write_jsonl, engine):
    """A log with no step (a cron job's quiet day) simulates to nothing, not to an error:
    baseline and scenario $0 over 0 steps, and a sweep that cuts no task."""
    path = write_jsonl([""])
    run = agentcost.compare([path], [Scenario(cache=(CacheRule("*", 60),), budget_usd=1.0)],
                            budgets=[0.5], engine=engine)
    [simulation] = run.simulations
    assert (simulation.baseline.total_usd, simulation.baseline.steps) == (0.0, 0)
    assert simulation.result.total_usd == 0.0
    assert [(point.tasks_cut, point.saving_usd) for point in run.budget_sweep] == [(0, 0.0)]


def test_a_model_unpriced_for_two_reasons_is_listed_in_one_order(write_jsonl, write_prices):
    """gpt-5 lists no batch or flex tier: 5 steps on each are unpriced for those two reasons,
    as many steps each. The rows come by steps, then model, then reason, on every executor
    and every run: batch before flex."""
    prices = write_prices("version: 1\nmodels:\n  gpt-5: {input: 1.25, output: 10}\n")
    steps = [{"task_id": f"t{n}", "step_number": 1, "timestamp": "2026-11-27T10:00:00Z",
              "model": "gpt-5", "service_tier": tier, "input_tokens": 100, "output_tokens": 10}
             for n, tier in enumerate(["flex", "batch"] * 5)]
    path = write_jsonl(steps)
    for engine in ("memory", LocalExecutor(buckets=3), LocalExecutor(buckets=7)):
        for _ in range(3):
            rows = agentcost.report([path], prices=prices, engine=engine).unpriced_models
            assert rows["steps"].to_list() == [5, 5]
            assert ["batch" in reason for reason in rows["unpriced_reason"]] == [True, False]
