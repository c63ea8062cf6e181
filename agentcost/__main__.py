"""`python -m agentcost`, and the `agentcost` command's entry point."""

EXIT_INTERRUPTED = 130


def run() -> None:
    import sys

    try:
        from agentcost.cli import main

        main()
    except KeyboardInterrupt:  # Ctrl-C while starting up (typer handles it once it runs)
        sys.exit(EXIT_INTERRUPTED)
    except RuntimeError as error:
        # A Ctrl-C while a class is being made (at import) comes wrapped in a RuntimeError.
        if not isinstance(error.__cause__, KeyboardInterrupt):
            raise
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    run()
