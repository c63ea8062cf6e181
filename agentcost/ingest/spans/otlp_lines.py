"""OTLP/JSON to the span frame: the Collector file exporter's one TracesData per line, one
pretty-printed document, or a Grafana Tempo export (`batches`), legacy receivers'
`instrumentationLibrarySpans` included.

Deeply nested JSON is where polars' decoder is slow, so lines are parsed with orjson and walked
once, keeping only what conventions read; ids, times and the attribute pivot are then polars
expressions over the whole file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import polars as pl

from agentcost.ingest.spans.conventions import CONTENT, INPUT, OUTPUT

SPAN_FIELDS = ("traceId", "spanId", "parentSpanId", "name", "startTimeUnixNano",
               "endTimeUnixNano")
SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id", "name", "start_ns", "end_ns")
NOT_LOWER_HEX = r"[^0-9a-f]"


class SpanColumns:
    """Spans being collected, a list per column; each wanted attribute key has its own pair of
    lists (span row, value), so that the frame needs no pivot. Appending to lists is what
    Python does fastest."""

    def __init__(self, keys: frozenset[str], resource_keys: frozenset[str]) -> None:
        self.keys = keys
        self.resource_keys = resource_keys
        self.columns: tuple[list[Any], ...] = tuple([] for _ in SPAN_FIELDS)
        self.source_line: list[int] = []
        self.attributes: dict[str, tuple[list[int], list[Any]]] = {
            key: ([], []) for key in keys}
        self._adders = {key: (rows.append, values.append)
                        for key, (rows, values) in self.attributes.items()}

    def add_document(self, document: Any, line: int) -> None:
        """All spans of one TracesData (or Tempo export) object. The hot loop of OTLP reading:
        kept flat, no per-value conversion (polars converts whole columns)."""
        if not isinstance(document, dict):
            raise TypeError("not a JSON object")
        wanted = self._adders.get
        add_trace, add_span, add_parent, add_name, add_start, add_end = (
            column.append for column in self.columns)
        add_line = self.source_line.append
        row = len(self.source_line)
        for resource_spans in document.get("resourceSpans") or document.get("batches") or ():
            resource = _resource_values(resource_spans, self.resource_keys)
            scopes = (resource_spans.get("scopeSpans")
                      or resource_spans.get("instrumentationLibrarySpans") or ())
            for scope_spans in scopes:
                for span in scope_spans.get("spans") or ():
                    get = span.get
                    add_trace(get("traceId"))
                    add_span(get("spanId"))
                    add_parent(get("parentSpanId"))
                    add_name(get("name"))
                    add_start(get("startTimeUnixNano"))
                    add_end(get("endTimeUnixNano"))
                    add_line(line)
                    for item in get("attributes") or ():
                        adders = wanted(item["key"])
                        if adders is not None:
                            value = item["value"]
                            scalar = value.get("stringValue")
                            if scalar is None:
                                scalar = value.get("intValue")
                                if scalar is None:
                                    scalar = _text(value)
                            adders[0](row)
                            adders[1](scalar)
                    for key, text in resource:
                        adders = self._adders[key]
                        adders[0](row)
                        adders[1](text)
                    row += 1

    def mark(self) -> int:
        return len(self.source_line)

    def rollback(self, spans: int) -> None:
        """Forget every span from number `spans` on (a bad record adds no span at all)."""
        for column in (*self.columns, self.source_line):
            del column[spans:]
        for rows, values in self.attributes.values():
            while rows and rows[-1] >= spans:
                rows.pop()
                values.pop()

    def frame(self) -> pl.DataFrame:
        spans = pl.DataFrame({
            **{name: pl.Series(name, values, dtype=pl.String, strict=False)
               for name, values in zip(SPAN_COLUMNS, self.columns, strict=True)},
            "source_line": pl.Series(self.source_line, dtype=pl.Int64),
        })
        base = spans.select(
            canonical_ids(spans["trace_id"], 32),
            canonical_ids(spans["span_id"], 16),
            canonical_ids(spans["parent_span_id"], 16),
            "name",
            pl.col("start_ns").cast(pl.Int64, strict=False),
            pl.col("end_ns").cast(pl.Int64, strict=False),
            pl.lit(None, pl.String()).alias("container_kind"),
            "source_line",
        )
        found = sorted((key, rows, values) for key, (rows, values) in self.attributes.items()
                       if rows)
        return _content_only_without_usage(base.with_columns(
            _attribute_column(key, rows, values, base.height) for key, rows, values in found))


def _attribute_column(key: str, rows: list[int], values: list[Any], height: int) -> pl.Series:
    """One attribute as a column of text, null where a span does not have it; a key a span
    repeats keeps its first value (filled last to first, so the first is written last)."""
    column: list[Any] = [None] * height
    for row, value in zip(reversed(rows), reversed(values), strict=True):
        column[row] = value
    return pl.Series(key, column, dtype=pl.String, strict=False)


def _content_only_without_usage(wide: pl.DataFrame) -> pl.DataFrame:
    """Message content is kept only to estimate tokens of spans without usage: drop it where
    usage is recorded, so prompts do not fill memory."""
    content = [key for key in CONTENT if key in wide.columns]
    usage = [key for key in (*INPUT, *OUTPUT) if key in wide.columns]
    if not content:
        return wide
    if not usage:
        return wide
    recorded = pl.any_horizontal(pl.col(key).is_not_null() for key in usage)
    wide = wide.with_columns(pl.when(~recorded).then(pl.col(key)).alias(key) for key in content)
    empty = [key for key in content if wide[key].null_count() == wide.height]
    return wide.drop(empty)


def _text(value: Any) -> Any:
    """An OTLP AnyValue's scalar as text (arrays and maps are not read by any convention)."""
    if not isinstance(value, dict):
        return None
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            scalar = value[kind]
            if isinstance(scalar, bool):
                return "true" if scalar else "false"
            return scalar if isinstance(scalar, str) else str(scalar)
    return None


