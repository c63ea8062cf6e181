"""Option values checked without pydantic (agentcost/cli/values.py): the same values, and the
same messages, as typer's own checks, for every option of every command."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from agentcost.cli import app
from agentcost.cli.values import without_pydantic
from tests.conftest import ROOT, SAMPLES

# Values given on a command line (text), and defaults (already typed), of each kind: plain
# ones are checked in agentcost, the rest (and the refused) by typer's TypeAdapter.
VALUES: dict[Any, list[Any]] = {
    str: ["abc", "", "  x  "],
    int: ["12", "007", " 12", "1_000", "-3", "+4", "x", "", 5, 2**70],
    float: ["0.3", "1", "12.50", "1e3", ".5", "-1.5", "nan", "x", 2.5, 3],
    Path: ["logs/run.jsonl", "", "-", Path("a/b"), "/"],
}


def every_parameter() -> list[tuple[str, Any]]:
    found = []

    def walk(command: Any, name: str) -> None:
        context = Context(command)
        for param in command.get_params(context):
            found.append((f"{name} {param.name}", param))
        for sub in getattr(command, "commands", {}).values():
            walk(sub, f"{name} {sub.name}")

    walk(typer.main.get_command(app), "agentcost")
    return found


def values_for(annotation: Any) -> list[Any]:
    if getattr(annotation, "__origin__", None) is list:
        (item,) = annotation.__args__
        return [[value] for value in values_for(item)] + [values_for(item)[:2]]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = list(annotation)
        return [members[0], members[-1].value, members[-1].value.upper(), "no-such-choice"]
    return VALUES.get(annotation, ["abc", "12", "true", "0"])


def outcome(coerce: Any, value: Any) -> tuple[str, Any]:
    try:
        return "value", repr(coerce(value))  # repr: nan is nan
    except BadParameter as error:
        return "refused", error.format_message()


PARAMETERS = every_parameter()


@pytest.mark.parametrize(("name", "param"), PARAMETERS, ids=[name for name, _ in PARAMETERS])
def test_every_option_gets_the_values_and_messages_typer_gives(name, param):
    descriptor = param.type_descriptor
    if descriptor.annotation is bool:
        return  # flags: typer skips checking a flag's True or False
    context = Context(typer.main.get_command(app))
    param._runtime_param = None
    without_pydantic([param])
    ours = param._runtime_param
    assert ours is not None and type(ours).__name__ == "PlainValue"
    theirs = build_runtime_param(descriptor)
    parser = descriptor.parameter_info.parser
    values = ["64M", "1K", "12", "x", 1024] if parser is not None else values_for(
        descriptor.annotation)
    for value in values:
        mine = outcome(lambda v: ours.coerce(v, param=param, ctx=context), value)
        typers = outcome(lambda v: theirs.coerce(v, param=param, ctx=context), value)
        assert mine == typers, (name, value)
    param._runtime_param = None


def test_a_report_imports_no_pydantic(tmp_path):
    # Run as the command is, in a process of its own: a report with a choice (-f), a number
    # (--top), a parser's size (--max-line-size), a path (-o) and a list (the input).
    script = (
        "import sys\n"
        "from agentcost.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as end:\n"
        "    assert not end.code, end.code\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'pydantic'))\n")
    output = tmp_path / "report.json"
    ran = subprocess.run(
        [sys.executable, "-c", script, "report", str(SAMPLES / "agents.jsonl"),
         "-f", "json", "--top", "3", "--max-line-size", "1M", "-o", str(output)],
        check=True, capture_output=True, text=True, cwd=ROOT)
    assert ran.stdout.strip() == "[]"
    assert output.read_text().startswith("{")
