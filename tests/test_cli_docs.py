"""Every command documents itself with an example, and answers --help."""

from __future__ import annotations

import pytest

from agentcost.cli import app, pricing_command

COMMANDS = [(command.name, command.callback) for command in app.registered_commands] + [
    (f"pricing {command.name}", command.callback)
    for command in pricing_command.app.registered_commands]


@pytest.mark.parametrize(("name", "callback"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_has_an_example_and_help(run_cli, name, callback):
    assert callback is not None and "Example: agentcost" in (callback.__doc__ or "")
    result = run_cli(*name.split(), "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_version(run_cli):
    import tomllib

    from tests.conftest import ROOT

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = run_cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"agentcost {version}\n")
