"""Every command's --help reads at 80 columns (options in panels, choices spelled out, no type
noise, examples at the end that use options the command has), and README's Usage section
agrees with it: it holds `agentcost report --help` as printed, and its example commands use
only options that exist. To accept a new --help on purpose:
AGENTCOST_UPDATE_README=1 pytest tests/test_cli_docs.py"""

from __future__ import annotations

import os
import re
import shlex

import pytest
import typer

from agentcost.cli import app, pricing_command
from agentcost.cli.options import INPUT_FORMATS, CostMode, OutputFormat
from agentcost.cli.report_command import Breakdown, SortColumn
from tests.conftest import ROOT

COMMANDS = [(command.name, command.callback) for command in app.registered_commands] + [
    (f"pricing {command.name}", command.callback)
    for command in pricing_command.app.registered_commands]
README = ROOT / "README.md"
HELP_MARKER = "<!-- `agentcost report --help` at 80 columns; tests/test_cli_docs.py checks it -->"


def options_of(name: str) -> set[str]:
    """Every option spelling the command accepts, --help included."""
    command = typer.main.get_command(app)
    context = typer.Context(command)
    for part in name.split():
        command = command.get_command(context, part)  # type: ignore[attr-defined]
    return {spelling for param in command.get_params(context)
            for spelling in (*param.opts, *param.secondary_opts) if spelling.startswith("-")}


def flags_in(example: str) -> set[str]:
    return {word.split("=")[0] for word in shlex.split(example) if word.startswith("-")
            and word != "-"}


def words_of(help_text: str) -> set[str]:
    """The help's words, across its panels' borders and line breaks."""
    return {word.strip(",.;:()") for word in re.sub(r"[│╭╮╰╯─]", " ", help_text).split()}


@pytest.mark.parametrize(("name", "callback"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_help_reads_at_80_columns(run_cli, name, callback):
    result = run_cli(*name.split(), "--help", columns=80)
    assert result.exit_code == 0
    text = result.stdout
    assert f"Usage: agentcost {name} " in text
    for noise in ("<bool>", "<list", "<str>", "<int", "<path>", "<float", "…", "x<="):
        assert noise not in text, noise
    # The examples come last, each whole on its line, each this command with its own options.
    assert "Examples:" in text
    examples = [line.strip(" │") for line in text[text.index("Examples:"):].splitlines()
                if line.strip().startswith("agentcost ")]
    assert examples
    for example in examples:
        assert example.startswith(f"agentcost {name} ")
        assert flags_in(example) <= options_of(name), example


def test_report_help_groups_options_and_spells_out_choices(run_cli):
    text = run_cli("report", "--help", columns=80).stdout
    panels = re.findall(r"╭─ (\w[\w ]*?) ─", text)
    assert panels == ["Options", "Input", "Pricing", "Output", "Window", "Dashboard"]
    words = words_of(text)
    for choices in (OutputFormat, SortColumn, Breakdown, CostMode):
        assert {choice.value for choice in choices} <= words, choices
    assert set(INPUT_FORMATS) <= words


def test_version(run_cli):
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = run_cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"agentcost {version}\n")


def usage_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Usage\n")
    return text[start:text.index("\n## ", start + 1)]


def test_readme_usage_holds_report_help_as_printed(run_cli):
    printed = "\n".join(line.rstrip() for line in
                        run_cli("report", "--help", columns=80).stdout.splitlines()).strip("\n")
    readme = README.read_text(encoding="utf-8")
    assert HELP_MARKER in usage_section()
    start = readme.index("```text\n", readme.index(HELP_MARKER)) + len("```text\n")
    end = readme.index("\n```", start)
    if os.environ.get("AGENTCOST_UPDATE_README"):
        README.write_text(readme[:start] + printed + readme[end:], encoding="utf-8")
        readme = README.read_text(encoding="utf-8")
        end = readme.index("\n```", start)
    assert readme[start:end] == printed


def test_readme_usage_examples_use_options_that_exist():
    commands = [line.split("#")[0].strip() for line in usage_section().splitlines()
                if line.startswith("agentcost ")]
    assert len(commands) >= 10
    names = {name for name, _ in COMMANDS}
    for command in commands:
        words = command.split()
        name = next((n for n in sorted(names, key=len, reverse=True)
                     if " ".join(words[1:]).startswith(n)), None)
        if name is None:  # `agentcost --version`
            assert flags_in(command) <= options_of(""), command
            continue
        assert flags_in(command) <= options_of(name), command


def test_input_format_choices_are_the_readers_names():
    # The command line names them without loading the readers; the registry is the truth.
    from agentcost.ingest.readers import AUTO, BY_NAME

    assert (AUTO, *sorted(BY_NAME)) == INPUT_FORMATS
