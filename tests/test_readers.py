"""The reader registry and what every reader shares: one rule for ids, a file read once however
many blank lines it holds, and the command line's choices taken from the registry."""

from __future__ import annotations

import base64
import json
import re

import polars as pl
import pytest

from agentcost.ingest.read import read_steps
from agentcost.ingest.readers import BY_NAME, READERS, head_of, reader_named, recognise
from agentcost.ingest.spans.ids import canonical_ids
from tests.conftest import REAL_TRACES, SAMPLES

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

    from dataclasses import replace

    from agentcost.ingest import sources

    chunks_of = sources.read_chunks
    monkeypatch.setattr(sources, "read_chunks", lambda *args, **kwargs: (
        replace(chunk, data=Counted(chunk.data)) for chunk in chunks_of(*args, **kwargs)))
    ingested = read_steps([str(path)])
    assert len(scans) <= 2
    assert ingested.steps.height == 2000
    accounting = ingested.accounting
    assert (accounting.lines_read, accounting.lines_blank) == (4001, 2000)
    assert accounting.skipped["truncated line (file ends mid-record)"].examples == [
        (str(path), 4001)]


def test_the_registry_names_each_format_once_and_native_takes_the_rest():
    assert len(BY_NAME) == len({reader.label for reader in READERS}) == len(READERS)
    assert READERS[-1].name == "native"
    assert recognise(head_of(b'{"anything": 1}\n')).name == "native"
    assert {reader.label for reader in READERS} >= {
        "agentcost JSONL", "OTLP/JSON", "Jaeger JSON",
        "span list (Phoenix / OpenInference / OTel SDK)", "Langfuse trace export",
        "span attribute map", "OpenCode database (SQLite)",
        "GitHub Copilot CLI session (events.jsonl)",
        "Cline / Roo Code / Kilo Code task (ui_messages.json)", "Codex CLI session log",
        "Gemini CLI session", "Qwen Code session log", "Claude Code session log"}
    with pytest.raises(Exception, match="use auto or one of attributes, claude-code, cline, "
                                        "codex, copilot-cli, gemini-cli, jaeger"):
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
    assert ("auto, attributes, claude-code, cline, codex, copilot-cli, gemini-cli, jaeger, "
            "langfuse, native, opencode, otlp, qwen-code, spans") in " ".join(
                result.stderr.replace("\u2502", " ").split())  # the message may wrap in its box


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


