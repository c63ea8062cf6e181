"""OTLP lines are decoded into typed structs; a line of another shape is read leniently into the
same structs. Both readings must give the same spans, and a line strays from the spec only as
far as what is read from it."""

from __future__ import annotations

import json

import orjson
from polars.testing import assert_frame_equal

from agentcost.ingest.read import read_steps
from agentcost.ingest.spans.frame import attribute_keys
from agentcost.ingest.spans.otlp_lines import SpanColumns
from agentcost.ingest.spans.otlp_model import decode_traces, lenient_traces
from tests.test_otlp_file_exporter import exporter_log, kv, span, traces_data

TRACE = "0af7651916cd43dd8448eb211c80319c"
KEYS = attribute_keys("resource.service.name")


def spans_of(lines: list[bytes], read) -> SpanColumns:
    columns = SpanColumns(KEYS, frozenset(k for k in KEYS if k.startswith("resource.")))
    for number, raw in enumerate(lines, 1):
        columns.add_traces(read(raw), number)
    return columns


def test_typed_and_lenient_readings_give_the_same_span_frame(tmp_path):
    lines = exporter_log(tmp_path)[0].read_bytes().splitlines()
    lines = [raw for raw in lines if raw.endswith(b"}") and b"resourceSpans" in raw]  # not cut
    typed = spans_of(lines, lambda raw: decode_traces(raw, KEYS))
    lenient = spans_of(lines, lambda raw: lenient_traces(orjson.loads(raw), KEYS))
    assert typed.frame().height == sum(raw.count(b'"spanId"') for raw in lines) > 1_000
    assert_frame_equal(typed.frame(), lenient.frame())


def chat(span_id: str, attributes: list[dict]) -> dict:
    one = span(TRACE, span_id, None, "chat", {}, 1_764_000_000_000_000_000, encode_ids=False)
    return dict(one, attributes=[kv("gen_ai.operation.name", "chat"),
                                 kv("gen_ai.request.model", "gpt-4o"), *attributes])


def test_a_line_off_the_spec_loses_only_what_is_wrong_in_what_is_read(tmp_path):
    records = [
        # By the spec: read by the typed decoder.
        chat("0000000000000001", [kv("gen_ai.usage.input_tokens", 100),
                                  kv("gen_ai.usage.output_tokens", 10)]),
        # An attribute no convention reads is not a key/value object: the span is still read.
        chat("0000000000000002", [kv("gen_ai.usage.input_tokens", 200),
                                  kv("gen_ai.usage.output_tokens", 20),
                                  {"key": "http.url", "value": "https://example.com"}]),
        # A count written as a double, beside a null string: the double is the value.
        chat("0000000000000003", [
            {"key": "gen_ai.usage.input_tokens",
             "value": {"stringValue": None, "doubleValue": 300}},
            kv("gen_ai.usage.output_tokens", 30)]),
        # A read attribute whose value is not an object: the line is skipped, and named.
        chat("0000000000000004", [{"key": "gen_ai.usage.input_tokens", "value": "400"},
                                  kv("gen_ai.usage.output_tokens", 40)]),
    ]
    path = tmp_path / "otlp.jsonl"
    path.write_text("\n".join(json.dumps(traces_data([one])) for one in records) + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps["input_tokens"].to_list() == [100, 200, 300]
    assert ingested.steps["output_tokens"].to_list() == [10, 20, 30]
    assert {reason: [line for _, line in tally.examples]
            for reason, tally in ingested.accounting.skipped.items()} == {
        "not an OTLP/JSON TracesData record (an attribute value is str, not an object)": [4]}


def test_lines_msgspec_cannot_decode_are_named_as_json_errors(tmp_path):
    good = json.dumps(traces_data([chat("0000000000000001", [
        kv("gen_ai.usage.input_tokens", 100), kv("gen_ai.usage.output_tokens", 10)])]))
    not_utf8 = good.encode().replace(b'"chat"', b'"ch\xffat"', 1)
    too_deep = b'{"resourceSpans": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    path = tmp_path / "otlp.jsonl"
    path.write_bytes(b"\n".join([good.encode(), not_utf8, too_deep]) + b"\n")
    ingested = read_steps([str(path)])
    assert ingested.steps["input_tokens"].to_list() == [100]
    assert {reason: [line for _, line in tally.examples]
            for reason, tally in ingested.accounting.skipped.items()} == {
        "not valid JSON": [2, 3]}
