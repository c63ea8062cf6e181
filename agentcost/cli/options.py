"""Options shared by the commands, defined once."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentcost.cli.help import INPUT, OUTPUT, PRICING, WINDOW
from agentcost.ingest.limits import SMALLEST_LIMIT
from agentcost.limits import MAX_ROWS

if TYPE_CHECKING:
    from agentcost.engine.protocol import Executor


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


# --input-format's choices: "auto", then the readers' names (agentcost/ingest/readers/,
# whose registry a test holds these to). Named here, so that starting a command does not load
# every reader.
AUTO = "auto"
INPUT_FORMATS = (AUTO, "attributes", "claude-code", "cline", "codex", "copilot-cli",
                 "gemini-cli", "jaeger", "langfuse", "native", "opencode", "otlp", "qwen-code",
                 "spans")


def _known_format(value: str) -> str:
    if value not in INPUT_FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(INPUT_FORMATS)}")
    return value


def within(low: float, high: float) -> Callable[[float | None], float | None]:
    """A check that a number option is from `low` to `high` (NaN is not), said in the
    option's description rather than beside its name, where it would crowd the help."""

    def check(value: float | None) -> float | None:
        if value is not None and not low <= value <= high:
            raise typer.BadParameter(f"{value} is not from {_number(low)} to {_number(high)}")
        return value

    return check


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,}"


at_least_one = within(1, MAX_ROWS)


class CostMode(StrEnum):
    computed = "computed"
    reported = "reported"
    auto = "auto"


# Described in each command's own words (TRACES_WORDS), not in a panel of its own: rich help
# would show its Python type beside it.
Inputs = Annotated[list[str] | None, typer.Argument(show_default=False, metavar="TRACES",
                                                    hidden=True)]
TRACES_WORDS = ("TRACES: trace files, directories, globs, .gz files or named pipes; - reads "
                "stdin. With none (and no --from), the coding agents' logs found on this "
                "machine are listed.")
FromAgents = Annotated[str | None, typer.Option(
    "--from", metavar="AGENTS", rich_help_panel=INPUT,
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
    rich_help_panel=PRICING,
    help="Price table (YAML). Default: the shipped pricing.yaml. Once only: a table builds "
    "on another with `extends:`.")]
Format = Annotated[OutputFormat, typer.Option(
    "--format", "-f", metavar="FORMAT", rich_help_panel=OUTPUT,
    help=f"Output format: {', '.join(OutputFormat)}.")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="PATH", rich_help_panel=OUTPUT,
    help="Write to this file (atomically) instead of stdout; into a device or pipe.")]
Color = Annotated[bool | None, typer.Option(
    "--color/--no-color", metavar="", rich_help_panel=OUTPUT,
    help="Colour the table. Default: only on a terminal.")]
InputFormatOption = Annotated[str, typer.Option(
    "--input-format", metavar="FORMAT", callback=_known_format, rich_help_panel=INPUT,
    help="Read the inputs as this format instead of recognising it: "
    f"{', '.join(INPUT_FORMATS)}.")]
CostModeOption = Annotated[CostMode, typer.Option(
    "--cost-mode", metavar="MODE", rich_help_panel=PRICING,
    help="computed: price from the table; reported: use the cost the traces record; auto: "
    "the recorded cost where there is one, the table's elsewhere.")]
TaskKey = Annotated[str, typer.Option(
    "--task-key", metavar="KEY", rich_help_panel=INPUT,
    help="For span formats, what makes a task: trace, session (conversation / session id), "
    "resource.NAME or attribute.NAME.")]
StoreOption = Annotated[str | None, typer.Option(
    "--store", metavar="DIR", rich_help_panel=INPUT,
    help="A steps store `agentcost ingest` built (a directory, or s3://bucket/prefix, "
    "gs://bucket/prefix): read its steps (only the days --since and --until need), with what "
    "TRACES add that it does not hold.")]
Jobs = Annotated[str, typer.Option(
    "--jobs", metavar="N|auto", rich_help_panel=INPUT,
    help="Processes for reading big OTLP/JSON lines files and Claude Code logs: N, or auto "
    "(one per 16 MiB of input, up to the cores this process may use).")]


class EngineName(StrEnum):
    auto = "auto"
    memory = "memory"
    local = "local"
    ray = "ray"


EngineOption = Annotated[EngineName, typer.Option(
    "--engine", metavar="ENGINE", rich_help_panel=INPUT,
    help="Where the work runs: memory (all steps at once, fastest), local (steps spilled to "
    "disk by task, bounded memory), ray (Ray tasks across a cluster: pip install "
    "'agentcost-traces\\[ray]'), or auto (memory when the input fits comfortably in free "
    "memory, else local). The same report either way.")]
RayAddress = Annotated[str | None, typer.Option(
    "--ray-address", metavar="ADDRESS", rich_help_panel=INPUT,
    help="With --engine ray: the Ray cluster to run on (host:port, ray://host:10001, or "
    "auto: the one started on this machine). Default: RAY_ADDRESS, else a local cluster "
    "started for the run.")]
Partitions = Annotated[int | None, typer.Option(
    "--partitions", metavar="N", min=1, rich_help_panel=INPUT,
    help="With --engine ray or local: how many partitions of tasks the steps are split into "
    "(default: one per 40 MiB of input; ray: at least two per CPU).")]
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
    "--max-line-size", metavar="SIZE", parser=_byte_size, show_default=False,
    rich_help_panel=INPUT,
    help="Longest input line read (K, M, G: binary units; default 64M); a longer one is "
    "skipped as too long, and counted. Also the largest JSON document read whole: a larger "
    "one is refused.")]


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
    metavar="WHEN", rich_help_panel=WINDOW, callback=_moment,
    help="Only steps that started at or after this: a span back from now (24h, 7d) or an ISO "
    "8601 date or time.")]
Until = Annotated[str | None, typer.Option(
    metavar="WHEN", rich_help_panel=WINDOW, callback=_moment,
    help="Only steps that started before this: a span back from now or an ISO 8601 date or "
    "time.")]


def chosen_engine(engine: EngineName, ray_address: str | None, partitions: int | None
                  ) -> str | Executor:
    """The engine named, with its settings: an executor object when it has some."""
    from agentcost.errors import UsageError

    if ray_address is not None and engine is not EngineName.ray:
        raise UsageError("--ray-address: only with --engine ray")
    if partitions is not None and engine not in (EngineName.ray, EngineName.local):
        raise UsageError("--partitions: only with --engine ray or --engine local")
    if engine is EngineName.ray:
        from agentcost.engine.ray_cluster import RayExecutor

        return RayExecutor(ray_address, partitions)
    if engine is EngineName.local and partitions is not None:
        from agentcost.engine.local import LocalExecutor

        return LocalExecutor(buckets=partitions)
    return engine.value
