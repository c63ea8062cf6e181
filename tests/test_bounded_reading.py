"""A line over the limit is skipped as one too-long line, named and counted, on every reading
path (the first-line peek, streamed chunks, a plain file's chunk references, the whole-file fast
path), the lines around it kept; a JSON document over the limit is refused; input that is not
text (NUL bytes, not UTF-8) is told from its first bytes, however endless it is."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import re
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentcost
from agentcost.analysis.report import Report
from agentcost.errors import InputError, UsageError
from agentcost.ingest import read, sources
from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.read import read_steps
from tests.test_readers import TRACE, otlp_batch_line, otlp_line

LIMIT = 1024
TOO_LONG = "line too long (over 1 KiB; --max-line-size raises the limit)"


def step(task: str, input_tokens: int, output_tokens: int) -> str:
    return json.dumps({"task_id": task, "model": "gpt-4o", "input_tokens": input_tokens,
                       "output_tokens": output_tokens})


# A valid step, priced if it were read ($0.50 at gpt-4o's $2.50 a million input tokens), and
# 3,000 bytes of padding past the 1 KiB limit.
LONG_STEP = json.dumps({"task_id": "long", "model": "gpt-4o", "input_tokens": 200_000,
                        "output_tokens": 0, "padding": "x" * 3000})
# gpt-4o: $2.50 a million input tokens, $10 a million output tokens.
#   a: 1,000 in, 100 out: $0.0025 + $0.001 = $0.0035
#   b: 2,000 in:          $0.005
#   c: 1,000 out:         $0.01
NATIVE_LINES = [step("a", 1000, 100), LONG_STEP, step("b", 2000, 0), step("c", 0, 1000)]
NATIVE_COSTS = {"a": 0.0035, "b": 0.005, "c": 0.01}


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))


def source_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, how: str,
              name: str = "steps.jsonl") -> str:
    """`data` as a plain file, a gzip file or stdin: the argument that names it."""
    if how == "stdin":
        feed_stdin(monkeypatch, data)
        return "-"
    path = tmp_path / (name + (".gz" if how == "gzip" else ""))
    path.write_bytes(gzip.compress(data) if how == "gzip" else data)
    return str(path)


def assert_skipped_as_too_long(accounting: LineAccounting, where: list[tuple[str, int]], *,
                               read: int, used: int, blank: int = 0) -> None:
    assert (accounting.lines_read, accounting.lines_used, accounting.lines_blank) == (
        read, used, blank)
    assert list(accounting.skipped) == [TOO_LONG]
    assert accounting.skipped[TOO_LONG].count == len(where)
    assert accounting.skipped[TOO_LONG].examples == where
    assert accounting.balanced()


def task_costs(report: Report) -> dict[str, float]:
    return {task: round(cost, 10) for task, cost in
            report.tasks.select("task_id", "total_cost_usd").iter_rows()}


@pytest.mark.parametrize("how", ["plain", "gzip", "stdin"])
@pytest.mark.parametrize("chunk_bytes", [sources.CHUNK_BYTES, 700])
def test_a_native_line_over_the_limit_is_skipped_and_the_lines_around_it_priced(
        tmp_path, monkeypatch, how, chunk_bytes):
    """Within one chunk, and (700-byte chunks) across several: line 2 is skipped as too long,
    its $0.50 not counted; a, b and c are priced. A clean plain file is not handed to polars
    whole, which would read the long line."""
    monkeypatch.setattr(sources, "CHUNK_BYTES", chunk_bytes)
    data = ("\n".join(NATIVE_LINES) + "\n").encode()
    name = source_of(tmp_path, monkeypatch, data, how)
    report = agentcost.report(name, max_line_bytes=LIMIT)
    assert task_costs(report) == NATIVE_COSTS
    assert report.summary.total_cost_usd == pytest.approx(0.0185, abs=1e-12)
    assert_skipped_as_too_long(report.accounting, [(name, 2)], read=4, used=3)


@pytest.mark.parametrize("how", ["plain", "gzip", "stdin"])
@pytest.mark.parametrize("peek", ["whole", "in small pieces"])
def test_a_first_line_over_the_limit_is_skipped_and_the_rest_read(tmp_path, monkeypatch, how,
                                                                   peek):
    """A blank line, then the long step, then a and c: the format is recognised from the
    start of the long line, which is skipped (read in small pieces, recognising stops inside
    it and the reader goes on from there)."""
    if peek == "in small pieces":
        monkeypatch.setattr(read, "SNIFF_BYTES", 256)
        monkeypatch.setattr(read, "READ_PIECE_BYTES", 256)
    lines = ["", LONG_STEP, step("a", 1000, 100), step("c", 0, 1000)]
    name = source_of(tmp_path, monkeypatch, ("\n".join(lines) + "\n").encode(), how)
    report = agentcost.report(name, max_line_bytes=LIMIT)
    assert task_costs(report) == {"a": 0.0035, "c": 0.01}
    assert_skipped_as_too_long(report.accounting, [(name, 2)], read=4, used=2, blank=1)


# OTLP exporter lines of one span each: gpt-4o, N input and 10 output tokens, N x $2.50 a
# million + $0.0001: 100 -> $0.00035, 200 -> $0.0006, 300 -> $0.00085; $0.0018 in all. Line 2,
# a batch of 5 spans (about 4 KB), is over the limit and skipped with its 500 input tokens.
OTLP_LINES = [otlp_line(TRACE, "1" * 16, 100), otlp_batch_line(7, 5),
              otlp_line(TRACE, "2" * 16, 200), otlp_line(TRACE, "3" * 16, 300)]


@pytest.mark.parametrize(("how", "chunk_bytes", "jobs"), [
    ("plain", 600, 1),    # the long line crosses cuts: chunk references end before it
    ("plain", 600, 2),
    ("plain", 8192, 1),   # the long line inside one chunk: its reader finds it
    ("gzip", 600, 1),
    ("stdin", 8192, 1),
])
def test_an_otlp_line_over_the_limit_is_skipped_and_the_spans_around_it_priced(
        tmp_path, monkeypatch, how, chunk_bytes, jobs):
    monkeypatch.setattr(sources, "SPAN_CHUNK_BYTES", chunk_bytes)
    assert all(len(line) < LIMIT for index, line in enumerate(OTLP_LINES) if index != 1)
    assert len(OTLP_LINES[1]) > 3 * LIMIT
    name = source_of(tmp_path, monkeypatch, ("\n".join(OTLP_LINES) + "\n").encode(), how)
    report = agentcost.report(name, max_line_bytes=LIMIT, jobs=jobs)
    assert report.accounting.formats == {"OTLP/JSON": 1}
    assert report.summary.steps == 3
    assert report.summary.input_tokens == 600
    assert report.summary.total_cost_usd == pytest.approx(0.0018, abs=1e-12)
    assert_skipped_as_too_long(report.accounting, [(name, 2)], read=4, used=3)


@pytest.mark.parametrize("how", ["plain", "stdin"])
def test_an_otlp_first_line_over_the_limit_is_skipped(tmp_path, monkeypatch, how):
    """Recognised as OTLP from the start of its first line, which recognising does not read to
    its end; the file is read as lines."""
    monkeypatch.setattr(read, "SNIFF_BYTES", 256)
    monkeypatch.setattr(read, "READ_PIECE_BYTES", 256)
    lines = [OTLP_LINES[1], OTLP_LINES[0], OTLP_LINES[3]]
    name = source_of(tmp_path, monkeypatch, ("\n".join(lines) + "\n").encode(), how)
    report = agentcost.report(name, max_line_bytes=LIMIT)
    # 100 and 300 input tokens: $0.00035 + $0.00085
    assert report.summary.total_cost_usd == pytest.approx(0.0012, abs=1e-12)
    assert_skipped_as_too_long(report.accounting, [(name, 1)], read=3, used=2)


def test_a_span_list_line_over_the_limit_is_skipped(tmp_path):
    def span(number: int, tokens: int, padding: int = 0) -> str:
        return json.dumps({"name": "chat", "context": {"trace_id": TRACE,
                                                       "span_id": f"{number:016x}"},
                           "attributes": {"gen_ai.operation.name": "chat",
                                          "gen_ai.request.model": "gpt-4o",
                                          "gen_ai.usage.input_tokens": tokens,
                                          "gen_ai.usage.output_tokens": 0,
                                          "padding": "x" * padding}})

    path = tmp_path / "phoenix.jsonl"
    path.write_text("\n".join([span(1, 1000), span(2, 5000, padding=2000), span(3, 2000)]))
    report = agentcost.report(path, max_line_bytes=LIMIT)
    # 1,000 + 2,000 input tokens at $2.50 a million: $0.0075
    assert report.summary.total_cost_usd == pytest.approx(0.0075, abs=1e-12)
    assert_skipped_as_too_long(report.accounting, [(str(path), 2)], read=3, used=2)


def jaeger_document(spans: int) -> dict[str, object]:
    tags = [{"key": "gen_ai.operation.name", "value": "chat"},
            {"key": "gen_ai.request.model", "value": "gpt-4o"},
            {"key": "gen_ai.usage.input_tokens", "value": 1000},
            {"key": "gen_ai.usage.output_tokens", "value": 0}]
    return {"data": [{"traceID": "ab" * 16, "processes": {"p1": {"tags": []}}, "spans": [
        {"traceID": "ab" * 16, "spanID": f"{n:016x}", "operationName": "chat",
         "references": [], "startTime": 1_795_000_000_000_000 + n, "duration": 1_000_000,
         "tags": tags, "processID": "p1"} for n in range(1, spans + 1)]}]}


@pytest.mark.parametrize("layout", ["pretty-printed", "one line"])
def test_a_document_over_the_limit_is_refused_naming_the_file_and_the_limit(
        tmp_path, monkeypatch, layout):
    """A Jaeger document of 5 spans, 2 to 4 KB: refused at a 1 KiB limit, whether it is read
    whole after its head or recognised from the start of a first line that is over the limit;
    read at an 8 KiB limit (5 x 1,000 tokens at $2.50 a million: $0.0125)."""
    monkeypatch.setattr(read, "SNIFF_BYTES", 256)
    monkeypatch.setattr(read, "READ_PIECE_BYTES", 256)
    path = tmp_path / "jaeger.json"
    text = json.dumps(jaeger_document(5), indent=2 if layout == "pretty-printed" else None)
    path.write_text(text)
    assert 2 * LIMIT < len(text) < 8 * LIMIT
    with pytest.raises(InputError) as refused:
        read_steps([str(path)], max_line_bytes=LIMIT)
    assert str(refused.value).startswith(
        f"{path}: JSON document larger than the 1 KiB limit on a line or document read whole")
    assert "--max-line-size" in str(refused.value)
    report = agentcost.report(path, max_line_bytes=8 * LIMIT)
    assert report.summary.total_cost_usd == pytest.approx(0.0125, abs=1e-12)


def test_a_document_cut_short_is_refused_naming_the_cut(tmp_path):
    """A gzip Jaeger document cut in half: no part of a document is read on its own."""
    path = tmp_path / "jaeger.json.gz"
    packed = gzip.compress(json.dumps(jaeger_document(200), indent=2).encode())
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=re.escape(f"{path}: input cut off (") + ".*"
                       + re.escape("): the whole document is needed")):
        read_steps([str(path)])


def test_a_document_of_no_known_format_over_the_limit_is_refused(tmp_path, monkeypatch):
    """Pretty-printed steps longer than the head: their whole structure is needed to tell
    what they are."""
    monkeypatch.setattr(read, "SNIFF_BYTES", 256)
    path = tmp_path / "steps.json"
    path.write_text(json.dumps([json.loads(step(f"t{n}", 10, 10)) for n in range(40)],
                               indent=2))
    with pytest.raises(InputError, match="JSON document larger than the 1 KiB limit"):
        read_steps([str(path)], max_line_bytes=LIMIT)


@pytest.mark.parametrize(("content", "what"), [
    (b"\0" * 100_000, "binary data (NUL bytes in its first 64 KiB)"),
    (random.Random(3).randbytes(100_000).replace(b"\0", b"\1"),
     "binary data (bytes that are not UTF-8 text in its first 64 KiB)"),
    (gzip.compress(b"\0" * 300_000), "binary data (NUL bytes in its first 64 KiB)"),
    (("\ufeff" + step("a", 1, 1) + "\n").encode("utf-16-le"), "UTF-16 text"),
])
def test_input_that_is_not_text_is_refused_when_it_is_the_only_input(tmp_path, content, what):
    path = tmp_path / "input.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match="^" + re.escape(f"{path}: not a trace: {what}")):
        read_steps([str(path)])


def test_binary_input_among_others_is_skipped_as_one_line_and_the_others_read(tmp_path):
    zeros = tmp_path / "a.bin.jsonl"
    zeros.write_bytes(b"\0" * 100_000)
    good = tmp_path / "b.jsonl"
    good.write_text(step("a", 1000, 100) + "\n")
    report = agentcost.report([zeros, good])
    assert report.summary.total_cost_usd == pytest.approx(0.0035, abs=1e-12)
    accounting = report.accounting
    reason = "not a trace: binary data (NUL bytes in its first 64 KiB); the file is left unread"
    assert list(accounting.skipped) == [reason]
    assert accounting.skipped[reason].examples == [(str(zeros), 1)]
    assert (accounting.lines_read, accounting.lines_used) == (2, 1)
    assert accounting.balanced()


def test_a_text_file_with_broken_lines_is_still_text(tmp_path):
    """NUL bytes and Latin-1 in some lines of a log: those lines are skipped, not the file."""
    path = tmp_path / "steps.jsonl"
    path.write_bytes(b"\n".join([step("a", 1000, 100).encode(), b"\0" * 5000,
                                 b'{"task_id": "caf\xe9"}', step("c", 0, 1000).encode()]))
    report = agentcost.report(path)
    assert task_costs(report) == {"a": 0.0035, "c": 0.01}
    assert report.accounting.lines_skipped == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_an_endless_stream_of_nul_bytes_ends_with_a_message(run_cli, tmp_path):
    """A FIFO fed NUL bytes for as long as it is read (as /dev/zero is; up to 64 MiB, so that
    a failure stays bounded): the command reads its first bytes, says what it is, and exits 1
    having read a few hundred KiB."""
    pipe = tmp_path / "zeros.pipe"
    os.mkfifo(pipe)
    written = []

    def write_zeros() -> None:
        try:
            with pipe.open("wb") as fifo:
                while sum(written) < 64 * 1024 * 1024:
                    fifo.write(b"\0" * 65536)
                    written.append(65536)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write_zeros, daemon=True)
    writer.start()
    result = run_cli("report", str(pipe))
    writer.join(timeout=30)
    assert result.exit_code == 1
    assert f"{pipe}: not a trace: binary data (NUL bytes in its first 64 KiB)" in result.stderr
    assert not writer.is_alive()
    assert sum(written) < 4 * 1024 * 1024


def test_the_command_line_takes_the_limit_in_binary_units(run_cli, tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text("\n".join(NATIVE_LINES) + "\n")
    result = run_cli("report", str(path), "--max-line-size", "1K", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["summary"]["cost_usd"]["total"] == pytest.approx(0.0185)
    assert f"1 x {TOO_LONG}: {path}:2" in result.stderr
    wide = run_cli("report", str(path), "--max-line-size", "4k", "--format", "json")
    assert json.loads(wide.stdout)["summary"]["cost_usd"]["total"] == pytest.approx(0.5185)
    for bad in ("12", "64X", "-1M", "M"):
        refused = run_cli("check", str(path), "--max-total", "1", "--max-line-size", bad)
        assert refused.exit_code == 2
        assert "--max-line-size" in refused.stderr


@pytest.mark.parametrize("limit", [0, 1023, True, 2.5, "64M"])
def test_the_library_refuses_a_limit_that_is_not_a_size(tmp_path, limit):
    path = tmp_path / "steps.jsonl"
    path.write_text(step("a", 1, 1) + "\n")
    with pytest.raises(UsageError, match="max_line_bytes"):
        read_steps([str(path)], max_line_bytes=limit)


def reference_lines(content: bytes, limit: int) -> list[bytes | None]:
    """The lines of `content`, None for each over the limit."""
    lines = content.split(b"\n")
    if content.endswith(b"\n") or not content:
        lines.pop()
    return [None if len(line) > limit else line for line in lines]


def chunk_lines(chunks: list[sources.Chunk], limit: int, *, streamed: bool
                ) -> list[bytes | None]:
    """The lines chunks give, None for a line that stands alone as too long, or (a plain
    file's chunk) that the reader of a chunk finds too long. A streamed chunk holds none, and
    numbers its lines through the source."""
    lines: list[bytes | None] = []
    for chunk in chunks:
        if streamed:
            assert chunk.first_line == len(lines) + 1
        if chunk.too_long:
            assert chunk.line_count == 1
            lines.append(None)
            continue
        data = chunk.load()
        found = data.split(b"\n")
        if not chunk.ends_unterminated:
            assert found.pop() == b""
        assert not streamed or all(len(line) <= limit for line in found)
        lines.extend(None if len(line) > limit else line for line in found)
    return lines


@given(st.lists(st.tuples(st.integers(0, 80), st.sampled_from(b"ab{")), max_size=25),
       st.booleans(), st.integers(1, 64), st.integers(8, 40))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_chunks_skip_the_lines_over_the_limit_and_keep_every_other(tmp_path, shape, final_newline,
                                                                   chunk_bytes, limit):
    """Streamed or cut into references, every line within the limit comes out whole and in
    order, each one over it as one line; a plain file's chunk is never longer than the chunk
    size and the limit."""
    content = b"\n".join(bytes([byte]) * length for length, byte in shape)
    content += b"\n" if final_newline and shape else b""
    path = tmp_path / "lines.jsonl"
    path.write_bytes(content)
    expected = reference_lines(content, limit)
    streamed = list(sources.read_chunks(io.BytesIO(content), chunk_bytes, limit))
    assert chunk_lines(streamed, limit, streamed=True) == expected
    referenced = list(sources.plain_chunks(path, chunk_bytes, limit))
    assert chunk_lines(referenced, limit, streamed=False) == expected
    assert all(chunk.size <= chunk_bytes + limit for chunk in referenced if not chunk.too_long)


class Repeated:
    """`size` bytes of `byte` then `tail`, made as they are read: the test holds none of it."""

    def __init__(self, byte: bytes, size: int, tail: bytes) -> None:
        self._byte, self._left, self._tail = byte, size, tail

    def read(self, size: int) -> bytes:
        if self._left:
            wanted = min(size, self._left)
            self._left -= wanted
            return self._byte * wanted
        data, self._tail = self._tail[:size], self._tail[size:]
        return data


@pytest.mark.parametrize("compressed", [False, True])
def test_a_line_far_over_the_limit_is_read_past_in_bounded_memory(monkeypatch, compressed):
    """A good line, 16 MiB without a newline (a gzip bomb when compressed), a good line: read
    in 64 KiB chunks at a 1 KiB limit, the most held at once is a few chunks, not the line."""
    import tracemalloc

    monkeypatch.setattr(sources, "READ_PIECE_BYTES", 65536)
    good = step("a", 1000, 100).encode() + b"\n"
    line = 16 * 1024 * 1024
    if compressed:  # 16 MiB of zeros compress to about 16 KiB, made before measuring
        packed = gzip.compress(good + b"0" * line + b"\n" + good)
        source: object = gzip.GzipFile(fileobj=io.BytesIO(packed))
    else:
        source = sources.PrependedStream(good, Repeated(b"0", line, b"\n" + good))
    tracemalloc.start()
    try:
        chunks = [(chunk.first_line, chunk.line_count, chunk.too_long)
                  for chunk in sources.read_chunks(source, 65536, LIMIT)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert chunks == [(1, 1, False), (2, 1, True), (3, 1, False)]
    assert peak < 1024 * 1024
