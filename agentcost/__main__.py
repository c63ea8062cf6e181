"""`python -m agentcost`, and the `agentcost` command's entry point.

A helper process (ingest/helper_process.py) is spawned, and a spawned process imports the main
module of the one that started it: so this module imports nothing at the top, and the helper
does not load the whole command line (typer and every command) that it will never run."""

EXIT_INTERRUPTED = 130


def run() -> None:
    import sys

    try:
        from agentcost.ingest.early_helper import start_for_command_line

        # Before typer is even imported: a helper wanted for a big file starts as early as it
        # can.
        start_for_command_line(sys.argv[1:])
        from agentcost.cli import main

        main()
    except KeyboardInterrupt:  # Ctrl-C while starting up (typer handles it once it runs)
        _interrupted()
    except RuntimeError as error:
        # A Ctrl-C while a class is being made (at import) comes wrapped in a RuntimeError.
        if not isinstance(error.__cause__, KeyboardInterrupt):
            raise
        _interrupted()


def _interrupted() -> None:
    import sys

    helpers = sys.modules.get("agentcost.ingest.helper_process")
    if helpers is not None:
        helpers.stop_helpers()
    sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    run()