def _resource_values(resource_spans: dict[str, Any], wanted: frozenset[str]
                     ) -> list[tuple[str, Any]]:
    if not wanted:
        return []
    attributes = (resource_spans.get("resource") or {}).get("attributes") or ()
    return [(f"resource.{item.get('key')}", _text(item.get("value"))) for item in attributes
            if f"resource.{item.get('key')}" in wanted]


def canonical_ids(ids: pl.Series, hex_length: int) -> pl.Series:
    """A column of ids as lowercase hex, null where there is none. Logs nearly always write them
    so already: one check over the column then spares every id a decoding attempt."""
    if not ids.str.contains(NOT_LOWER_HEX).any():
        return ids.replace("", None)
    return ids.to_frame().select(hex_id(ids.name, hex_length)).to_series()


def hex_id(column: str, hex_length: int) -> pl.Expr:
    """Ids are hex by the spec; some exporters write base64 (24 or 12 characters)."""
    text = pl.col(column).replace("", None)
    is_hex = text.str.contains(r"^[0-9a-fA-F]+$")
    base64_length = 24 if hex_length == 32 else 12
    decoded = text.str.decode("base64", strict=False).bin.encode("hex")
    return (
        pl.when(is_hex).then(text.str.to_lowercase())
        .when(text.str.len_chars() == base64_length).then(pl.coalesce(decoded, text))
        .otherwise(text)
    ).alias(column)


def parse_lines(lines: Iterator[tuple[int, bytes]], columns: SpanColumns
                ) -> Iterator[tuple[int, str]]:
    """Add every line's spans to `columns`; yield (line, reason) for lines that are not
    TracesData."""
    for number, raw in lines:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            yield number, "not valid JSON"
            continue
        mark = columns.mark()
        try:
            columns.add_document(document, number)
        except (TypeError, AttributeError, KeyError) as error:
            columns.rollback(mark)  # a bad record adds no span at all
            yield number, f"not an OTLP/JSON TracesData record ({error})"
