"""The `agentcost` command. Commands live one per module; heavy imports happen inside them so
that `agentcost --help` stays fast."""

from __future__ import annotations

import sys

import typer

from agentcost.cli import report_command, schema_command
from agentcost.errors import AgentCostError

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 bad data or configuration (unreadable input, invalid price "
    "table, no usable line); 2 usage error; 3 --strict failed (unpriced steps or skipped lines)."
)

app = typer.Typer(
    name="agentcost",
    help="Cost analysis of AI agent trace logs: price every step, report, simulate.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("report", epilog=EXIT_CODES_HELP)(report_command.report)
app.command("schema")(schema_command.schema)


def main() -> None:
    try:
        app()
    except AgentCostError as error:
        print(f"agentcost: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
