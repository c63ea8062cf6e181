"""The two ways a file is read (whole, by polars, when every line is clean; in chunks, with
bisection, otherwise) must give the same steps; and totals must not depend on line order or on
how the log is split into files."""

from __future__ import annotations

import gzip
import json
import os
import random
import threading
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from agentcost.ingest import sources
from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table

MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "not-a-model"]


def make_records(seed: int, count: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    records = []
    for i in range(count):
        record: dict[str, object] = {
            "task_id": f"t{rng.randint(0, count // 4)}",
            "model": rng.choice(MODELS),
            "input_tokens": rng.randint(0, 50_000),
            "output_tokens": rng.randint(0, 2_000),
            "timestamp": f"2026-11-27T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
                         f"{rng.randint(0, 59):02d}.{rng.randint(0, 999_999):06d}Z",
            "duration_s": round(rng.uniform(0, 5), 3),
        }
        if rng.random() < 0.5:
            record["cache_read_tokens"] = rng.randint(0, int(str(record["input_tokens"])))
        if rng.random() < 0.4:
            record["tool_name"] = rng.choice(["web_search", "read_page", "own_tool"])
        record["step_number"] = i + 1
        records.append(record)
    return records


def totals(paths: list[Path]) -> tuple[int, float, float, int]:
    table = load_price_table()
    steps = read_steps([str(p) for p in paths]).steps
    priced = price_steps(steps.lazy(), table).collect()
    return (
        priced.height,
        priced["llm_cost_usd"].sum(),
        priced["tool_cost_usd"].sum(),
        int(priced["input_tokens"].sum()),
    )


def test_whole_file_and_chunked_paths_agree(tmp_path, monkeypatch):
    lines = [json.dumps(r) for r in make_records(5, 3000)]
    plain = tmp_path / "a.jsonl"
    plain.write_text("\n".join(lines) + "\n")
    zipped = tmp_path / "a.jsonl.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    monkeypatch.setattr(sources, "CHUNK_BYTES", 50_000)  # many chunks
    whole = read_steps([str(plain)]).steps.drop("source_file")
    chunked = read_steps([str(zipped)]).steps.drop("source_file")
    assert_frame_equal(whole, chunked)


def test_bisection_across_many_chunks_keeps_every_good_line(tmp_path, monkeypatch):
    records = make_records(9, 2000)
    lines = [json.dumps(r) for r in records]
    for position in (0, 17, 999, 1000, 1999):
        lines[position] = "{broken"
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(sources, "CHUNK_BYTES", 30_000)
    ingested = read_steps([str(path)])
    assert ingested.accounting.lines_skipped == 5
    assert ingested.steps.height == 1995
    assert [line for _, line in ingested.accounting.skipped["not valid JSON"].examples] == [
        1, 18, 1000, 1001, 2000]
    expected = sum(int(str(r["input_tokens"])) for i, r in enumerate(records)
                   if i not in (0, 17, 999, 1000, 1999))
    steps = ingested.steps
    uncached = steps["input_tokens"].sum() + steps["cache_read_tokens"].sum()
    assert uncached == expected


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), cut=st.floats(0.05, 0.95))
def test_order_and_splitting_do_not_change_totals(tmp_path_factory, seed, cut):
    directory = tmp_path_factory.mktemp("prop")
    lines = [json.dumps(r) for r in make_records(seed, 200)]
    one = directory / "one.jsonl"
    one.write_text("\n".join(lines) + "\n")
    shuffled = lines[:]
    random.Random(seed).shuffle(shuffled)
    split_at = int(len(shuffled) * cut)
    first, second = directory / "p1.jsonl", directory / "p2.jsonl"
    first.write_text("\n".join(shuffled[:split_at]) + "\n")
    second.write_text("\n".join(shuffled[split_at:]) + "\n")
    whole = totals([one])
    parts = totals([first, second])
    assert whole[0] == parts[0] and whole[3] == parts[3]
    assert abs(whole[1] - parts[1]) < 1e-9 and abs(whole[2] - parts[2]) < 1e-9
    assert pl.Series([whole[1]]).is_finite().all()


@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
       st.booleans(), st.booleans(), st.integers(min_value=1, max_value=64))
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_chunks_know_where_they_are_in_the_file(tmp_path, lines, bom, final_newline, size):
    """A plain file is cut into references that each process reads for itself: together they
    are the file's bytes (byte order mark left out), every cut falls after a newline, and only
    the last chunk can end without one."""
    body = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path = tmp_path / "log.jsonl"
    content = (sources.UTF8_BOM if bom else b"") + body
    path.write_bytes(content)
    chunks = list(sources.plain_chunks(path, size))
    loaded = [chunk.load() for chunk in chunks]
    assert b"".join(loaded) == content.removeprefix(sources.UTF8_BOM)
    assert all(data.endswith(b"\n") for data in loaded[:-1])
    assert [chunk.ends_unterminated for chunk in chunks] == [
        index == len(chunks) - 1 and not loaded[-1].endswith(b"\n")
        for index in range(len(chunks))]
    with path.open("rb") as handle:  # the same lines as a stream read gives
        streamed = list(sources.read_chunks(handle, size))
    assert b"".join(chunk.data for chunk in streamed) == b"".join(loaded)


def test_a_file_named_twice_is_read_once(tmp_path, monkeypatch):
    """A glob and a name, a directory and a file in it, a symlink: each names the same file,
    and reading it again would count its steps twice."""
    log = tmp_path / "logs" / "day.jsonl"
    log.parent.mkdir()
    log.write_text("".join(json.dumps(r) + "\n" for r in make_records(3, 40)))
    (tmp_path / "link.jsonl").symlink_to(log)
    monkeypatch.chdir(tmp_path)
    once = read_steps(["logs/day.jsonl"])
    named_four_ways = read_steps(["logs/day.jsonl", "logs", "logs/*.jsonl", "link.jsonl"])
    assert named_four_ways.steps.height == once.steps.height == 40
    assert named_four_ways.accounting.lines_read == 40
    # the directory and the glob both list it as logs/day.jsonl
    assert {note: tally.count for note, tally in named_four_ways.accounting.notes.items()} == {
        "logs/day.jsonl: named more than once, read once": 2,
        "link.jsonl: named more than once, read once": 1,
    }


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("compress", [False, True])
def test_a_named_pipe_is_read_as_a_stream(tmp_path, compress):
    """`agentcost report <(zcat day.jsonl.gz) other.jsonl`: the shell passes a pipe's path,
    which can be read once, in order, and has no size: it is read as stdin is, and its lines are
    numbered and accounted for like a file's."""
    records = make_records(5, 60)
    text = "".join(json.dumps(r) + "\n" for r in records) + "not json\n"
    data = gzip.compress(text.encode()) if compress else text.encode()
    pipe = tmp_path / "day.pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_bytes, args=(data,), daemon=True)
    writer.start()
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps(r) + "\n" for r in make_records(6, 10)))
    ingested = read_steps([str(pipe), str(other)])
    writer.join(timeout=30)
    assert ingested.steps.height == 70
    assert ingested.accounting.lines_read == 71
    assert {r: (t.count, t.examples) for r, t in ingested.accounting.skipped.items()} == {
        "not valid JSON": (1, [(str(pipe), 61)])}
