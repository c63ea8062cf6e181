"""Recognise what a trace file is from its content, and read span formats into spans.

Formats: native (agentcost JSONL), otlp (OTLP/JSON: file exporter lines or one document, Tempo
`batches`), jaeger, spans (Phoenix / OpenInference / OTel SDK span lists or JSONL), langfuse
(trace export), attributes (one span's attributes as a flat object).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agentcost.errors import InputError
from agentcost.ingest.native_fields import FIELDS_BY_CONCEPT
from agentcost.ingest.sources import UTF8_BOM
from agentcost.ingest.spans import containers
from agentcost.ingest.spans.model import Span

FORMAT_NAMES = {
    "native": "agentcost JSONL",
    "otlp": "OTLP/JSON",
    "jaeger": "Jaeger JSON",
    "spans": "span list (Phoenix / OpenInference / OTel SDK)",
    "langfuse": "Langfuse trace export",
    "attributes": "span attribute map",
}
SPAN_LIST_KEYS = frozenset({"context", "spanContext", "span_kind"})
# Session logs of coding agents: usage per API response, but no task ids, and repeats that need
# their own rules. Not read; recognised, so that a user hears what the file is.
TASK_ID_NAMES = frozenset(FIELDS_BY_CONCEPT["task_id"].aliases)
CODEX_RECORD_TYPES = frozenset({"session_meta", "turn_context", "response_item", "event_msg",
                                "compacted"})
CLAUDE_CODE_RECORD_TYPES = frozenset({"file-history-snapshot", "summary", "user", "assistant",
                                      "system", "progress"})
CLAUDE_CODE_KEYS = frozenset({"message", "messageId", "snapshot", "uuid", "parentUuid",
                              "sessionId", "leafUuid", "requestId"})
ATTRIBUTE_PREFIXES = ("gen_ai.", "llm.", "ai.", "openinference.")


@dataclass
class ReadSpans:
    spans: list[Span] = field(default_factory=list)
    lines_read: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    blank_lines: int = 0
    # Spans of a document that could not be read (number within the document, reason).
    bad_spans: list[tuple[int, str]] = field(default_factory=list)
    # What convention families were seen (for "recognised as" in the report).
    conventions: set[str] = field(default_factory=set)


def sniff(head: bytes) -> str:
    """The format of a file from its first bytes (up to a few hundred KB)."""
    text = head.removeprefix(UTF8_BOM).lstrip(b" \t\r\n")
    if text.startswith(b"["):
        return _format_of_list(_first_list_item(text))
    first_line, _, rest = text.partition(b"\n")
    try:
        value = json.loads(first_line)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict):  # JSON Lines (or a one-line document): the first record decides
        return _format_of_object(value, lines=bool(rest.strip()))
    try:
        return _format_of_object(_prefix_object(text), lines=False)
    except ValueError:
        return "native"


def foreign_log(head: bytes) -> str | None:
    """What a JSON lines file is when it is a coding agent's session log (Claude Code, Codex
    CLI), from its first record; None for anything else."""
    first_line = head.removeprefix(UTF8_BOM).lstrip(b" \t\r\n").partition(b"\n")[0]
    try:
        value = json.loads(first_line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or set(value) & TASK_ID_NAMES:
        return None
    keys = set(value)
    if "payload" in keys and value.get("type") in CODEX_RECORD_TYPES:
        return "Codex CLI session log"
    claude_record = value.get("type") in CLAUDE_CODE_RECORD_TYPES and bool(keys & CLAUDE_CODE_KEYS)
    if claude_record or {"sessionId", "message"} <= keys or {"requestId", "message"} <= keys:
        return "Claude Code session log"
    return None


def _format_of_object(value: dict[str, Any], *, lines: bool) -> str:
    keys = set(value)
    if keys & {"resourceSpans", "resourceLogs", "resourceMetrics", "batches"}:
        return "otlp"
    if "observations" in keys and "trace" in keys:
        return "langfuse"
    if isinstance(value.get("data"), list):
        data = value["data"]
        if data and isinstance(data[0], dict) and "spans" in data[0]:
            return "jaeger"
    if keys & SPAN_LIST_KEYS:
        return "spans"
    if not lines and any(key.startswith(ATTRIBUTE_PREFIXES) for key in keys):
        return "attributes"
    return "native"


def _format_of_list(first_item: dict[str, Any] | None) -> str:
    if first_item is None:
        return "spans"
    return "spans" if set(first_item) & SPAN_LIST_KEYS else "native"


def _first_list_item(text: bytes) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    body = text.decode("utf-8", errors="replace")[1:].lstrip()
    try:
        item, _ = decoder.raw_decode(body)
    except (ValueError, RecursionError):
        return None
    return item if isinstance(item, dict) else None


def _prefix_object(text: bytes) -> dict[str, Any]:
    """The top-level keys of a (possibly cut-off) JSON object: enough to tell the format."""
    body = text.decode("utf-8", errors="replace")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        keys: dict[str, Any] = {}
        for marker in ("resourceSpans", "resourceLogs", "batches", "observations", "trace",
                       "data", "context", "spanContext", "span_kind"):
            if f'"{marker}"' in body[:4096]:
                keys[marker] = [] if marker in ("data",) else {}
        if not keys:
            raise ValueError("no trace-format marker") from None
        return keys
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def read_spans(data: bytes, fmt: str, display: str) -> ReadSpans:
    """Spans of a whole file (already decompressed) in a span format read in Python: every
    format but OTLP, which has its own reader (spans/otlp_lines.py) for files of any size."""
    result = ReadSpans()
    if fmt == "spans" and is_json_lines(data):
        for number, raw in _lines(data):
            result.lines_read += 1
            if not raw.strip():
                result.blank_lines += 1
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                result.bad_lines.append((number, _bad_json_reason(raw, number, data)))
                continue
            span = containers.guarded(number, containers.listed_span, record, number)
            if isinstance(span, containers.BadSpan):
                result.bad_lines.append((number, f"not a valid {FORMAT_NAMES[fmt]} record: "
                                                 f"{span.reason}"))
            else:
                result.spans.append(span)
        return result
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise InputError(f"{display}: not valid JSON ({error})") from error
    result.lines_read = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    try:
        for span in _document_spans(document, fmt, display):
            if isinstance(span, containers.BadSpan):
                result.bad_spans.append((span.number, f"not a valid {FORMAT_NAMES[fmt]} span: "
                                                      f"{span.reason}"))
            else:
                result.spans.append(span)
    except containers.SPAN_ERRORS as error:  # the document's own shape, around its spans
        raise InputError(f"{display}: not a valid {FORMAT_NAMES[fmt]} document: {error}") \
            from error
    return result


def _document_spans(document: Any, fmt: str, display: str
                    ) -> Iterator[Span | containers.BadSpan]:
    if fmt == "jaeger":
        yield from containers.jaeger_spans(document)
    elif fmt == "langfuse":
        yield from containers.langfuse_spans(document)
    elif fmt == "attributes":
        yield containers.attribute_map_span(document, display)
    elif fmt == "spans":
        items = document if isinstance(document, list) else document.get("data") or [document]
        for number, item in enumerate(items, start=1):
            yield containers.guarded(number, containers.listed_span, item, number)
    else:
        raise InputError(f"{display}: unknown format {fmt!r}")


def is_json_lines(data: bytes) -> bool:
    """Whether the data's first line is a whole JSON object (JSON Lines, not a document)."""
    first = data.lstrip().split(b"\n", 1)[0]
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):
        return False


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if number > 1 and raw == b"" and number == data.count(b"\n") + 1:
            return  # the empty string after the final newline
        yield number, raw


def _bad_json_reason(raw: bytes, number: int, data: bytes) -> str:
    last = not data.endswith(b"\n") and number == data.count(b"\n") + 1
    return "truncated line (file ends mid-record)" if last else "not valid JSON"
