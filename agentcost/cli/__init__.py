"""The `agentcost` command. Commands live one per module; heavy imports happen inside them so
that `agentcost --help` stays fast."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, NoReturn, ParamSpec, TypeVar

import typer

from agentcost import __version__
from agentcost.cli import (
    check_command,
    ingest_command,
    pricing_command,
    report_command,
    schema_command,
    simulate_command,
)
from agentcost.cli.help import Command, Group, described, examples
from agentcost.cli.options import TRACES_WORDS
from agentcost.errors import EXIT_INTERRUPTED, AgentCostError, Stopped

P = ParamSpec("P")
R = TypeVar("R")


def user_errors_to_exit_codes(command: Callable[P, R]) -> Callable[P, R]:
    """The one place a user-fixable error becomes a message and an exit code. Anything else is
    a bug and keeps its traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AgentCostError as error:
            from agentcost.renderers.text import safe_text

            # A message may quote what an input holds or is named: shown, never obeyed.
            print("agentcost: error: " + "\n".join(map(safe_text, str(error).split("\n"))),
                  file=sys.stderr)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Stopped as stopped:
            _leave(stopped.exit_code)
        except BrokenPipeError:  # `agentcost pricing list | head`: the reader has had enough
            _stop_writing_to_stdout()
            raise typer.Exit(0) from None
        finally:
            try:  # what is still buffered, while a closed reader can still be handled here
                sys.stdout.flush()
            except BrokenPipeError:
                _stop_writing_to_stdout()

    return run


app = typer.Typer(
    name="agentcost",
    help="Cost analysis of AI agent trace logs: price every step, report, simulate.",
    epilog=examples(("agentcost report traces.jsonl",
                     "agentcost simulate traces.jsonl --route summarize=gpt-4o-mini",
                     "agentcost check traces/ --since 24h --max-p90 0.30")),
    no_args_is_help=True,
    cls=Group,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"agentcost {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", metavar="", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    pass


for _name, _module, _callback in (
        ("report", report_command, report_command.report),
        ("simulate", simulate_command, simulate_command.simulate),
        ("check", check_command, check_command.check),
        ("ingest", ingest_command, ingest_command.ingest)):
    app.command(_name, cls=Command, help=f"{described(_callback)}\n\n{TRACES_WORDS}",
                epilog=examples(_module.EXAMPLES))(
        user_errors_to_exit_codes(_callback))
app.command("schema", cls=Command, help=described(schema_command.schema),
            epilog=examples(schema_command.EXAMPLES))(
    user_errors_to_exit_codes(schema_command.schema))
for command in pricing_command.app.registered_commands:
    if command.callback is not None:
        command.callback = user_errors_to_exit_codes(command.callback)
app.add_typer(pricing_command.app, name="pricing")


# polars' allocator (jemalloc) keeps freed memory a while before giving it back, longer than a
# report's phases last: each would pile its garbage on the last one's. Given back soon, and
# straight back once decayed, peak memory is lower at the same speed (benchmarks/README.md).
# A value the user set is kept. Set before polars is imported.
ALLOCATOR_SETTINGS = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:200,muzzy_decay_ms:0")


def main() -> None:
    os.environ.setdefault(*ALLOCATOR_SETTINGS)
    sys.unraisablehook = _quiet_about_interruptions
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        # Left alone where the caller ignores it (nohup): that is the caller's choice.
        if signal.getsignal(stop_signal) is signal.SIG_DFL:
            signal.signal(stop_signal, _stop)
    try:
        app()
    except Stopped as stopped:  # before or after the command ran (loading, parsing)
        _leave(stopped.exit_code)
    finally:
        # The command is done and its objects die with the process: frozen, they are spared
        # the cyclic collector's last passes at interpreter exit, which are long with polars,
        # typer and pydantic loaded. Exit handlers and the flushing of output still run.
        gc.freeze()


def _leave(code: int) -> NoReturn:
    """Exit at once once the command's own clean-up has run (its `finally` blocks ran as the
    stop went up through them): a reader thread may still be blocked in a read of stdin, and
    the interpreter's shutdown would abort on the lock it holds."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def _stop(signal_number: int, _: object) -> None:
    """SIGTERM or SIGHUP (`timeout`, a cron job's end, a closed terminal): stop as Ctrl-C
    does, undoing what was started (worker processes, a temporary output file)."""
    raise Stopped(signal_number)


def _stop_writing_to_stdout() -> None:
    from agentcost.renderers.output import discard_further_writes

    discard_further_writes(sys.stdout.fileno())


def _quiet_about_interruptions(unraisable: sys.UnraisableHookArgs) -> None:
    """A Ctrl-C can reach us twice, from Python's handler and from polars' own check: the
    second may land in a generator being closed, where Python would print it as an ignored
    exception. The command is ending with exit code 130 already."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt | Stopped):
        return
    sys.__unraisablehook__(unraisable)
