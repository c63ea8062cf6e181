"""For the commands: allow the helper process, and decide, before polars is even imported,
whether it will be wanted; if so start it now: a big OTLP/JSON lines file is read in chunks
shared with it, and its start-up (about a third of a second) then overlaps the main process's
own."""

from __future__ import annotations

from collections.abc import Sequence

from agentcost.errors import InputError
from agentcost.ingest.formats import is_json_lines, sniff
from agentcost.ingest.helper_process import allow_helper, start_early
from agentcost.ingest.sources import GZIP_MAGIC, SPAN_CHUNK_BYTES, expand_inputs

HEAD_BYTES = 64 * 1024


def start_helper_for(inputs: Sequence[str], input_format: str) -> None:
    """Allow the helper; start it if some input is an uncompressed OTLP lines file of two chunks
    or more. Anything odd (a missing file, a glob matching nothing) is left for the reader to
    report."""
    allow_helper()
    if input_format not in ("auto", "otlp"):
        return
    try:
        sources, _ = expand_inputs(inputs)
    except InputError:
        return
    for source in sources:
        if source.path is None or source.read_once:
            continue
        try:
            if source.path.stat().st_size < 2 * SPAN_CHUNK_BYTES:
                continue
            with source.path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
        except OSError:
            continue
        if head.startswith(GZIP_MAGIC):
            continue
        if (input_format == "otlp" or sniff(head) == "otlp") and is_json_lines(head):
            start_early()
            return
