"""OTLP/JSON to the span frame: the Collector file exporter's one TracesData per line, one
pretty-printed document, or a Grafana Tempo export (`batches`), legacy receivers'
`instrumentationLibrarySpans` included.

Deeply nested JSON is where polars' decoder is slow, so lines are decoded into typed structs
(otlp_model.py) and walked once, keeping only what conventions read; ids, times and attribute
columns are then polars expressions over the chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import polars as pl

from agentcost.ingest.spans.conventions import CONTENT, INPUT, OUTPUT, TOOL_ARGS
from agentcost.ingest.spans.ids import canonical_ids
from agentcost.ingest.spans.otlp_model import (
    AnyValue,
    ResourceSpans,
    TracesData,
    decode_traces,
    structured_json,
)
from agentcost.ingest.spans.values import ContainerError

SPAN_FIELDS = ("traceId", "spanId", "parentSpanId", "name", "startTimeUnixNano",
               "endTimeUnixNano")
SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id", "name", "start_ns", "end_ns")
# Attributes a producer may write as a map or array (OTel GenAI's tool arguments), read as JSON.
STRUCTURED_KEYS = frozenset(TOOL_ARGS)


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

    def add_traces(self, traces: TracesData, line: int) -> None:
        """All spans of one TracesData (or Tempo export). The hot loop of OTLP reading: kept
        flat, no per-value conversion (polars converts whole columns)."""
        wanted = self._adders.get
        add_trace, add_span, add_parent, add_name, add_start, add_end = (
            column.append for column in self.columns)
        add_line = self.source_line.append
        row = len(self.source_line)
        for resource_spans in traces.resourceSpans or traces.batches or ():
            resource = _resource_values(resource_spans, self.resource_keys)
            scopes = resource_spans.scopeSpans or resource_spans.instrumentationLibrarySpans
            for scope_spans in scopes or ():
                for span in scope_spans.spans or ():
                    add_trace(span.traceId)
                    add_span(span.spanId)
                    add_parent(span.parentSpanId)
                    add_name(span.name)
                    add_start(span.startTimeUnixNano)
                    add_end(span.endTimeUnixNano)
                    add_line(line)
                    for item in span.attributes or ():
                        adders = wanted(item.key)
                        if adders is not None:
                            value = item.value
                            scalar = value.stringValue
                            if scalar is None:
                                scalar = value.intValue
                                if scalar is None:
                                    scalar = _other_value(item.key, value)
                            adders[0](row)
                            adders[1](scalar)
                    for key, text in resource:
                        adders = self._adders[key]
                        adders[0](row)
                        adders[1](text)
                    row += 1

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
    repeats keeps its first value. Only the spans that have it are converted."""
    found = pl.DataFrame({"row": pl.Series(rows, dtype=pl.Int64),
                          "value": pl.Series(values, dtype=pl.String, strict=False)})
    if found["row"].n_unique() < found.height:  # rows only grow: repeats are neighbours
        found = found.filter(pl.col("row").is_first_distinct())
    column = pl.Series(key, [None], dtype=pl.String).extend_constant(None, height - 1)
    return column.scatter(found["row"], found["value"])


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


def _other_value(key: str, value: AnyValue) -> str | None:
    """An AnyValue's double or boolean as text, where it has no string or int; for tool
    arguments, a map or array as JSON text."""
    text = _first_text(value.doubleValue, value.boolValue)
    if text is None and key in STRUCTURED_KEYS:
        return structured_json(value)
    return text


def _first_text(*scalars: Any) -> str | None:
    for scalar in scalars:
        if scalar is not None:
            if isinstance(scalar, bool):
                return "true" if scalar else "false"
            return scalar if isinstance(scalar, str) else str(scalar)
    return None


def _resource_values(resource_spans: ResourceSpans, wanted: frozenset[str]
                     ) -> list[tuple[str, Any]]:
    if not wanted or resource_spans.resource is None:
        return []
    named = ((f"resource.{item.key}", item.value)
             for item in resource_spans.resource.attributes or ())
    return [(key, _first_text(value.stringValue, value.intValue, value.doubleValue,
                              value.boolValue))
            for key, value in named if key in wanted]


def parse_lines(lines: Iterator[tuple[int, bytes]], columns: SpanColumns
                ) -> Iterator[tuple[int, str]]:
    """Add every line's spans to `columns`; yield (line, reason) for lines that are not
    TracesData."""
    for number, raw in lines:
        try:
            traces = decode_traces(raw, columns.keys)
        except orjson.JSONDecodeError:
            yield number, "not valid JSON"
        except (TypeError, AttributeError, KeyError, ContainerError) as error:
            yield number, f"not an OTLP/JSON TracesData record ({error})"
        else:
            columns.add_traces(traces, number)
