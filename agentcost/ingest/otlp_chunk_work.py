"""The work of reading one chunk of an OTLP/JSON lines file, as a value: it pickles, for the
helper process, and compares equal to the same work, so that chunks handed to the helper before
the reader asked for them (early_helper.read_ahead) are known to be the reader's own. Imports no
polars: the commands build one before polars is loaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentcost.ingest.sources import (
    MIN_SPAN_CHUNK_BYTES,
    SPAN_CHUNK_BYTES,
    SPAN_CHUNKS_WANTED,
    Chunk,
)

if TYPE_CHECKING:
    from agentcost.ingest.span_read import ChunkResult


@dataclass(frozen=True)
class OtlpChunkWork:
    """Parse, walk and classify one chunk of the source shown as `display`, with spans grouped
    into tasks by `task_key` and only `columns` filled (all when None)."""

    display: str
    task_key: str
    columns: frozenset[str] | None

    def __call__(self, chunk: Chunk) -> ChunkResult:
        from agentcost.ingest.span_read import process_otlp_chunk

        return process_otlp_chunk(chunk, self)


def span_chunk_bytes(file_bytes: int | None) -> int:
    """SPAN_CHUNK_BYTES, or less for a file of fewer than SPAN_CHUNKS_WANTED chunks: with few
    chunks, the last ones keep one process busy while the other waits. Not under
    MIN_SPAN_CHUNK_BYTES, as each chunk has a fixed cost. A stream of unknown size gets the
    full size."""
    if file_bytes is None:
        return SPAN_CHUNK_BYTES
    return min(SPAN_CHUNK_BYTES, max(MIN_SPAN_CHUNK_BYTES, file_bytes // SPAN_CHUNKS_WANTED))


def worth_a_helper(file_bytes: int | None) -> bool:
    """Whether a source is big enough to share with the helper process: two full chunks or
    more, or of unknown size (the helper is then started once a second chunk shows it is).
    Under that, a helper would spend longer starting than it could save."""
    return file_bytes is None or file_bytes >= 2 * SPAN_CHUNK_BYTES
