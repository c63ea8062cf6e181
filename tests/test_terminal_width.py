"""Every terminal output at 80 columns: no line wider than 80, no figure split across lines.

Each output is drawn twice, at 80 columns and at 1,000 (where nothing wraps). A figure cut in
two at 80 leaves pieces ("3,465,43" and "0") that the wide drawing does not have: every
figure of the narrow drawing must be one of the wide drawing's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

import agentcost
from agentcost.cli.report_command import Breakdown
from tests.conftest import REAL_TRACES, SAMPLES

WIDTH = 80
# A figure standing alone: not part of an id (task-0000286, d6e0…8d8f/2) or a file:line.
FIGURE = re.compile(r"(?<![\w…\-./:])\$?\d[\d,]*(?:\.\d+)?%?(?![\w…\-/:])")
# Row numbers and the "80" of "left out to fit 80 columns" appear at 80 columns only.
ONLY_NARROW = {str(n) for n in range(100)}


def assert_fits(narrow: str, wide: str) -> None:
    lines = narrow.splitlines()
    assert lines, "nothing rendered"
    too_wide = [line for line in lines if cell_len(line) > WIDTH]
    assert not too_wide, "\n".join(too_wide)
    pieces = set(FIGURE.findall(narrow)) - set(FIGURE.findall(wide)) - ONLY_NARROW
    assert not pieces, f"figures split or changed at {WIDTH} columns: {sorted(pieces)}"


def run_fitting(run_cli, *args: str, codes: tuple[int, ...] = (0,)) -> str:
    """The command's output at 80 columns, checked against its output at 1,000."""
    narrow, wide = (run_cli(*args, "--width", str(width)) for width in (WIDTH, 1000))
    assert narrow.exit_code in codes, narrow.stderr
    assert_fits(narrow.stdout, wide.stdout)
    return str(narrow.stdout)


def assert_renders_fitting(result: object) -> None:
    narrow = agentcost.render(result, "table", width=WIDTH)  # type: ignore[arg-type]
    wide = agentcost.render(result, "table", width=1000)  # type: ignore[arg-type]
    assert_fits(narrow, wide)


@pytest.fixture(scope="module")
def agents(tmp_path_factory):
    """The sample's first 1,200 steps (its first 125 tasks): every table and
    view the full sample has, in less time."""
    path = tmp_path_factory.mktemp("agents") / "agents.jsonl"
    lines = (SAMPLES / "agents.jsonl").read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1200]))
    return agentcost.read_steps([str(path)])


@pytest.mark.parametrize("by", [None, *Breakdown])
def test_every_report_view_fits(agents, by):
    report = agentcost.report(agents, by=None if by is None else by.value)
    assert_renders_fitting(report)


def test_the_report_with_savings_drift_and_a_window_fits(agents, tmp_path):
    earlier = agentcost.report(agents, until="2026-11-27T04:00:00Z")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(agentcost.render(earlier, "json"))
    report = agentcost.report(agents, since="2026-11-27T02:00:00Z", opportunities=True,
                              baseline=baseline)
    assert report.opportunities and report.drift
    assert_renders_fitting(report)
    # The savings' commands leave the table for lines of their own, each one whole.
    narrow = agentcost.render(report, "table", width=WIDTH)
    commands = [line for line in narrow.splitlines() if line.startswith("agentcost simulate")]
    assert len(commands) == len(report.opportunities)


