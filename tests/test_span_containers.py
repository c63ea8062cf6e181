"""Span containers other than the real samples cover: Jaeger, OTel-Python span dicts with
decimal ids, Phoenix JSONL, forced formats, task keys, and spans without ids."""

from __future__ import annotations

import gzip
import json

import polars as pl
import pytest

from agentcost.errors import InputError
from agentcost.ingest.read import read_steps
from agentcost.ingest.readers import head_of, recognise
from tests.conftest import REAL_TRACES, SAMPLES


def chat_attributes(prompt: int, completion: int, **extra: object) -> dict[str, object]:
    return {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": prompt, "gen_ai.usage.output_tokens": completion,
            **extra}


def test_jaeger_json(tmp_path):
    document = {"data": [{"traceID": "ab" * 16, "spans": [
        {"traceID": "ab" * 16, "spanID": "01" * 8, "operationName": "invoke_agent",
         "references": [], "startTime": 1_795_000_000_000_000, "duration": 5_000_000,
         "tags": [{"key": "gen_ai.operation.name", "type": "string", "value": "invoke_agent"},
                  {"key": "gen_ai.usage.input_tokens", "type": "int64", "value": 999}],
         "processID": "p1"},
        {"traceID": "ab" * 16, "spanID": "02" * 8, "operationName": "chat gpt-4o",
         "references": [{"refType": "CHILD_OF", "traceID": "ab" * 16, "spanID": "01" * 8}],
         "startTime": 1_795_000_001_000_000, "duration": 1_250_000,
         "tags": [{"key": k, "type": "string", "value": v}
                  for k, v in chat_attributes(1200, 80).items()],
         "processID": "p1"},
    ], "processes": {"p1": {"serviceName": "agent", "tags": []}}}]}
    path = tmp_path / "jaeger.json"
    path.write_text(json.dumps(document))
    ingested = read_steps([str(path)])
    steps = ingested.steps
    assert list(ingested.accounting.formats) == ["Jaeger JSON"]
    assert steps.height == 1
    assert steps.row(0, named=True)["input_tokens"] == 1200
    assert steps.row(0, named=True)["duration_s"] == 1.25
    assert steps.row(0, named=True)["parent_span_id"] == "01" * 8


def test_a_bad_span_in_a_document_is_named_and_the_rest_kept(tmp_path):
    def chat(span_id, start, tags):
        return {"traceID": "ab" * 16, "spanID": span_id, "operationName": "chat",
                "references": [], "startTime": start, "duration": 1_000_000,
                "tags": tags, "processID": "p1"}

    good_tags = [{"key": k, "value": v} for k, v in chat_attributes(100, 10).items()]
    document = {"data": [{"traceID": "ab" * 16, "processes": {"p1": {"tags": []}}, "spans": [
        chat("01" * 8, 1_795_000_000_000_000, good_tags),
        chat("02" * 8, "yesterday", good_tags),       # a time that is not a number
        chat("03" * 8, 1_795_000_002_000_000, "tags"),  # tags that are not a list of pairs
        chat("04" * 8, 1_795_000_003_000_000, good_tags),
    ]}]}
    path = tmp_path / "jaeger.json"
    path.write_text(json.dumps(document))
    ingested = read_steps([str(path)])
    assert ingested.steps["span_id"].to_list() == ["01" * 8, "04" * 8]
    skipped = ingested.accounting.spans_skipped
    assert sorted(line for tally in skipped.values() for _, line in tally.examples) == [2, 3]
    assert all(reason.startswith("not a valid Jaeger JSON span: ") for reason in skipped)


