"""The library API: what a notebook or a scheduler calls, with no command line in between."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import subprocess
import sys
import threading
from datetime import UTC, datetime

import polars as pl
import pytest

import agentcost
from agentcost.errors import UsageError
from tests.conftest import REAL_TRACES, ROOT, SAMPLES

SAMPLE = str(SAMPLES / "research_agent.jsonl")


def own_steps() -> pl.DataFrame:
    """Two tasks a caller built: 1M input tokens of gpt-4o ($2.50) and 100k output ($1.00),
    then a task of one step with 200k input tokens ($0.50) and one web_search ($0.005). Every
    token bucket is given: a bucket left out is unknown, and its step unpriced."""
    no_tokens = {bucket: [0, 0, 0] for bucket in ("cache_read_tokens", "cache_write_5m_tokens",
                                                  "cache_write_1h_tokens", "reasoning_tokens")}
    return pl.DataFrame({
        "task_id": ["a", "a", "b"],
        "step": [1, 2, 1],
        "start_time": [datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
                       datetime(2026, 11, 27, 9, 1, tzinfo=UTC),
                       datetime(2026, 11, 27, 10, 0, tzinfo=UTC)],
        "kind": ["llm", "llm", "llm"],
        "model": ["gpt-4o", "gpt-4o", "gpt-4o"],
        "input_tokens": [1_000_000, 0, 200_000],
        "output_tokens": [0, 100_000, 0],
        "tool_name": [None, None, "web_search"],
        **no_tokens,
    })


def test_report_of_a_file_gives_the_worked_example():
    report = agentcost.report([SAMPLE])
    assert report.summary.total_cost_usd == pytest.approx(0.142, abs=1e-12)
    assert report.summary.llm_cost_usd == pytest.approx(0.129, abs=1e-12)
    assert isinstance(report.tasks, pl.DataFrame)
    assert report.tasks["task_id"].to_list() == ["research-001"]
    assert report.accounting.lines_read == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.summary = None  # type: ignore[misc]


def test_one_path_is_read_like_a_list_of_one():
    assert agentcost.report(SAMPLE).summary == agentcost.report([SAMPLE]).summary


def test_report_of_a_callers_frame_prices_it_by_hand():
    report = agentcost.report(own_steps())
    assert report.summary.tasks == 2
    assert report.summary.llm_cost_usd == pytest.approx(4.00, abs=1e-12)
    assert report.summary.tool_cost_usd == pytest.approx(0.005, abs=1e-12)
    totals = dict(report.tasks.select("task_id", "total_cost_usd").iter_rows())
    assert totals == pytest.approx({"a": 3.50, "b": 0.505}, abs=1e-12)
    assert report.accounting.files == ["(DataFrame)"]


def test_a_frame_without_cache_counts_is_unpriced_not_free():
    report = agentcost.report(own_steps().drop("cache_read_tokens"))
    assert report.summary.unpriced_steps == 3
    assert report.summary.llm_cost_usd == 0.0


def test_steps_read_once_can_be_reported_on_again():
    read = agentcost.read_steps([SAMPLE])
    assert read.steps.height == 10
    assert agentcost.report(read).summary.total_cost_usd == pytest.approx(0.142, abs=1e-12)


def test_window_takes_datetimes_and_text():
    steps = own_steps()
    by_text = agentcost.report(steps, since="2026-11-27T09:30:00Z")
    by_time = agentcost.report(steps, since=datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    assert by_text.summary.total_cost_usd == by_time.summary.total_cost_usd
    assert by_text.summary.total_cost_usd == pytest.approx(0.505, abs=1e-12)
    with pytest.raises(UsageError,
                       match=r"since \(2026-11-28T00:00:00\+00:00\) must be before until"):
        agentcost.report(steps, since="2026-11-28", until="2026-11-27")


def test_check_names_each_crossed_threshold_with_its_figures():
    report = agentcost.report(own_steps())
    crossed = agentcost.check(report, max_task_cost=1.0, max_total=10.0, max_p90=0.5)
    assert [(c.threshold, c.limit) for c in crossed] == [("max_task_cost", 1.0),
                                                          ("max_p90", 0.5)]
    worst, p90 = crossed
    assert (worst.tasks, worst.task_id, worst.value) == (1, "a", pytest.approx(3.5))
    assert p90.value == pytest.approx(3.5)  # nearest rank: ceil(0.9 x 2) = the 2nd of 2
    assert agentcost.render(crossed).splitlines() == [
        "agentcost check: task cost above $1.00: 1 task (most: a at $3.50)",
        "agentcost check: P90 cost per task $3.50 is above $0.50",
    ]
    assert agentcost.check(report, max_total=4.005) == []
    with pytest.raises(UsageError):
        agentcost.check(report, max_p90_drift=10.0)


def test_render_gives_every_format_of_the_same_report():
    report = agentcost.report([SAMPLE])
    document = json.loads(agentcost.render(report, "json"))
    assert document["summary"]["cost_usd"]["total"] == pytest.approx(0.142, abs=1e-12)
    assert "total $0.142" in agentcost.render(report, "table", width=100)
    assert agentcost.render(report, "csv").splitlines()[1].startswith("research-001,10,")
    assert agentcost.render(report, "markdown").startswith("# agentcost report")
    assert "<table" in agentcost.render(report, "html")
    with pytest.raises(UsageError):
        agentcost.render(report, "yaml")


def test_simulate_a_route_reprices_by_hand():
    from agentcost.simulation.scenario import Route, Scenario

    scenario = Scenario(name="mini", routes=(Route("gpt-4o", "gpt-4o-mini", by_model=True),))
    simulation = agentcost.simulate(own_steps(), scenario)
    assert simulation.baseline.total_usd == pytest.approx(4.005, abs=1e-12)
    # gpt-4o-mini: $0.15 / 1M input, $0.60 / 1M output: 1.2M input, 100k output, one tool call.
    assert simulation.result.total_usd == pytest.approx(0.18 + 0.06 + 0.005, abs=1e-12)


def test_compare_tells_a_progress_display_each_stage_as_it_starts():
    from agentcost.simulation.scenario import CacheRule, Route, Scenario

    class Stages:
        def __init__(self) -> None:
            self.told: list[tuple[str, int, int]] = []

        def start(self, total_bytes: int) -> None: ...
        def reading(self, name: str) -> None: ...
        def read(self, size_bytes: int) -> None: ...

        def stage(self, name: str, number: int, total: int) -> None:
            self.told.append((name, number, total))

    routed = Scenario(name="mini", routes=(Route("gpt-4o", "gpt-4o-mini", by_model=True),))
    both = Scenario(name="both", routes=routed.routes, cache=(CacheRule("*", 3600.0),))
    display = Stages()
    comparison = agentcost.compare(own_steps(), [routed, both], budgets=[1.0], progress=display)
    assert [simulation.scenario.name for simulation in comparison.simulations] == ["mini", "both"]
    assert display.told == [
        ("mini: pricing", 1, 6), ("mini: routing", 2, 6), ("both: pricing", 3, 6),
        ("both: routing", 4, 6), ("both: caching", 5, 6), ("budget sweep", 6, 6)]


def test_library_calls_start_no_thread_and_no_process(run_cli, monkeypatch, tmp_path):
    """Not even after a command ran in this process, on an OTLP file read in many chunks:
    processes are for callers who pass `jobs`."""
    from multiprocessing.process import BaseProcess

    from agentcost.ingest import sources

    started: list[BaseProcess] = []
    real_start = BaseProcess.start
    monkeypatch.setattr(BaseProcess, "start",
                        lambda process: (started.append(process), real_start(process))[1])
    monkeypatch.setattr(sources, "SPAN_CHUNK_BYTES", 2048)
    otlp = tmp_path / "otlp.jsonl"
    line = (REAL_TRACES / "otlp" / "kagent-tempo-export.json").read_text()
    otlp.write_text("\n".join(json.dumps(json.loads(line)) for _ in range(8)) + "\n")
    assert run_cli("report", str(otlp), "--jobs", "1").exit_code == 0
    threads = threading.active_count()
    read = agentcost.read_steps(otlp)
    agentcost.report(read)
    agentcost.report([SAMPLE])
    assert read.accounting.lines_read == 8
    assert threading.active_count() == threads
    assert started == []
    assert multiprocessing.active_children() == []


def test_a_plain_import_gives_the_worked_example():
    code = ("import agentcost; r = agentcost.report(['sample_traces/research_agent.jsonl']); "
            "print(r.summary.total_cost_usd, type(r.tasks).__name__)")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, check=True)
    assert completed.stdout == "0.142 DataFrame\n"


def test_the_readmes_library_example_runs_as_written(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Library", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    names: dict[str, object] = {}
    exec(block, names)
    assert names["report"].summary.total_cost_usd == pytest.approx(0.142, abs=1e-12)
    assert names["steps"].accounting.files == [str(SAMPLES.relative_to(ROOT) / "agents.jsonl"),
                                               str(SAMPLES.relative_to(ROOT)
                                                   / "research_agent.jsonl")]
    simulation = names["simulation"]
    assert simulation.result.total_usd < simulation.baseline.total_usd
    assert names["crossed"] == []
    assert names["text"].startswith("# agentcost report")


def test_a_callers_frame_is_checked_row_by_row_like_any_input():
    """Rows 2 and 4 cannot be used (negative tokens, an unknown kind) and row 5 has no task:
    each is skipped and named by its row, the rest priced by hand ($2.50 + $0.50)."""
    frame = own_steps().vstack(own_steps()).head(5).with_columns(
        task_id=pl.Series(["a", "a", "b", "b", None]),
        input_tokens=pl.Series([1_000_000, -5, 200_000, 10, 10]),
        kind=pl.Series(["llm", "llm", "LLM", "bogus", "llm"]),
        tool_name=pl.Series([None, None, None, None, None], dtype=pl.String),
    )
    report = agentcost.report(frame)
    skipped = {reason: tally.examples for reason, tally in report.accounting.skipped.items()}
    assert skipped == {"input_tokens is negative": [("(DataFrame)", 2)],
                       "kind must be one of llm, tool, agent, embedding, other":
                           [("(DataFrame)", 4)],
                       "missing task_id": [("(DataFrame)", 5)]}
    assert (report.accounting.lines_read, report.accounting.lines_used) == (5, 2)
    assert report.summary.total_cost_usd == pytest.approx(3.00, abs=1e-12)


def test_a_frame_with_unknown_columns_or_types_is_refused_by_name():
    with pytest.raises(UsageError, match="'input_tokenz' are not canonical step columns"):
        agentcost.report(own_steps().rename({"input_tokens": "input_tokenz"}))
    with pytest.raises(UsageError, match="column 'output_tokens'"):
        agentcost.report(own_steps().with_columns(pl.lit("many").alias("output_tokens")))


def test_a_frames_kind_and_tool_arguments_are_made_as_a_reader_makes_them():
    frame = own_steps().drop("kind").with_columns(
        tool_args=pl.Series([None, None, '{"q": "x",  "a": 1}']))
    report = agentcost.report(frame)
    assert report.summary.llm_steps == 3
    from agentcost.ingest.frame_input import steps_from_frame

    made, _ = steps_from_frame(frame)
    assert made["kind"].cast(pl.String).to_list() == ["llm", "llm", "llm"]
    assert made["tool_args"].to_list() == [None, None, '{"a":1,"q":"x"}']


def test_reporting_twice_on_steps_read_once_leaves_them_as_they_were():
    read = agentcost.read_steps([str(SAMPLES / "agents.jsonl")])
    first = agentcost.report(read, since="2026-11-27T09:30:00Z")
    noted = {what: tally.count for what, tally in first.accounting.notes.items()}
    second = agentcost.report(read, since="2026-11-27T09:30:00Z")
    assert {what: tally.count for what, tally in first.accounting.notes.items()} == noted
    assert first.accounting.notes.keys() == second.accounting.notes.keys()
    assert read.accounting.notes == {}


@pytest.mark.parametrize(("call", "message"), [
    (lambda: agentcost.report(SAMPLE, cost_mode="bogus"), "cost_mode='bogus'"),
    (lambda: agentcost.report(SAMPLE, jobs=0), "jobs=0"),
    (lambda: agentcost.report(SAMPLE, jobs="many"), "jobs='many'"),  # type: ignore[arg-type]
    (lambda: agentcost.report(b"traces.jsonl"), "not bytes"),  # type: ignore[arg-type]
    (lambda: agentcost.report([]), "name at least one"),
])
def test_bad_arguments_are_usage_errors(call, message):
    with pytest.raises(UsageError, match=message):
        call()


def test_opportunities_on_a_frame_name_the_inputs_to_give():
    labelled = own_steps().with_columns(name=pl.lit("summarize"))
    report = agentcost.report(labelled, opportunities=True)
    assert report.opportunities
    assert all(" TRACES " in o.command for o in report.opportunities)
