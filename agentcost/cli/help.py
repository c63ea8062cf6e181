"""How the commands' --help reads at 80 columns: options in panels, no type noise on flags,
the description's paragraphs flowing, and examples at the end; and their values checked
without pydantic (values.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from typer.core import TyperCommand, TyperGroup, TyperOption

from agentcost.cli.values import without_pydantic

# The panels options are grouped in, in this order where a command has them.
INPUT = "Input"
PRICING = "Pricing"
OUTPUT = "Output"
WINDOW = "Window"
DASHBOARD = "Dashboard"
STRATEGIES = "What if"
THRESHOLDS = "Thresholds"

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 bad data or configuration (unreadable input, invalid price "
    "table, no usable line); 2 usage error; 3 --strict failed (unpriced steps or skipped "
    "lines), or `pricing which` / `pricing check` found an unpriced name; 4 a `check` "
    "threshold was crossed; 5 `check`: too much input skipped; 6 `check`: no step to check; "
    "129/130/143 stopped by SIGHUP/Ctrl-C/SIGTERM."
)


def _quiet_help_flag(option: TyperOption | None) -> TyperOption | None:
    """--help takes no value: no `<bool>` beside it."""
    if option is not None:
        option.metavar = ""
    return option


class Command(TyperCommand):
    def get_help_option(self, ctx: Any) -> TyperOption | None:
        return _quiet_help_flag(super().get_help_option(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        without_pydantic(self.get_params(ctx))
        return super().parse_args(ctx, args)


class Group(TyperGroup):
    def get_help_option(self, ctx: Any) -> TyperOption | None:
        return _quiet_help_flag(super().get_help_option(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        without_pydantic(self.get_params(ctx))
        return super().parse_args(ctx, args)


def described(callback: Callable[..., Any]) -> str:
    """The callback's docstring as help: the lines of each paragraph joined into one, which
    the terminal then wraps at its width (rich help keeps a docstring's line breaks)."""
    paragraphs = (callback.__doc__ or "").strip().split("\n\n")
    return "\n\n".join(re.sub(r"\s*\n\s*", " ", paragraph.strip()) for paragraph in paragraphs)


def examples(commands: Sequence[str]) -> str:
    """The epilog: the examples, one a line (each short enough to paste from 80 columns),
    then the exit codes (whose flush-left lines also keep the examples indented)."""
    block = "Examples:\n" + "\n".join(f"  {command}" for command in commands)
    return f"{block}\n\n{EXIT_CODES_HELP}"