def test_long_ids_and_unpriced_models_fit(write_jsonl):
    # Ids as coding agents and tracers write them: 36 characters, alike but in the middle.
    records = [{"task_id": f"8f14e45f-ceea-467f-a0e7-5a3bc1a6b0c{n}", "step": 1,
                "model": "gpt-4o" if n % 2 else "my-internal-model-v2-2026-01-15",
                "input_tokens": 1_234_567 * (n + 1), "output_tokens": 89_012,
                "tool_name": "a_tool_that_no_price_table_knows" if n == 3 else None,
                "user": "someone@example.com", "timestamp": f"2026-12-06T10:0{n}:00Z"}
               for n in range(6)]
    report = agentcost.report(write_jsonl(records), by="user")
    assert_renders_fitting(report)
    narrow = agentcost.render(report, "table", width=WIDTH)
    # Shortened in the middle: each keeps its start and its distinct end.
    for n in (1, 3, 5):
        assert re.search(rf"8f14e4\S*…\S*b0c{n} ", narrow), narrow
    # A figure's heading is whole, never cut to a word two columns share ("tokens").
    assert "tokens out" in narrow and "tokens ┃" not in narrow, narrow


def test_a_real_coding_agent_session_fits():
    session = REAL_TRACES / "claude-code" / "tool-heavy-session.jsonl"
    if not session.is_file():
        pytest.skip("the shared real traces are not here")
    for by in ("session", "project", "branch", "block"):
        assert_renders_fitting(agentcost.report([str(session)], by=by))


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "scenarios.yaml"
    path.write_text("scenarios:\n"
                    "  cheap-summaries:\n    route: [summarize=gpt-4o-mini]\n"
                    "    cache: ['web_search:1h']\n"
                    "  budgets-only:\n    budget: 0.50\n    max_steps: 40\n"
                    "  compressed:\n    compress_after: 5\n    keep_last: 3\n")
    return path


def test_simulations_fit(agents, scenarios):
    from agentcost.simulation.scenario_file import load_scenarios

    comparison = agentcost.compare(agents, load_scenarios(scenarios), budgets=[0.1, 0.5, 1.0])
    assert_renders_fitting(comparison)


def test_simulate_on_the_command_line_fits(run_cli):
    run_fitting(run_cli, "simulate", str(SAMPLES / "agents.jsonl"), "--route",
                "summarize=gpt-4o-mini", "--cache", "web_search:1h", "--compress-after", "5",
                "--budget", "0.5", "--budget-sweep", "0.1,0.5,1")


def test_check_fits(run_cli, tmp_path):
    traces = tmp_path / "traces.jsonl"
    traces.write_text((SAMPLES / "agents.jsonl").read_text() + "{not json\n")
    output = run_fitting(run_cli, "check", str(traces), "--max-task-cost", "0.01",
                         "--max-total", "1", "--max-p90", "0.01", "--fail-on-unpriced",
                         codes=(5,))
    # Each crossed threshold starts a line of its own; a long one goes on, indented.
    entries = [line for line in output.splitlines() if line.startswith("agentcost check: ")]
    assert len(entries) == 5, output
    assert len(output.splitlines()) > 5
    assert all(line.startswith("  ") for line in output.splitlines()
               if not line.startswith("agentcost check: "))


@pytest.mark.parametrize("args", [
    ("pricing", "list"),
    ("pricing", "show", "claude-sonnet-4-5"),
    ("pricing", "which", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("pricing", "check", str(SAMPLES / "agents.jsonl")),
])
def test_pricing_commands_fit(run_cli, args):
    run_fitting(run_cli, *args, codes=(0, 3))


def test_help_fits(run_cli):
    from tests.test_cli_docs import COMMANDS

    for name, _ in [("", None), *COMMANDS]:
        narrow, wide = (run_cli(*name.split(), "--help", columns=width)
                        for width in (WIDTH, 1000))
        assert narrow.exit_code == 0
        assert_fits(narrow.stdout, wide.stdout)


def test_width_is_never_exceeded_and_json_is_untouched(run_cli):
    result = run_cli("report", str(SAMPLES / "agents.jsonl"), "--width", "60")
    assert result.exit_code == 0
    assert max(cell_len(line) for line in result.stdout.splitlines()) <= 60
    as_json = run_cli("report", str(SAMPLES / "agents.jsonl"), "-f", "json", "--width", "60")
    assert json.loads(as_json.stdout)["summary"]["tasks"] == 402
