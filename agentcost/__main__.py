"""`python -m agentcost`, and the `agentcost` command's entry point."""

import contextlib

from agentcost.errors import EXIT_INTERRUPTED


def run() -> None:

    try:
        from agentcost.cli import main

        main()
    except KeyboardInterrupt:  # Ctrl-C while starting up (the commands handle it once running)
        _leave_interrupted()
    except RuntimeError as error:
        # A Ctrl-C while a class is being made (at import) comes wrapped in a RuntimeError.
        if not isinstance(error.__cause__, KeyboardInterrupt):
            raise
        _leave_interrupted()
    except SystemExit as ended:
        if ended.code == EXIT_INTERRUPTED:
            _leave_interrupted()
        raise


def _leave_interrupted() -> None:
    """Exit 130 at once. A thread reading ahead may be blocked on a pipe that sends nothing: the
    interpreter's normal shutdown would wait for that stream and then abort."""
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    run()
