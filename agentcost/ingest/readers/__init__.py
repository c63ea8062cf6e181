"""The reader registry: every input format, in the order files are recognised.

Adding a format is one module beside these (its name, label, `recognises` and `read`; see
base.py) and one line in READERS. The command line's `--input-format` choices come from here.
"""

from __future__ import annotations

from agentcost.errors import UsageError
from agentcost.ingest.readers import attributes, jaeger, langfuse, native, otlp, span_list
from agentcost.ingest.readers.base import Head, Reader

# The first reader that recognises a file's head reads it; native JSONL, last, takes the rest.
READERS: tuple[Reader, ...] = (
    otlp.READER,
    langfuse.READER,
    jaeger.READER,
    span_list.READER,
    attributes.READER,
    native.READER,
)
BY_NAME = {reader.name: reader for reader in READERS}
AUTO = "auto"


def recognise(head: bytes) -> Reader:
    """The reader of a file whose first bytes (up to a few hundred KB) are `head`."""
    seen = Head.of(head)
    return next(reader for reader in READERS if reader.recognises(seen))


def reader_named(name: str) -> Reader:
    try:
        return BY_NAME[name]
    except KeyError:
        raise UsageError(f"input format {name!r}: use {AUTO} or one of "
                         f"{', '.join(sorted(BY_NAME))}") from None
