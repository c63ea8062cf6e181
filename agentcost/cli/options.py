"""Options shared by the commands, defined once."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agentcost.ingest.limits import SMALLEST_LIMIT
from agentcost.ingest.readers import AUTO, BY_NAME


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


INPUT_FORMATS = (AUTO, *sorted(BY_NAME))


def _known_format(value: str) -> str:
    if value not in INPUT_FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(INPUT_FORMATS)}")
    return value


class CostMode(StrEnum):
    computed = "computed"
    reported = "reported"
    auto = "auto"


Inputs = Annotated[list[str] | None, typer.Argument(
    help="Trace files, directories, globs, .gz files or named pipes; - reads stdin. None at "
    "all: the coding agents' logs found on this machine are listed.",
    show_default=False,
    metavar="[TRACES]...")]
FromAgents = Annotated[str | None, typer.Option(
    "--from", metavar="AGENTS",
    help="Read coding agents' logs where they keep them: claude-code, codex, gemini, qwen, "
    "opencode, copilot, cline (comma-separated), or all; beside TRACES, if any.")]


def _one_table(value: list[Path] | None) -> list[Path] | None:
    """Read as a list only to see it given twice, which would otherwise keep the last."""
    if value and len(value) > 1:
        raise typer.BadParameter(
            "given more than once; use one table, and to build it on another write "
            "`extends: default` (or `extends: OTHER.yaml`) at its top")
    return value


def price_table(prices: list[Path] | None) -> Path | None:
    """The one --prices path, or None for the shipped table."""
    return prices[0] if prices else None


Prices = Annotated[list[Path] | None, typer.Option(
    "--prices", metavar="PATH", callback=_one_table, show_default=False,
    help="Price table (YAML). Default: the shipped pricing.yaml. Once only: a table builds "
    "on another with `extends:`.")]
Format = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o",
    help="Write to this file (atomically) instead of stdout; into a device or pipe.")]
Color = Annotated[bool | None, typer.Option(
    "--color/--no-color", help="Colour the table. Default: only on a terminal.")]
InputFormatOption = Annotated[str, typer.Option(
    "--input-format", metavar=f"[{'|'.join(INPUT_FORMATS)}]", callback=_known_format,
    help="Read the inputs as this format instead of recognising it.")]
CostModeOption = Annotated[CostMode, typer.Option(
    "--cost-mode", help="computed: price from the table; reported: use the cost the traces "
    "record; auto: the recorded cost where there is one, the table's elsewhere.")]
TaskKey = Annotated[str, typer.Option(
    "--task-key", help="For span formats, what makes a task: trace (default), session "
    "(conversation / session id), resource.NAME or attribute.NAME.")]
Jobs = Annotated[str, typer.Option(
    "--jobs", metavar="N|auto", help="Processes for reading big OTLP/JSON lines files: N, or "
    "auto (one per 16 MiB of file, up to the cores this process may use).")]
SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _byte_size(value: str | int) -> int:
    """A size in bytes, or with a binary unit: 512K, 64M, 1G (also written 64MB, 64MiB)."""
    if isinstance(value, int):  # the default
        return value
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(?:I?B)?\s*", value, flags=re.IGNORECASE)
    if match is None:
        raise typer.BadParameter(f"{value!r}: write a size in bytes, or with K, M or G "
                                 "(binary units: 64M is 64 x 1024 x 1024 bytes)")
    size = int(match[1]) * SIZE_UNITS[match[2].upper()]
    if size < SMALLEST_LIMIT:
        raise typer.BadParameter(f"{value!r}: at least 1K")
    return size


MaxLineSize = Annotated[int, typer.Option(
    "--max-line-size", metavar="SIZE", parser=_byte_size, show_default="64M",
    help="Longest input line read (K, M, G: binary units); a longer one is skipped as too "
    "long, and counted. Also the largest JSON document read whole: a larger one is refused.")]


def _moment(value: str | None) -> str | None:
    """Checked here, so that a bad value is named by its option; the library parses it."""
    if value is not None:
        from agentcost.analysis.window import parse_moment
        from agentcost.errors import UsageError

        try:
            parse_moment(value)
        except UsageError as error:
            raise typer.BadParameter(str(error)) from None
    return value


Since = Annotated[str | None, typer.Option(
    help="Only steps that started at or after this: a span back from now (24h, 7d) or an ISO "
    "8601 date or time.", callback=_moment)]
Until = Annotated[str | None, typer.Option(
    help="Only steps that started before this: a span back from now or an ISO 8601 date or "
    "time.", callback=_moment)]
