"""Read one span-format source (OTLP, Jaeger, span lists, Langfuse...) into canonical steps."""

from __future__ import annotations

from typing import BinaryIO

import polars as pl

from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.formats import FORMAT_NAMES, read_spans
from agentcost.ingest.spans.to_steps import spans_to_steps


def read_span_source(stream: BinaryIO, fmt: str, display: str, *, task_key: str,
                     accounting: LineAccounting) -> pl.DataFrame:
    try:
        data = stream.read()
    except (OSError, EOFError) as error:
        accounting.note(f"input cut off ({error})", display, [0])
        data = b""
    read = read_spans(data, fmt, display)
    accounting.formats[FORMAT_NAMES[fmt]] = accounting.formats.get(FORMAT_NAMES[fmt], 0) + 1
    accounting.lines_read += read.lines_read
    blank = sum(1 for line in data.split(b"\n")[: read.lines_read] if not line.strip()) \
        if fmt in ("otlp", "spans") and read.lines_read > 1 else 0
    accounting.lines_blank += blank
    for line, reason in read.bad_lines:
        accounting.skip(reason, display, [line])
    accounting.lines_used += read.lines_read - blank - len(read.bad_lines)
    converted = spans_to_steps(read.spans, source_file=display, task_key=task_key)
    accounting.spans_read += len(read.spans)
    for reason, records in converted.skipped.items():
        accounting.not_step(reason, display, records)
    for reason, records in converted.not_steps.items():
        accounting.not_step(reason, display, records)
    accounting.spans_used += converted.steps.height
    return converted.steps
