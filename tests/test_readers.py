"""The reader registry and what every reader shares: one rule for ids, a file read once however
many blank lines it holds, and the command line's choices taken from the registry."""

from __future__ import annotations

import base64
import json

import polars as pl
import pytest

from agentcost.ingest.read import read_steps
from agentcost.ingest.readers import BY_NAME, READERS, head_of, reader_named, recognise
from agentcost.ingest.spans.ids import canonical_ids

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


def chat(tokens: int) -> dict[str, object]:
    return {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": tokens, "gen_ai.usage.output_tokens": 10}


def otlp_line(trace: str, span: str, tokens: int) -> str:
    attributes = [{"key": k, "value": {"intValue": str(v)} if isinstance(v, int)
                   else {"stringValue": v}} for k, v in chat(tokens).items()]
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace, "spanId": span, "name": "chat",
        "startTimeUnixNano": "1764000000000000000", "endTimeUnixNano": "1764000001000000000",
        "attributes": attributes}]}]}]})


@pytest.mark.parametrize("written", [
    TRACE, TRACE.upper(), "0x" + TRACE, "0X" + TRACE.upper(),
    base64.b64encode(bytes.fromhex(TRACE)).decode(),
])
def test_one_rule_brings_every_way_of_writing_an_id_to_lowercase_hex(written):
    ids = pl.Series("trace_id", [written, "", None], dtype=pl.String)
    assert canonical_ids(ids, 32).to_list() == [TRACE, None, None]


def test_otlp_lines_and_span_lists_give_the_same_task_for_the_same_ids(tmp_path):
    """The same trace written four ways, across an OTLP lines file and an OTel-Python dump
    (decimal integer ids): one task, four steps."""
    otlp = tmp_path / "otlp.jsonl"
    otlp.write_text(otlp_line("0x" + TRACE.upper(), "0x" + SPAN, 100) + "\n"
                    + otlp_line(base64.b64encode(bytes.fromhex(TRACE)).decode(), "1" * 16, 200)
                    + "\n")
    dump = tmp_path / "spans.json"
    dump.write_text(json.dumps([
        {"name": "chat", "context": {"trace_id": int(TRACE, 16), "span_id": 7},
         "start_time": 1764000002000000000, "attributes": chat(300)},
        {"name": "chat", "context": {"trace_id": TRACE.upper(), "span_id": "2" * 16},
         "start_time": 1764000003000000000, "attributes": chat(400)},
    ]))
    steps = read_steps([str(otlp), str(dump)]).steps
    assert steps["task_id"].to_list() == [TRACE] * 4
    assert steps["span_id"].to_list() == [SPAN, "1" * 16, f"{7:016x}", "2" * 16]
    assert steps["input_tokens"].sum() == 1000


def test_a_span_list_with_blank_lines_is_scanned_once(tmp_path, monkeypatch):
    """A blank line after every span: each line is still read once, and the spans, blank lines
    and the cut-off last line are all accounted for by line number."""
    from agentcost.ingest.readers import span_list

    lines = []
    for number in range(2000):
        lines.append(json.dumps({"name": "chat", "context": {"trace_id": TRACE,
                                                             "span_id": f"{number + 1:016x}"},
                                 "attributes": chat(10)}))
        lines.append("")
    lines.append('{"name": "ch')
    path = tmp_path / "phoenix.jsonl"
    path.write_text("\n".join(lines))
    scans = []

    class Counted(bytes):
        """The file's bytes, counting the calls that scan all of them."""

        def count(self, *args):  # type: ignore[override]
            scans.append("count")
            return super().count(*args)

        def split(self, *args):  # type: ignore[override]
            scans.append("split")
            return super().split(*args)

    read_json_lines = span_list._json_lines_spans
    monkeypatch.setattr(span_list, "_json_lines_spans",
                        lambda data, context: read_json_lines(Counted(data), context))
    ingested = read_steps([str(path)])
    assert len(scans) <= 2
    assert ingested.steps.height == 2000
    accounting = ingested.accounting
    assert (accounting.lines_read, accounting.lines_blank) == (4001, 2000)
    assert accounting.skipped["truncated line (file ends mid-record)"].examples == [
        (str(path), 4001)]


def test_the_registry_names_each_format_once_and_native_takes_the_rest():
    assert len(BY_NAME) == len(READERS) == 6
    assert READERS[-1].name == "native"
    assert recognise(head_of(b'{"anything": 1}\n')).name == "native"
    assert {reader.label for reader in READERS} == {
        "agentcost JSONL", "OTLP/JSON", "Jaeger JSON",
        "span list (Phoenix / OpenInference / OTel SDK)", "Langfuse trace export",
        "span attribute map"}
    with pytest.raises(Exception, match="use auto or one of attributes, jaeger"):
        reader_named("csv")


def test_the_registry_loads_without_polars():
    import subprocess
    import sys

    code = "import sys, agentcost.ingest.readers; print('polars' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_input_format_choices_come_from_the_registry(run_cli):
    result = run_cli("report", "x.jsonl", "--input-format", "csv")
    assert result.exit_code == 2
    assert "auto, attributes, jaeger, langfuse, native, otlp, spans" in " ".join(
        result.stderr.split())


def test_an_integer_id_is_the_same_id_whichever_way_its_line_is_decoded(tmp_path):
    """Two OTLP lines of one trace: one with the id as a number (read leniently), one as
    hex text (decoded strictly). One task. An id that is true or false is a bad line."""
    trace = f"{123:032x}"
    lenient = json.loads(otlp_line(trace, SPAN, 100))
    lenient["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = 123
    broken = json.loads(otlp_line(trace, "2" * 16, 100))
    broken["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = True
    path = tmp_path / "otlp.jsonl"
    path.write_text("\n".join([json.dumps(lenient), otlp_line(trace, "1" * 16, 200),
                               json.dumps(broken)]) + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps["task_id"].to_list() == [trace, trace]
    assert ingested.steps["input_tokens"].sum() == 300
    [(reason, tally)] = ingested.accounting.skipped.items()
    assert reason.startswith("not an OTLP/JSON TracesData record (id True is not an id")
    assert tally.examples == [(str(path), 3)]


@pytest.mark.parametrize(("fmt", "document"), [
    ("jaeger", lambda spans: {"data": [{"traceID": TRACE, "processes": {"p1": {"tags": []}},
                                        "spans": [{"traceID": TRACE, "spanID": f"{n:016x}",
                                                   "operationName": "chat", "startTime": n,
                                                   "duration": 1, "processID": "p1",
                                                   "tags": [{"key": k, "value": v} for k, v
                                                            in chat(10).items()]}
                                                  for n in spans]}]}),
    ("langfuse", lambda spans: {"trace": {"id": TRACE}, "observations": [
        {"id": f"{n:016x}", "traceId": TRACE, "type": "GENERATION", "model": "gpt-4o",
         "startTime": "2026-11-27T10:00:00Z", "usageDetails": {"input": 10, "output": 10}}
        for n in spans]}),
])
def test_a_document_bigger_than_the_head_is_recognised_by_its_markers(tmp_path, fmt, document):
    """Pretty-printed and 2,000 spans long, the document does not end within the head read to
    recognise it: its reader is known from the keys near its start."""
    path = tmp_path / "big.json"
    path.write_text(json.dumps(document(range(1, 2001)), indent=2))
    assert path.stat().st_size > 256 * 1024
    ingested = read_steps([str(path)])
    assert list(ingested.accounting.formats) == [BY_NAME[fmt].label]
    assert ingested.steps.height == 2000
