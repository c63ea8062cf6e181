"""The reader registry: every input format, in the order files are recognised.

Adding a format is one module beside these (its name, label, `recognises` and `read`; see
base.py), one line in READERS, and its name in the command line's `--input-format` choices
(cli/options.py, held to this registry by a test).
"""

from __future__ import annotations

from pathlib import Path

from agentcost.errors import UsageError
from agentcost.ingest.readers import (
    attributes,
    claude_code,
    cline,
    codex,
    copilot,
    gemini,
    jaeger,
    langfuse,
    native,
    opencode,
    otlp,
    qwen,
    span_list,
)
from agentcost.ingest.readers.base import Head, Reader

# The first reader that recognises a file's head reads it; native JSONL, last, takes the rest.
READERS: tuple[Reader, ...] = (
    otlp.READER,
    langfuse.READER,
    jaeger.READER,
    span_list.READER,
    attributes.READER,
    opencode.READER,
    copilot.READER,
    cline.READER,
    codex.READER,
    gemini.READER,
    qwen.READER,
    claude_code.READER,
    native.READER,
)
BY_NAME = {reader.name: reader for reader in READERS}
AUTO = "auto"


MARKERS = tuple(dict.fromkeys(key for reader in READERS for key in reader.markers))


def head_of(data: bytes, *, long_first_line: bool = False) -> Head:
    """What recognising sees of a file whose first bytes (a few hundred KB) are `data`;
    `long_first_line`: its first line runs past the line limit, only its start is here."""
    return Head.of(data, MARKERS, long_first_line=long_first_line)


def recognise(head: Head) -> Reader:
    """The reader of a file with this head: the first in READERS that recognises it."""
    return next(reader for reader in READERS if reader.recognises(head))


def recognise_binary(data: bytes, path: Path | None) -> Reader | None:
    """The reader of a file that is not text (a database), from its first bytes and, for an
    uncompressed file, its path; None when no reader reads it."""
    return next((reader for reader in READERS
                 if reader.binary is not None and reader.binary(data, path)), None)


def reader_named(name: str) -> Reader:
    try:
        return BY_NAME[name]
    except KeyError:
        raise UsageError(f"input format {name!r}: use {AUTO} or one of "
                         f"{', '.join(sorted(BY_NAME))}") from None
