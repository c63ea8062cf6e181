"""For the commands: allow the helper process, and decide, before polars is even imported,
whether it will be wanted; if so start it now: a big OTLP/JSON lines file is read in chunks
shared with it, and its start-up (about a third of a second) then overlaps the main process's
own. Once a command knows what it will read, the helper is handed the file's first chunks, to
work on while the main process is still loading the command's modules."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import islice, pairwise

from agentcost.errors import InputError
from agentcost.ingest.formats import is_json_lines, sniff
from agentcost.ingest.helper_process import allow_helper, start_early, submit_ahead
from agentcost.ingest.otlp_chunk_work import OtlpChunkWork, span_chunk_bytes, worth_a_helper
from agentcost.ingest.sources import GZIP_MAGIC, Source, expand_inputs, plain_chunks

HEAD_BYTES = 64 * 1024
# Chunks handed ahead: about what the helper gets through before the main process starts
# reading (0.1-0.2 s), and no more, or the main process would wait for them.
AHEAD_CHUNKS = 3
READING_COMMANDS = ("report", "simulate", "check")


def start_for_command_line(args: Sequence[str]) -> None:
    """From the raw arguments, before typer (and the pydantic it loads) is imported: start the
    helper if a reading command names a big OTLP lines file. A guess only decides when the
    helper starts; the command's own parsing decides everything else."""
    if not args or args[0] not in READING_COMMANDS:
        return
    input_format = "auto"
    for previous, arg in pairwise(args):
        if arg.startswith("--input-format="):
            input_format = arg.partition("=")[2]
        elif previous == "--input-format":
            input_format = arg
    start_helper_for([arg for arg in args[1:] if not arg.startswith("-")], input_format)


def start_helper_for(inputs: Sequence[str], input_format: str) -> None:
    """Allow the helper; start it if some input is an uncompressed OTLP lines file of two chunks
    or more. Anything odd (a missing file, a glob matching nothing) is left for the reader to
    report."""
    allow_helper()
    if _big_otlp_lines_file(tuple(inputs), input_format) is not None:
        start_early()


def read_ahead(inputs: Sequence[str], input_format: str, *, task_key: str,
               columns: frozenset[str] | None) -> None:
    """Hand the first chunks of the first big OTLP lines file among `inputs` to the helper,
    with the work the reader will ask of them (the same `task_key` and `columns` as given to
    read_steps)."""
    source = _big_otlp_lines_file(tuple(inputs), input_format)
    if source is None or source.path is None:
        return
    start_early()
    try:
        chunk_bytes = span_chunk_bytes(source.path.stat().st_size)
        chunks = list(islice(plain_chunks(source.path, chunk_bytes), AHEAD_CHUNKS))
    except OSError:
        return
    # Results come back to another thread of this process, which unpickles them: the modules
    # they need are imported here first. Else both threads may import them at once, and a
    # Ctrl-C in the middle can leave each waiting on the other's import lock for ever.
    import agentcost.ingest.span_read  # noqa: F401

    submit_ahead(OtlpChunkWork(source.display, task_key, columns), chunks)


@functools.lru_cache(maxsize=4)
def _big_otlp_lines_file(inputs: tuple[str, ...], input_format: str) -> Source | None:
    """The first input that is an uncompressed OTLP lines file worth a helper, if any. Each
    input is looked at alone: one that does not exist (or an option's value, when guessing
    from the command line) is passed over. Remembered: a command asks twice (to start the
    helper, then to hand it chunks), and a directory of inputs is walked only once."""
    if input_format not in ("auto", "otlp"):
        return None
    for text in inputs:
        try:
            sources, _ = expand_inputs([text])
        except InputError:
            continue
        for source in sources:
            if _is_big_otlp_lines(source, input_format):
                return source
    return None


def _is_big_otlp_lines(source: Source, input_format: str) -> bool:
    if source.path is None or source.read_once:
        return False
    try:
        if not worth_a_helper(source.path.stat().st_size):
            return False
        with source.path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return False
    if head.startswith(GZIP_MAGIC):
        return False
    return (input_format == "otlp" or sniff(head) == "otlp") and is_json_lines(head)