def otlp_batch_line(trace_number: int, spans: int) -> str:
    """One exporter line holding a batch of `spans` chat spans of 100 input and 10 output
    tokens each, padded as real attributes are, so that the line is long."""
    batch = json.loads(otlp_line(f"{trace_number:032x}", SPAN, 100))
    template = batch["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    template["attributes"].append({"key": "filler", "value": {"stringValue": "x" * 300}})
    batch["resourceSpans"][0]["scopeSpans"][0]["spans"] = [
        dict(template, spanId=f"{trace_number:08x}{n:08x}") for n in range(spans)]
    return json.dumps(batch)


@pytest.mark.parametrize("compressed", [False, True])
def test_otlp_lines_longer_than_the_head_are_read_whole(tmp_path, compressed):
    """Three exporter lines of about 1.1 MB each (a batch of 2,000 spans): 6,000 steps of
    $0.00035 each ($2.50 and $10 a million tokens), $2.10."""
    import gzip

    text = "\n".join(otlp_batch_line(n, 2000) for n in (1, 2, 3)) + "\n"
    assert len(text) / 3 > 1_000_000
    path = tmp_path / ("batches.jsonl.gz" if compressed else "batches.jsonl")
    path.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    ingested = read_steps([str(path)])
    assert ingested.steps.height == 6000
    assert ingested.accounting.lines_read == ingested.accounting.lines_used == 3
    import agentcost

    assert agentcost.report(ingested).summary.total_cost_usd == pytest.approx(2.10, abs=1e-9)


def test_a_document_holding_its_spans_beside_other_keys_reads_as_the_bare_list(tmp_path):
    spans = [{"name": "chat", "context": {"trace_id": TRACE, "span_id": f"{n + 1:016x}"},
              "start_time": 1764000000000000000 + n, "attributes": chat(100 * (n + 1))}
             for n in range(3)]
    bare, held = tmp_path / "bare.json", tmp_path / "held.json"
    bare.write_text(json.dumps(spans))
    held.write_text(json.dumps({"final_output": "done", "spans": spans, "run": {"id": 7}},
                               indent=2))
    from polars.testing import assert_frame_equal

    from_bare, from_held = read_steps([str(bare)]), read_steps([str(held)])
    assert_frame_equal(from_held.steps.drop("source_file"), from_bare.steps.drop("source_file"))
    assert from_held.steps["input_tokens"].to_list() == [100, 200, 300]
    assert list(from_held.accounting.notes) == [
        "top-level keys beside the spans, left out: final_output, run"]


def test_a_big_document_is_recognised_from_its_whole_structure(tmp_path):
    """2,000 spans under `spans`, pretty-printed: past the head, with no reader's marker near
    its start, the document is read whole to be recognised."""
    spans = [{"name": "chat", "context": {"trace_id": TRACE, "span_id": f"{n + 1:016x}"},
              "start_time": 1764000000000000000 + n, "attributes": chat(10)}
             for n in range(2000)]
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"output": "x" * 5000, "spans": spans}, indent=2))
    assert path.stat().st_size > 256 * 1024
    assert read_steps([str(path)]).steps.height == 2000


def test_a_native_record_with_a_span_like_field_is_still_native(tmp_path):
    """The first line has `context` (and a gen_ai key): still two native steps, $3.50."""
    import agentcost

    path = tmp_path / "steps.jsonl"
    path.write_text(
        '{"task_id": "t1", "step": 1, "model": "gpt-4o", "input_tokens": 1000000, '
        '"output_tokens": 0, "context": {"user": "u1"}, "gen_ai.system": "openai"}\n'
        '{"task_id": "t1", "step": 2, "model": "gpt-4o", "input_tokens": 0, '
        '"output_tokens": 100000}\n')
    report = agentcost.report(path)
    assert report.accounting.formats == {"agentcost JSONL": 1}
    assert report.summary.total_cost_usd == pytest.approx(3.50, abs=1e-12)
    one_line = tmp_path / "one.jsonl"
    one_line.write_text(path.read_text().splitlines()[0] + "\n")
    assert agentcost.report(one_line).accounting.formats == {"agentcost JSONL": 1}


def test_valid_json_of_no_trace_format_is_named_as_such_and_the_rest_is_read(tmp_path):
    import agentcost

    other = tmp_path / "settings.json"
    other.write_text(json.dumps({"theme": "dark", "retries": 3}, indent=2))
    report = agentcost.report([other, SAMPLES / "research_agent.jsonl"])
    assert report.summary.total_cost_usd == pytest.approx(0.142, abs=1e-12)
    [(reason, tally)] = report.accounting.skipped.items()
    assert reason == "valid JSON, not a trace format agentcost reads: top-level keys theme, retries"
    assert (tally.count, tally.examples) == (4, [(str(other), 1)])


def test_a_forced_format_that_gives_nothing_names_what_the_file_looks_like():
    from agentcost.errors import InputError

    langfuse = REAL_TRACES / "langfuse" / "pydantic-ai-tools-2025-12-04.trace.json"
    expected = ("read as OTLP/JSON (--input-format otlp), it gives no step; it looks like "
                "Langfuse trace export")
    with pytest.raises(InputError, match=re.escape(expected)):
        read_steps([str(langfuse)], input_format="otlp")


