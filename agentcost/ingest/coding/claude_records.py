"""Claude Code's lines decoded into typed records: the parts of a line agentcost reads.

msgspec decodes each line straight into the structs below, skipping every field not named
here (tool results, thinking text, file snapshots) without building it. A chunk of lines is
decoded in one call; a chunk with a bad or blank line is decoded again line by line, so that
the bad line is named and the good lines around it are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

import msgspec

from agentcost.ingest.accounting import TRUNCATED
from agentcost.ingest.sources import UTF8_BOM, Chunk, read_chunks

_ABSENT = msgspec.Raw()
# Decoded a chunk at a time: small chunks stay in the processor's cache while their lines are
# decoded and walked (a 32 MiB chunk takes half as long again).
CHUNK_BYTES = 512 * 1024


class Block(msgspec.Struct, gc=False):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    input: msgspec.Raw = _ABSENT
    text: msgspec.Raw = _ABSENT  # only a prompt's is ever decoded
    tool_use_id: str | None = None


class CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class ServerToolUse(msgspec.Struct, gc=False):
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None


class Iteration(msgspec.Struct, gc=False):
    """One of the calls a response was made of; an advisor's is billed on its own model."""

    type: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None


class Usage(msgspec.Struct, gc=False):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    server_tool_use: ServerToolUse | None = None
    service_tier: str | None = None
    speed: str | None = None
    # Decoded apart, on the line kept for a response: a shape it does not expect costs its
    # advisor calls (noted), not the response.
    iterations: msgspec.Raw = _ABSENT


class Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    role: str | None = None
    content: str | list[Block] | None = None
    usage: Usage | None = None


class ToolUseResult(msgspec.Struct, gc=False):
    agentId: str | None = None  # the sub-agent a Task call ran


class Line(msgspec.Struct, gc=False):
    type: str | None = None
    sessionId: str | None = None
    timestamp: str | None = None
    uuid: str | None = None
    requestId: str | None = None
    isSidechain: bool | None = None
    isMeta: bool | None = None
    isCompactSummary: bool | None = None
    isApiErrorMessage: bool | None = None
    costUSD: float | None = None
    message: Message | None = None


class PlacedLine(Line, gc=False):
    """A line with what only some reports read: decoded only for them (each field costs a
    string per line)."""

    agentId: str | None = None
    cwd: str | None = None
    gitBranch: str | None = None
    toolUseResult: ToolUseResult | str | list[Any] | None = None


# Lax: a count written as text ("12") or as 12.0 is still a count.
LINE = msgspec.json.Decoder(Line, strict=False)
PLACED_LINE = msgspec.json.Decoder(PlacedLine, strict=False)
ITERATIONS = msgspec.json.Decoder(list[Iteration] | None, strict=False)


def file_chunks(stream: BinaryIO, size: int | None, max_line_bytes: int) -> Iterable[Chunk]:
    """The stream's chunks of whole lines. A plain file no larger than a chunk (nor the line
    limit: no line of it can be over) is one chunk, read in one piece of its size."""
    if size is not None and size <= min(CHUNK_BYTES, max_line_bytes):
        data = stream.read(size + 1)
        if len(data) <= size:  # else it grew since: read on as a stream, from its start
            start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
            body = data[start:] if start else data
            if not body:
                return []
            unterminated = not body.endswith(b"\n")
            return [Chunk(body, 1, body.count(b"\n") + unterminated, unterminated,
                          start=start, size=len(body))]
        stream.seek(0)
    return read_chunks(stream, CHUNK_BYTES, max_line_bytes)


def decode_chunk(chunk: Chunk, decoder: msgspec.json.Decoder[Any]
                 ) -> tuple[list[tuple[int, Line]], int, list[tuple[int, str]]]:
    """The chunk's records with their line numbers, its blank lines, and its bad lines with
    why. One call decodes a clean chunk; otherwise each line is decoded on its own."""
    data = chunk.load()
    first = chunk.first_line
    try:
        records = decoder.decode_lines(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    else:
        # Blank lines are passed over, so only a clean chunk has a record per line.
        if len(records) == chunk.line_count:
            return list(enumerate(records, start=first)), 0, []
    decoded: list[tuple[int, Line]] = []
    bad: list[tuple[int, str]] = []
    blank = 0
    lines = data.split(b"\n")
    if not chunk.ends_unterminated:
        lines.pop()
    last = first + len(lines) - 1
    for number, raw in enumerate(lines, start=first):
        if not raw.strip():
            blank += 1
            continue
        try:
            decoded.append((number, decoder.decode(raw)))
        except msgspec.ValidationError as error:
            bad.append((number, _shape_error(raw, error)))
        except msgspec.DecodeError:
            cut = chunk.ends_unterminated and number == last
            bad.append((number, TRUNCATED if cut else "not valid JSON"))
    return decoded, blank, bad


def _shape_error(raw: bytes, error: msgspec.ValidationError) -> str:
    if not raw.lstrip().startswith(b"{"):
        return "not a JSON object"
    return f"not a Claude Code record ({error})"
