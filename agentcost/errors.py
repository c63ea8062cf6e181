"""Errors that end a command, each with the exit code it maps to.

Exit codes (also in `agentcost --help` and the README):
    0  success
    1  bad data or configuration (unreadable input, invalid price table, nothing usable)
    2  usage error (unknown option, bad flag value)
    3  --strict failed: some step was unpriced or some input line was skipped
    4  `agentcost check`: a threshold was crossed
    5  `agentcost check`: more input lines or spans skipped than --max-skipped allows
    6  `agentcost check`: no step to check (none in the window), without --allow-empty
    129  hung up (SIGHUP), 130 interrupted (Ctrl-C, SIGINT), 143 terminated (SIGTERM): the
         work stops within a second, helper processes and temporary files are gone
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_STRICT = 3
EXIT_CHECK = 4
EXIT_CHECK_SKIPPED = 5
EXIT_CHECK_EMPTY = 6
EXIT_INTERRUPTED = 130


class Stopped(BaseException):
    """A signal asked the command to stop (SIGTERM, SIGHUP). Raised where the command stands,
    as Ctrl-C's KeyboardInterrupt is, so that what it started is undone on the way out; not an
    Exception, so that no handler of errors takes it for one."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.exit_code = 128 + signal_number


class AgentCostError(Exception):
    """A problem the user can fix; printed as one message, never as a traceback."""

    exit_code = EXIT_BAD_INPUT


class InputError(AgentCostError):
    """An input file cannot be read at all."""


class PriceTableError(AgentCostError):
    """The price table is invalid. The message names the file and line."""


class UsageError(AgentCostError):
    exit_code = EXIT_USAGE