def test_an_otlp_file_and_its_copy_give_the_totals_of_one_and_say_so(tmp_path):
    """Rotated or collected twice: the second file's spans are duplicates of the first's."""
    import shutil

    import agentcost

    original = tmp_path / "traces.jsonl"
    original.write_text("\n".join(otlp_line(TRACE, f"{n:016x}", 100 * n) for n in (1, 2, 3))
                        + "\n")
    copy = tmp_path / "traces-copy.jsonl"
    shutil.copy(original, copy)
    one, both = agentcost.report(original), agentcost.report([original, copy])
    assert both.summary == one.summary
    assert both.summary.input_tokens == 600
    duplicates = both.accounting.spans_skipped["duplicate span (same trace and span id)"]
    assert (duplicates.count, duplicates.examples) == (3, [(str(copy), 1), (str(copy), 2),
                                                           (str(copy), 3)])


def test_a_wrapper_span_in_one_file_and_its_child_in_the_next_count_once(tmp_path):
    """ADK's call_llm repeats its child's usage: across two exporter files, still once."""
    wrapper = json.loads(otlp_line(TRACE, "a" * 16, 500))
    child = json.loads(otlp_line(TRACE, "b" * 16, 500))
    child["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["parentSpanId"] = "a" * 16
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    first.write_text(json.dumps(wrapper) + "\n")
    second.write_text(json.dumps(child) + "\n")
    ingested = read_steps([str(first), str(second)])
    assert ingested.steps["span_id"].to_list() == ["b" * 16]
    assert ingested.steps["source_file"].cast(pl.String).to_list() == [str(second)]
    repeated = ingested.accounting.spans_not_steps
    assert [tally.examples for tally in repeated.values()] == [[(str(first), 1)]]


def test_two_llm_spans_each_the_others_parent_count_once_and_the_cycle_is_noted(tmp_path):
    """Bad data: a's parent is b and b's parent is a. The first seen (a) is taken as a root,
    so b is its child and carries the usage once: 200 tokens, not 0 and not 300."""
    a = json.loads(otlp_line(TRACE, "a" * 16, 100))
    b = json.loads(otlp_line(TRACE, "b" * 16, 200))
    a["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["parentSpanId"] = "b" * 16
    b["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["parentSpanId"] = "a" * 16
    path = tmp_path / "cycle.jsonl"
    path.write_text(json.dumps(a) + "\n" + json.dumps(b) + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps["span_id"].to_list() == ["b" * 16]
    assert ingested.steps["input_tokens"].to_list() == [200]
    [tally] = [tally for what, tally in ingested.accounting.notes.items()
               if what.startswith("parent cycle broken")]
    assert (tally.count, tally.examples) == (1, [(str(path), 1)])


class Recorder:
    """A progress display that keeps what it is told."""

    def __init__(self) -> None:
        self.total, self.names, self.moves = 0, [], []

    def start(self, total_bytes: int) -> None:
        self.total = total_bytes

    def reading(self, name: str) -> None:
        self.names.append(name)

    def read(self, size_bytes: int) -> None:
        self.moves.append(size_bytes)


@pytest.mark.parametrize("compressed", [False, True])
def test_progress_moves_as_a_big_file_is_read_and_ends_at_its_size(tmp_path, monkeypatch,
                                                                    compressed):
    """OTLP lines read in 8 KiB chunks: the display moves many times, by the bytes on disk
    (compressed ones for gzip), and ends at the file's size, once."""
    import gzip

    from agentcost.ingest import sources

    monkeypatch.setattr(sources, "SPAN_CHUNK_BYTES", 8192)
    monkeypatch.setattr(sources, "READ_PIECE_BYTES", 8192)
    text = "\n".join(otlp_batch_line(n, 40) for n in range(1, 31)) + "\n"
    path = tmp_path / ("big.jsonl.gz" if compressed else "big.jsonl")
    path.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    recorder = Recorder()
    steps = read_steps([str(path)], progress=recorder).steps
    assert steps.height == 1200
    assert recorder.total == path.stat().st_size
    assert recorder.names == [str(path)]
    assert sum(recorder.moves) == path.stat().st_size
    assert len(recorder.moves) >= (3 if compressed else 10)


@pytest.mark.parametrize("container", ["list", "tempo v2", "jaeger v3"])
def test_otlp_traces_data_in_the_containers_apis_write(tmp_path, container):
    """The same two TracesData as a list, and one under Tempo's v2 `trace` and Jaeger's v3
    `result` wrappers: the spans of each, read as OTLP."""
    first = json.loads(otlp_line(TRACE, "1" * 16, 100))
    second = json.loads(otlp_line(TRACE, "2" * 16, 200))
    if container == "list":
        document, expected = [first, second], [100, 200]
    else:
        document = {"trace" if container == "tempo v2" else "result": first}
        expected = [100]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document, indent=2))
    ingested = read_steps([str(path)])
    assert ingested.accounting.formats == {"OTLP/JSON": 1}
    assert ingested.steps["input_tokens"].to_list() == expected


def test_otlp_under_a_wrapper_on_one_line_in_lines_and_past_the_head(tmp_path):
    """Tempo v2's {"trace": ...} saved by curl on one line, a JSON Lines file of Jaeger v3
    {"result": ...}, and a pretty-printed wrapper past the head: every span read."""
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"trace": json.loads(otlp_line(TRACE, "1" * 16, 100))}))
    lines = tmp_path / "lines.jsonl"
    lines.write_text("".join(json.dumps({"result": json.loads(otlp_line(TRACE, f"{n:016x}",
                                                                        100))}) + "\n"
                             for n in (1, 2)))
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"trace": json.loads(otlp_batch_line(5, 1000))}, indent=2))
    assert big.stat().st_size > 256 * 1024
    assert read_steps([str(one)]).steps.height == 1
    assert read_steps([str(lines)]).steps.height == 2
    assert read_steps([str(big)]).steps.height == 1000