def test_otel_python_span_dicts_with_decimal_ids(tmp_path):
    trace_id = 0x5B8AA5A2D2C872E8321CF37308D69DF2
    spans = [
        {"name": "chat", "context": {"trace_id": trace_id, "span_id": 0x051581BF3CB55C13},
         "parent": None, "start_time": "2026-11-27T10:00:00.000000Z",
         "end_time": "2026-11-27T10:00:02.500000Z",
         "attributes": chat_attributes(500, 20, **{"gen_ai.usage.cache_read.input_tokens": 300}),
         "resource": {"attributes": {"service.name": "svc"}}},
    ]
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(spans))
    steps = read_steps([str(path)]).steps
    row = steps.row(0, named=True)
    assert row["task_id"] == f"{trace_id:032x}"
    assert row["span_id"] == "051581bf3cb55c13"
    assert (row["input_tokens"], row["cache_read_tokens"]) == (200, 300)
    assert row["duration_s"] == 2.5


def test_phoenix_jsonl_gzipped_and_forced_format(tmp_path):
    lines = [json.dumps({"name": f"llm {i}", "context": {"trace_id": "t1", "span_id": f"s{i}"},
                         "span_kind": "LLM", "parent_id": None,
                         "start_time": f"2026-11-27T10:00:0{i}+00:00",
                         "end_time": f"2026-11-27T10:00:0{i}+00:00",
                         "attributes": {"llm": {"model_name": "gpt-4o-mini",
                                                "token_count": {"prompt": 100 * (i + 1),
                                                                "completion": 7}}}})
             for i in range(3)]
    path = tmp_path / "phoenix.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\nnot json\n").encode()))
    ingested = read_steps([str(path)])
    steps = ingested.steps
    assert steps["input_tokens"].to_list() == [100, 200, 300]
    assert steps["model"].unique().to_list() == ["gpt-4o-mini"]
    assert ingested.accounting.skipped["not valid JSON"].examples == [(str(path), 4)]
    # Forcing the native format on the same file gives no step: an error that says what the
    # file looks like, not a run that reports nothing.
    with pytest.raises(InputError, match=r"read as agentcost JSONL \(--input-format native\), "
                                         r"it gives no step; it looks like span list"):
        read_steps([str(path)], input_format="native")


def test_task_key_session_and_resource(tmp_path):
    def span(trace, span_id, session):
        return {"name": "chat", "context": {"trace_id": trace, "span_id": span_id},
                "start_time": "2026-11-27T10:00:00Z", "end_time": "2026-11-27T10:00:01Z",
                "attributes": chat_attributes(10, 1, **{"session.id": session}),
                "resource": {"attributes": {"deployment.environment": "prod"}}}

    path = tmp_path / "sessions.json"
    path.write_text(json.dumps([span("t1", "a", "s1"), span("t2", "b", "s1"),
                                span("t3", "c", "s2")]))
    by_trace = read_steps([str(path)]).steps
    assert sorted(by_trace["task_id"].to_list()) == ["t1", "t2", "t3"]
    by_session = read_steps([str(path)], task_key="session").steps
    assert sorted(by_session["task_id"].to_list()) == ["s1", "s1", "s2"]
    by_resource = read_steps([str(path)], task_key="resource.deployment.environment").steps
    assert by_resource["task_id"].unique().to_list() == ["prod"]


def test_spans_without_ids_are_named(tmp_path):
    spans = [{"name": "chat", "context": {}, "attributes": chat_attributes(10, 1)},
             {"name": "chat", "context": {"trace_id": "t", "span_id": "s"},
              "attributes": chat_attributes(20, 2)}]
    path = tmp_path / "no-ids.json"
    path.write_text(json.dumps(spans))
    ingested = read_steps([str(path)])
    assert ingested.steps["input_tokens"].to_list() == [20]
    tally = ingested.accounting.spans_skipped["span without a trace id or span id"]
    assert tally.examples == [(str(path), 1)]