def test_which_native_lines_are_repeats_does_not_depend_on_what_is_shown(tmp_path):
    import agentcost

    path = tmp_path / "users.jsonl"
    line = {"task_id": "t", "step": 1, "model": "gpt-4o", "input_tokens": 1000,
            "output_tokens": 0}
    path.write_text(json.dumps({**line, "user": "alice"}) + "\n"
                    + json.dumps({**line, "user": "bob"}) + "\n")
    plain, by_user = agentcost.report(path), agentcost.report(path, by="user")
    assert plain.summary.steps == by_user.summary.steps == 1
    assert plain.summary.total_cost_usd == by_user.summary.total_cost_usd == 0.0025


def test_a_native_file_with_a_bad_first_line_is_not_read_whole_to_be_recognised(
        tmp_path, monkeypatch):
    from agentcost.ingest import read

    def refuse(stream):
        raise AssertionError("read whole")

    monkeypatch.setattr(read, "_rest", refuse)
    path = tmp_path / "steps.jsonl"
    good = json.dumps({"task_id": "t", "step": 1, "model": "gpt-4o", "input_tokens": 10,
                       "output_tokens": 1})
    path.write_text('{"task_id": "t0", "step": \n' + good + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps.height == 1
    assert ingested.accounting.skipped["not valid JSON"].examples == [(str(path), 1)]


def test_a_langfuse_export_past_the_head_or_with_a_null_trace_is_langfuse(tmp_path):
    source = json.loads((REAL_TRACES / "langfuse" / "microsoft-agent-2025-12-17.trace.json")
                        .read_text())
    steps_in_one = read_steps([str(REAL_TRACES / "langfuse"
                                   / "microsoft-agent-2025-12-17.trace.json")]).steps.height
    source["trace"]["input"] = "x" * 300_000  # pushes "observations" past the head
    big = tmp_path / "big.json"
    big.write_text(json.dumps(source, indent=2))
    assert read_steps([str(big)]).steps.height == steps_in_one
    source["trace"] = None
    null = tmp_path / "null.json"
    null.write_text(json.dumps(source))
    ingested = read_steps([str(null)])
    assert ingested.accounting.formats == {"Langfuse trace export": 1}


def test_a_forced_span_format_that_makes_no_step_of_a_native_file_is_an_error(tmp_path):
    from agentcost.errors import InputError

    with pytest.raises(InputError, match="it looks like agentcost JSONL"):
        read_steps([str(SAMPLES / "research_agent.jsonl")], input_format="spans")


def test_json_lines_of_span_containers(tmp_path):
    def container(n: int) -> str:
        return json.dumps({"run": n, "spans": [
            {"name": "chat", "context": {"trace_id": TRACE, "span_id": f"{n:08x}{i:08x}"},
             "attributes": chat(10)} for i in range(3)]})

    path = tmp_path / "runs.jsonl"
    path.write_text(container(1) + "\n" + container(2) + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps.height == 6
    assert ingested.accounting.lines_used == 2


def test_progress_moves_while_a_clean_native_file_is_decoded_whole(tmp_path):
    """The fast path decodes the file in one polars scan: the display hears of it batch by
    batch, and the steps are those of the same file read with no display."""
    lines = [json.dumps({"task_id": f"t{n % 40}", "step": n // 40 + 1, "model": "gpt-4o",
                         "input_tokens": 1000 + n, "output_tokens": 10})
             for n in range(20_000)]
    path = tmp_path / "steps.jsonl"
    path.write_text("\n".join(lines) + "\n")
    recorder = Recorder()
    with_display = read_steps([str(path)], progress=recorder).steps
    assert with_display.equals(read_steps([str(path)]).steps)
    assert with_display["input_tokens"].sum() == sum(1000 + n for n in range(20_000))
    assert sum(recorder.moves) == path.stat().st_size
    assert len([move for move in recorder.moves if move]) >= 3


def test_progress_has_no_end_to_reach_when_a_stream_is_among_the_inputs(tmp_path, monkeypatch):
    import io
    import sys

    recorder = Recorder()
    stream = io.BytesIO((SAMPLES / "research_agent.jsonl").read_bytes())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream))
    read_steps([str(SAMPLES / "agents.jsonl"), "-"], progress=recorder)
    assert recorder.total == 0
    assert sum(recorder.moves) == ((SAMPLES / "agents.jsonl").stat().st_size
                                   + (SAMPLES / "research_agent.jsonl").stat().st_size)


def test_a_long_chain_of_parents_is_not_taken_for_a_cycle():
    from agentcost.ingest.spans.to_steps import _cycle_breakers

    chain = pl.Series([None, *range(0, 699)], dtype=pl.UInt32)  # row n's parent is n - 1
    assert _cycle_breakers(chain).to_list() == []
    upward = pl.Series([*range(1, 700), None], dtype=pl.UInt32)  # row n's parent is n + 1
    assert _cycle_breakers(upward).to_list() == []
    ring = pl.Series([*range(1, 700), 0], dtype=pl.UInt32)  # 700 spans in one cycle
    assert _cycle_breakers(ring).to_list() == [0]


def test_a_pretty_printed_native_step_is_told_how_to_write_it(tmp_path):
    import agentcost

    path = tmp_path / "step.json"
    path.write_text(json.dumps({"task_id": "t", "step": 1, "model": "gpt-4o",
                                "input_tokens": 10}, indent=2))
    with pytest.raises(agentcost.NoUsableInput) as raised:
        agentcost.report(path)
    [reason] = raised.value.accounting.skipped
    assert reason.endswith("agentcost JSONL steps spread over several lines: write one JSON "
                           "object per line")


def test_a_gzip_stream_cut_short_on_stdin_keeps_every_line_before_the_cut(tmp_path, monkeypatch):
    import gzip
    import io
    import sys

    cut = gzip.compress((SAMPLES / "agents.jsonl").read_bytes())[:20_000]
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(cut)
    from_file = read_steps([str(path)])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(cut))))
    from_stdin = read_steps(["-"])
    assert from_stdin.steps.height == from_file.steps.height > 600
    assert any(what.startswith("input cut off") for what in from_stdin.accounting.notes)