def test_broken_document_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{"resourceSpans": [{"scopeSpans": [')
    with pytest.raises(InputError, match="not valid JSON"):
        read_steps([str(path)])


@pytest.mark.parametrize(("head", "expected"), [
    (b'{"resourceSpans": []}\n{"resourceSpans": []}', "otlp"),
    (b'{\n "resourceSpans": [\n', "otlp"),
    (b'{"batches": [', "otlp"),
    (b'{"trace": {}, "observations": []}', "langfuse"),
    (b'[{"name": "x", "context": {"trace_id": "1"}}]', "spans"),
    (b'{"task_id": "t", "input_tokens": 5}\n', "native"),
    (b'{"gen_ai.usage.input_tokens": 5}', "attributes"),
    (b'{"data": [{"traceID": "a", "spans": []}]}', "jaeger"),
])
def test_sniffing(head, expected):
    assert recognise(head_of(head)).name == expected


def test_report_cli_accepts_format_and_task_key(run_cli, tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"name": "chat", "context": {"trace_id": "t", "span_id": "s"},
                                 "attributes": chat_attributes(1000, 100)}]))
    result = run_cli("report", str(path), "--input-format", "spans", "--task-key", "session",
                     "-f", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["cost_usd"]["llm"] == pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)
    assert run_cli("report", str(path), "--task-key", "bogus").exit_code == 2
    assert isinstance(pl.__version__, str)


def test_usage_is_estimated_from_content_when_missing(tmp_path, run_cli):
    messages = json.dumps([{"role": "user", "content": "hello world"}])
    spans = [{"name": "chat", "context": {"trace_id": "t", "span_id": "s1"},
              "start_time": "2026-11-27T10:00:00Z", "end_time": "2026-11-27T10:00:01Z",
              "attributes": {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                             "gen_ai.input.messages": messages,
                             "gen_ai.output.messages": json.dumps(
                                 [{"role": "assistant", "content": "Hi there"}])}},
             {"name": "chat", "context": {"trace_id": "t", "span_id": "s2"},
              "attributes": {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}}]
    path = tmp_path / "streamed.json"
    path.write_text(json.dumps(spans))
    steps = read_steps([str(path)]).steps.sort("span_id")
    # cl100k_base: "hello world" is 2 tokens, "Hi there" 2; the second span has no content
    assert steps["input_tokens"].to_list() == [2, None]
    assert steps["output_tokens"].to_list() == [2, None]
    assert steps["tokens_estimated"].to_list() == [True, False]
    summary = json.loads(run_cli("report", str(path), "-f", "json").stdout)["summary"]
    assert summary["estimated_steps"] == 1
    assert summary["unpriced"]["steps"] == 1  # no content, no usage: unpriced, never $0



@pytest.mark.skipif(not REAL_TRACES.is_dir(), reason="shared/traces/real not present")
def test_native_and_span_files_together(run_cli):
    result = run_cli("report", str(SAMPLES / "research_agent.jsonl"),
                     str(REAL_TRACES / "otlp/adk-python-S1.otlp.json"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["tasks"] == 2
    assert document["summary"]["tokens"]["input"] == 38_800 + 12
    assert document["lines"]["formats"] == {"OTLP/JSON": 1, "agentcost JSONL": 1}


def test_attributes_that_only_fill_a_column_left_out_are_not_kept():
    from agentcost.ingest.spans import conventions as c
    from agentcost.ingest.spans.frame import attribute_keys

    everything = attribute_keys("trace")
    assert set(c.TOOL_ARGS) | set(c.USER) | set(c.SESSION) | set(c.AGENT) <= everything
    report = attribute_keys("trace", frozenset({"task_id", "model", "tool_name"}))
    assert not (set(c.TOOL_ARGS) | set(c.USER) | set(c.SESSION) | set(c.AGENT)) & report
    assert set(c.TOOL_NAME) | set(c.INPUT) | set(c.KIND_KEYS) <= report  # rules read these
    by_session = attribute_keys("session", frozenset({"task_id", "tool_args"}))
    assert set(c.SESSION) | set(c.TOOL_ARGS) <= by_session