def test_recognised_says_what_it_recognised(tmp_path):
    lines = tmp_path / "otlp.jsonl"
    lines.write_text(otlp_line(TRACE, SPAN, 100) + "\n" + otlp_line(TRACE, "2" * 16, 1) + "\n")
    held = tmp_path / "run.json"
    held.write_text(json.dumps({"output": 1, "spans": [
        {"name": "chat", "context": {"trace_id": TRACE, "span_id": SPAN},
         "attributes": chat(10)}]}))
    found = read_steps([str(lines), str(held), str(SAMPLES / "research_agent.jsonl")])
    assert found.accounting.evidence == {
        "OTLP/JSON": "resource batches under resourceSpans, a request a line",
        "span list (Phoenix / OpenInference / OTel SDK)": "spans under spans",
        "agentcost JSONL": "records with no span structure"}
    forced = read_steps([str(lines)], input_format="otlp")
    assert forced.accounting.evidence == {"OTLP/JSON": "named by --input-format"}


@pytest.mark.parametrize("spans_a_line", [2, 1500])
def test_jsonl_whose_first_line_is_broken_keeps_every_line_after_it(tmp_path, spans_a_line):
    """A cut-off first line (a crash mid-write, a rotated log's tail) is skipped and named;
    the exporter lines after it, short or hundreds of KB long, are read as OTLP lines."""
    lines = [otlp_batch_line(n, spans_a_line) for n in range(1, 4)]
    path = tmp_path / "exporter.jsonl"
    path.write_text(lines[0][: len(lines[0]) // 2] + "\n" + "\n".join(lines[1:]) + "\n")
    ingested = read_steps([str(path)])
    assert ingested.steps.height == 2 * spans_a_line
    assert ingested.steps["input_tokens"].sum() == 100 * 2 * spans_a_line
    accounting = ingested.accounting
    assert (accounting.lines_read, accounting.lines_used) == (3, 2)
    assert dict(accounting.skipped)["not valid JSON"].examples == [(str(path), 1)]
    assert list(accounting.formats) == ["OTLP/JSON"]


def test_a_cost_past_what_money_sums_hold_is_bad_data_not_a_crash(tmp_path):
    """A recorded cost of $1e30: on a native line, the line is skipped and named, the other
    kept ($0.50 reported); in a caller's frame, its row is skipped; in a span attribute, the
    cost is unknown (not zero) and the span still prices from its tokens (100 input and 10
    output tokens of gpt-4o: $0.00025 + $0.0001)."""
    import agentcost

    native = tmp_path / "huge.jsonl"
    native.write_text(
        '{"task_id": "a", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 1, '
        '"cost_usd": 1e30}\n{"task_id": "b", "model": "gpt-4o", "input_tokens": 10, '
        '"output_tokens": 1, "cost_usd": 0.5}\n', encoding="utf-8")
    report = agentcost.report(native, cost_mode="reported")
    assert report.summary.total_cost_usd == 0.5
    assert report.accounting.skipped["cost_usd is too large"].examples == [(str(native), 1)]
    frame = pl.DataFrame({"task_id": ["a", "b"], "reported_cost_usd": [1e30, 0.5]})
    from_frame = agentcost.report(frame, cost_mode="reported")
    assert from_frame.accounting.skipped["reported_cost_usd is too large"].count == 1
    attributes = {**chat(100), "gen_ai.usage.cost": 1e30}
    span = tmp_path / "span.json"
    span.write_text(json.dumps([{"name": "chat", "context": {"trace_id": TRACE, "span_id": 7},
                                 "start_time": 1764000002000000000,
                                 "attributes": attributes}]), encoding="utf-8")
    spans = agentcost.report(span)
    assert spans.summary.total_cost_usd == 0.00035
    assert spans.summary.reported_cost_usd is None
