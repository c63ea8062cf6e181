"""The steps store: `agentcost ingest` keeps canonical steps by day, once each; `report`,
`simulate` and `check` read them with --store and give what the logs themselves give.

Prices in these tests (per million tokens): model m, input $1, output $2. So the log below
costs: t1 step 1, 100,000 in + 50,000 out = $0.10 + $0.10 = $0.20; t1 step 2, 200,000 in =
$0.20; t2, 250,000 out = $0.50. Total $0.90."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from agentcost import api
from tests.conftest import SAMPLES

PRICES = "models:\n  m:\n    input: 1\n    output: 2\n"
STEPS = [
    {"task_id": "t1", "step_number": 1, "timestamp": "2026-11-27T10:00:00Z", "model": "m",
     "input_tokens": 100_000, "output_tokens": 50_000},
    {"task_id": "t1", "step_number": 2, "timestamp": "2026-11-27T10:01:00Z", "model": "m",
     "input_tokens": 200_000, "output_tokens": 0},
    {"task_id": "t2", "step_number": 1, "timestamp": "2026-11-28T09:00:00Z", "model": "m",
     "input_tokens": 0, "output_tokens": 250_000},
]


def line(record: dict[str, object]) -> str:
    return json.dumps(record) + "\n"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "agent.jsonl"
    path.write_text("".join(line(r) for r in STEPS), encoding="utf-8")
    return path


@pytest.fixture
def prices(write_prices) -> Path:
    return write_prices(PRICES)


def report_json(run_cli, *args: str) -> dict[str, object]:
    result = run_cli("report", *args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def stored_rows(store: Path) -> pl.DataFrame:
    manifest = json.loads((store / "manifest.json").read_text())
    return pl.concat([pl.read_parquet(store / part["file"]) for part in manifest["parts"]]
                     ).sort("store_source", "store_seq")


def test_ingesting_twice_stores_each_step_once(run_cli, log, prices, tmp_path):
    store = tmp_path / "store"
    first = run_cli("ingest", str(log), "--store", str(store))
    assert first.exit_code == 0, first.stderr
    assert first.stdout == (f"stored 3 new steps (2 days, 2026-11-27 to 2026-11-28) from 1 "
                            f"source read; {store} holds 3 steps\n")
    again = run_cli("ingest", str(log), "--store", str(store))
    assert again.stdout == f"1 source unchanged since stored; {store} holds 3 steps\n"
    assert sorted(p.parent.name for p in (store / "steps").rglob("*.parquet")) == [
        "day=2026-11-27", "day=2026-11-28"]
    assert stored_rows(store).height == 3
    document = report_json(run_cli, "--store", str(store), "--prices", str(prices))
    assert document["summary"]["cost_usd"]["total"] == 0.9  # 0.20 + 0.20 + 0.50
    assert document["lines"]["read"] == 3  # not 6: the second ingest read nothing


def test_an_ingest_of_only_bad_lines_is_no_usable_input(run_cli, tmp_path):
    """A log whose two lines are both bad: the lines are named, the source is recorded as
    read, and the ingest exits 1 as a report of the log does; again, unchanged, it reads
    nothing and exits 0."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "a", "model": \nnot json\n', encoding="utf-8")
    store = tmp_path / "store"
    first = run_cli("ingest", str(bad), "--store", str(store))
    assert first.exit_code == 1
    assert f"{bad}:1, {bad}:2" in first.stderr
    assert "no usable line in 2 lines read" in first.stderr
    assert first.stdout == f"stored 0 new steps from 1 source read; {store} holds 0 steps\n"
    again = run_cli("ingest", str(bad), "--store", str(store))
    assert (again.exit_code, again.stdout) == (
        0, f"1 source unchanged since stored; {store} holds 0 steps\n")


def test_the_store_keeps_tokens_so_a_new_table_reprices(run_cli, log, prices, write_prices,
                                                         tmp_path):
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    assert "cost" not in " ".join(c for c in stored_rows(store).columns
                                  if not c.startswith("reported"))
    dearer = tmp_path / "dearer.yaml"
    dearer.write_text("models:\n  m:\n    input: 3\n    output: 4\n", encoding="utf-8")
    # 100,000 x $3 + 50,000 x $4 = $0.50; 200,000 x $3 = $0.60; 250,000 x $4 = $1.00
    document = report_json(run_cli, "--store", str(store), "--prices", str(dearer))
    assert document["summary"]["cost_usd"]["total"] == 2.1
    assert [row["total_cost_usd"] for row in document["tasks"]["rows"]] == [1.1, 1.0]


def test_a_deleted_log_is_still_reported_from_the_store(run_cli, log, prices, tmp_path):
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    log.unlink()
    document = report_json(run_cli, "--store", str(store), "--prices", str(prices))
    assert document["summary"]["cost_usd"]["total"] == 0.9
    assert document["inputs"]["files"] == [str(log)]


def test_a_growing_log_adds_only_its_new_lines(run_cli, log, prices, tmp_path):
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    fourth = {"task_id": "t2", "step_number": 2, "timestamp": "2026-11-28T09:05:00Z",
              "model": "m", "input_tokens": 300_000, "output_tokens": 0}  # $0.30
    fifth = {"task_id": "t3", "step_number": 1, "timestamp": "2026-11-28T11:00:00Z",
             "model": "m", "input_tokens": 0, "output_tokens": 100_000}  # $0.20
    half = line(fifth)[:20]
    with log.open("a", encoding="utf-8") as handle:  # one line and the start of the next
        handle.write(line(fourth) + half)
    grown = api.store_steps([str(log)], store)
    assert (grown.steps_stored, grown.sources[0].lines_read) == (1, 1)  # the half line waits
    with log.open("a", encoding="utf-8") as handle:
        handle.write(line(fifth)[20:])
    finished = api.store_steps([str(log)], store)
    assert (finished.steps_stored, finished.sources[0].lines_read) == (1, 1)
    rows = stored_rows(store)
    assert rows["source_line"].to_list() == [1, 2, 3, 4, 5]
    assert rows["task_id"].to_list() == ["t1", "t1", "t2", "t2", "t3"]
    from_store = run_cli("report", "--store", str(store), "--prices", str(prices), "-f", "json")
    from_log = run_cli("report", str(log), "--prices", str(prices), "-f", "json")
    assert from_store.stdout == from_log.stdout
    assert json.loads(from_store.stdout)["summary"]["cost_usd"]["total"] == 1.4  # 0.9+0.3+0.2


def test_a_copy_of_a_log_is_stored_once_and_said_to_repeat(run_cli, log, prices, tmp_path):
    store = tmp_path / "store"
    copy = tmp_path / "copy.jsonl"
    shutil.copy(log, copy)
    api.store_steps([str(log)], store)
    again = api.store_steps([str(copy)], store)
    assert (again.steps_stored, again.sources[0].steps_held) == (0, 3)
    from_store = report_json(run_cli, "--store", str(store), "--prices", str(prices))
    from_logs = report_json(run_cli, str(log), str(copy), "--prices", str(prices))
    assert from_store == from_logs
    assert from_store["summary"]["cost_usd"]["total"] == 0.9
    assert from_store["lines"]["skipped"] == 3  # the copy's three lines repeat the log's


def test_same_json_as_the_logs_on_the_sample_traces(run_cli, tmp_path):
    store = tmp_path / "store"
    inputs = [str(SAMPLES / "research_agent.jsonl"), str(SAMPLES / "agents.jsonl")]
    assert run_cli("ingest", *inputs, "--store", str(store)).exit_code == 0
    from_store = run_cli("report", "--store", str(store), "-f", "json", "--by", "model")
    from_logs = run_cli("report", *inputs, "-f", "json", "--by", "model")
    assert from_store.exit_code == 0
    assert from_store.stdout == from_logs.stdout


def test_a_store_of_the_first_format_is_read_and_a_newer_one_refused(run_cli, tmp_path):
    """Format 1 listed no columns without a value: its parts are read whole, to the same
    report. A format this version does not know is refused, naming it."""
    store = tmp_path / "store"
    inputs = [str(SAMPLES / "research_agent.jsonl"), str(SAMPLES / "agents.jsonl")]
    assert run_cli("ingest", *inputs, "--store", str(store)).exit_code == 0
    manifest = store / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["format"] == 2 and any(part["null_columns"] for part in data["parts"])
    for part in data["parts"]:
        del part["null_columns"]
    manifest.write_text(json.dumps({**data, "format": 1}), encoding="utf-8")
    from_store = run_cli("report", "--store", str(store), "-f", "json")
    assert from_store.exit_code == 0
    assert from_store.stdout == run_cli("report", *inputs, "-f", "json").stdout
    manifest.write_text(json.dumps({**data, "format": 3}), encoding="utf-8")
    newer = run_cli("report", "--store", str(store))
    assert newer.exit_code == 1 and "store format 3" in newer.stderr


def unnumbered_days(tmp_path: Path) -> Path:
    """Three days; task a runs across both midnights, steps without numbers (the store must
    number them among all of a's steps, also those on days it does not read)."""
    records = [
        {"task_id": "a", "timestamp": "2026-11-27T23:00:00Z", "model": "m",
         "input_tokens": 1_000_000},  # $1.00, day 1
        {"task_id": "b", "timestamp": "2026-11-27T12:00:00Z", "model": "m"},  # day 1
        {"task_id": "a", "timestamp": "2026-11-28T01:00:00Z", "model": "m",
         "output_tokens": 1_000_000},  # $2.00, day 2: a's step 2
        {"task_id": "c", "timestamp": "2026-11-28T05:00:00Z", "model": "m",
         "input_tokens": 500_000},  # $0.50, day 2
        {"task_id": "a", "timestamp": "2026-11-29T00:30:00Z", "model": "m",
         "input_tokens": 100_000},  # day 3
        {"task_id": "d", "model": "m", "input_tokens": 7},  # no time
    ]
    path = tmp_path / "days.jsonl"
    path.write_text("".join(line(r) for r in records), encoding="utf-8")
    return path


def test_a_window_reads_only_its_days_and_says_what_it_left_out(run_cli, prices, tmp_path):
    log = unnumbered_days(tmp_path)
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    for later in ("day=2026-11-29", "day=untimed"):
        shutil.rmtree(store / "steps" / later)  # not read: the manifest counts their steps
    window = ("--since", "2026-11-28", "--until", "2026-11-29", "--prices", str(prices))
    from_store = run_cli("report", "--store", str(store), *window, "-f", "json")
    from_log = run_cli("report", str(log), *window, "-f", "json")
    assert from_store.exit_code == 0, from_store.stderr
    assert from_store.stdout == from_log.stdout
    document = json.loads(from_store.stdout)
    assert document["summary"]["cost_usd"]["total"] == 2.5  # a's $2.00 and c's $0.50
    assert document["summary"]["window_applied"]["steps_outside"] == 3  # 2 on day 1, 1 on 3
    assert document["summary"]["window_applied"]["steps_untimed"] == 1
    # a's step on day 2 is its second: numbered among its steps of every day
    positions = {row["position"]: row["steps"] for row in document["dashboard"][
        "by_step_position"]}
    assert positions == {1: 1, 2: 1}  # c's first step, a's second


def test_check_and_simulate_read_the_store(run_cli, log, prices, tmp_path):
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    checked = run_cli("check", "--store", str(store), "--prices", str(prices),
                      "--max-total", "0.5")
    assert checked.exit_code == 4
    assert checked.stdout == "agentcost check: total cost $0.90 is above $0.50\n"
    simulated = [run_cli("simulate", *where, "--prices", str(prices), "--budget", "0.15",
                         "-f", "json") for where in (("--store", str(store)), (str(log),))]
    assert simulated[0].exit_code == 0, simulated[0].stderr
    assert simulated[0].stdout == simulated[1].stdout
    # a budget of $0.15 stops t1 at its first step ($0.20 reaches it): t1 $0.20, t2 $0.50
    simulation = json.loads(simulated[0].stdout)["simulations"][0]
    assert (simulation["baseline"]["total_usd"], simulation["result"]["total_usd"],
            simulation["result"]["steps"]) == (0.9, 0.7, 2)


def test_inputs_beside_the_store_add_only_what_it_does_not_hold(run_cli, log, prices,
                                                                  tmp_path):
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    today = tmp_path / "today.jsonl"
    today.write_text(line({"task_id": "t9", "timestamp": "2026-11-29T08:00:00Z", "model": "m",
                           "input_tokens": 400_000}), encoding="utf-8")  # $0.40
    document = report_json(run_cli, "--store", str(store), str(log), str(today),
                           "--prices", str(prices))
    assert document["summary"]["cost_usd"]["total"] == 1.3  # 0.90 stored + 0.40 new
    assert document["summary"]["tasks"] == 3
    assert stored_rows(store).height == 3  # reading beside the store stores nothing


def test_a_directory_that_is_no_store_is_refused(run_cli, log, tmp_path):
    result = run_cli("report", "--store", str(tmp_path))
    assert result.exit_code == 1
    assert "not a steps store (no manifest.json)" in result.stderr
    assert "agentcost ingest TRACES --store" in result.stderr
    refused = run_cli("ingest", str(log), "--store", str(tmp_path))  # holds agent.jsonl
    assert refused.exit_code == 1
    assert "not empty" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.jsonl"]  # nothing written
    missing = run_cli("ingest", str(tmp_path / "nowhere.jsonl"), "--store", str(tmp_path / "new"))
    assert missing.exit_code == 1
    assert not (tmp_path / "new").exists()


def otlp_line(task: int, model_tokens: tuple[int, int]) -> str:
    """One OTLP/JSON line: task `task`'s trace, one chat span of model m."""
    from tests.test_otlp_file_exporter import span, traces_data

    trace = f"{task:032x}"
    start = 1_795_000_000_000_000_000 + task * 60_000_000_000  # 2026-11-18, a minute apart
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                  "gen_ai.usage.input_tokens": model_tokens[0],
                  "gen_ai.usage.output_tokens": model_tokens[1]}
    return json.dumps(traces_data([span(trace, f"{task:016x}", None, "chat m", attributes,
                                        start, encode_ids=False)])) + "\n"


def test_a_grown_span_log_is_read_again_and_stores_only_its_new_steps(run_cli, prices,
                                                                       tmp_path):
    """Span formats are read whole (a span's usage may come from lines apart): the steps
    already held are not stored again, and the account is the whole file's, once."""
    log = tmp_path / "otlp.jsonl"
    log.write_text(otlp_line(1, (100_000, 0)) + otlp_line(2, (0, 100_000)), encoding="utf-8")
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(otlp_line(3, (300_000, 50_000)))
    grown = api.store_steps([str(log)], store)
    assert (grown.steps_stored, grown.sources[0].steps_held) == (1, 2)
    from_store = report_json(run_cli, "--store", str(store), "--prices", str(prices))
    assert from_store == report_json(run_cli, str(log), "--prices", str(prices))
    # $0.10 + $0.20 + ($0.30 + $0.10)
    assert from_store["summary"]["cost_usd"]["total"] == 0.7
    assert (from_store["lines"]["read"], from_store["spans"]["read"]) == (3, 3)


def test_stdin_is_stored_and_a_second_reading_of_it_adds_nothing(run_cli, log, prices,
                                                                  tmp_path):
    store = tmp_path / "store"
    text = log.read_text(encoding="utf-8")
    first = run_cli("ingest", "-", "--store", str(store), input=text)
    assert first.exit_code == 0, first.stderr
    second = run_cli("ingest", "-", "--store", str(store), input=text)
    assert second.stdout == (f"stored 0 new steps from 1 source read, 3 already held; {store} "
                             "holds 3 steps\n")
    document = report_json(run_cli, "--store", str(store), "--prices", str(prices))
    assert document["summary"]["cost_usd"]["total"] == 0.9
    # read twice, as `report - -` cannot: the second reading's lines repeat the first's
    assert (document["lines"]["read"], document["lines"]["used"],
            document["lines"]["skipped"]) == (6, 3, 3)


def claude_line(kind: str, uuid: str, second: int, **fields: object) -> str:
    record: dict[str, object] = {"type": kind, "sessionId": "s1", "uuid": uuid,
                                 "timestamp": f"2026-12-01T10:00:0{second}Z", **fields}
    return json.dumps(record) + "\n"


def test_a_response_that_changed_since_stored_is_said_not_silently_kept(run_cli, tmp_path):
    """A Claude Code response stored while it was still being written (its first line's
    partial output) and completed later: the store keeps what it stored, and says so."""
    prompt = claude_line("user", "u1", 0, message={"role": "user", "content": "hello"})

    def response(output: int, second: int, uuid: str) -> str:
        return claude_line("assistant", uuid, second, requestId="req_1", message={
            "id": "msg_1", "model": "claude-sonnet-4-5", "role": "assistant",
            "content": [{"type": "text", "text": "hi"}],
            "usage": {"input_tokens": 10, "output_tokens": output}})

    session = tmp_path / "s1.jsonl"
    session.write_text(prompt + response(1, 1, "u2"), encoding="utf-8")
    store = tmp_path / "store"
    assert run_cli("ingest", str(session), "--store", str(store)).exit_code == 0
    with session.open("a", encoding="utf-8") as grown:  # the response's next line: 50 out
        grown.write(response(50, 2, "u3"))
    again = run_cli("ingest", str(session), "--store", str(store))
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("stored 0 new steps from 1 source read, 1 already held")
    assert again.stderr == (f"agentcost: 1 step (first: {session}:3) that changed since this "
                            "log was stored (a response still being written then): the stored "
                            "version is kept, so its figures may fall short of the log's; a "
                            "new store takes the log as it is now\n")
    document = report_json(run_cli, "--store", str(store))
    assert document["summary"]["tokens"]["output"] == 1  # what was stored, and said:
    notes = json.dumps(document["lines"])
    assert "changed since this log was stored" in notes, notes
    # read from the log itself, the response counts its final 50
    assert report_json(run_cli, str(session))["summary"]["tokens"]["output"] == 50


def test_steps_stored_on_days_out_of_reading_order_are_read_back_in_it(run_cli, prices,
                                                                        tmp_path):
    """Read in this order: a.jsonl's steps of the 27th (priced) and the 28th (model not in
    the table), then b.jsonl's of the 27th (not in the table either). Stored by day, the
    27th's part holds a's and b's steps and comes back first: put back in reading order,
    the unpriced model's first file is a.jsonl, as reading the logs says."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(line({"task_id": "t1", "step_number": 1, "model": "m",
                           "timestamp": "2026-11-27T10:00:00Z", "input_tokens": 10})
                     + line({"task_id": "t1", "step_number": 2, "model": "unknown",
                             "timestamp": "2026-11-28T10:00:00Z", "input_tokens": 10}),
                     encoding="utf-8")
    second.write_text(line({"task_id": "t2", "step_number": 1, "model": "unknown",
                            "timestamp": "2026-11-27T11:00:00Z", "input_tokens": 10}),
                      encoding="utf-8")
    store = tmp_path / "store"
    api.store_steps([str(first), str(second)], store)
    from_store = run_cli("report", "--store", str(store), "--prices", str(prices), "-f", "json")
    from_logs = run_cli("report", str(first), str(second), "--prices", str(prices), "-f", "json")
    assert from_store.exit_code == 0, from_store.stderr
    assert from_store.stdout == from_logs.stdout
    unpriced = json.loads(from_store.stdout)["unpriced"]["models"]
    assert [(row["model"], row["steps"], row["source_file"]) for row in unpriced] == [
        ("unknown", 2, str(first))]


@pytest.mark.parametrize("max_runs", [4096, 1])
def test_reading_order_from_ordered_runs_or_sorted(monkeypatch, max_runs):
    """Parts come back as ordered runs (here 5, 6, 7 | 0, 1 | 2, 3, 4 of source 0, then
    source 1's 0): joined as runs, or, past MAX_RUNS, sorted, the same order."""
    from agentcost.store import read
    from agentcost.store.parts import SOURCE_ORDER, STEP_ORDER

    monkeypatch.setattr(read, "MAX_RUNS", max_runs)
    stored = pl.DataFrame({SOURCE_ORDER: [0, 0, 0, 1, 0, 0, 0, 0, 0],
                           STEP_ORDER: [5, 6, 7, 0, 0, 1, 2, 3, 4],
                           "task_id": ["f", "g", "h", "z", "a", "b", "c", "d", "e"]})
    assert read.in_reading_order(stored)["task_id"].to_list() == list("abcdefghz")
    assert read.in_reading_order(stored).columns == ["task_id"]


def test_runs_that_share_a_step_are_sorted_not_joined():
    """Runs 0, 1, 2 | 1, 2 of source 0 share steps 1 and 2 (no store holds a step twice): joining
    the runs by their first steps would put 2 before 1; they are sorted instead."""
    from agentcost.store import read
    from agentcost.store.parts import SOURCE_ORDER, STEP_ORDER

    stored = pl.DataFrame({SOURCE_ORDER: [0, 0, 0, 0, 0], STEP_ORDER: [0, 1, 2, 1, 2],
                           "task_id": ["a", "b", "c", "b", "c"]})
    assert read.in_reading_order(stored)["task_id"].to_list() == list("abbcc")


def test_a_column_no_stored_step_has_is_not_read_yet_new_steps_fill_it(run_cli, log, prices,
                                                                       tmp_path):
    """No stored step names a user: the parts say so, and a report does not read the column.
    A log beside the store that names one still shows it: $0.40 by user u, $0.90 by none."""
    store = tmp_path / "store"
    api.store_steps([str(log)], store)
    manifest = json.loads((store / "manifest.json").read_text())
    assert all("user" in part["null_columns"] for part in manifest["parts"])
    assert all("model" not in part["null_columns"] for part in manifest["parts"])
    today = tmp_path / "today.jsonl"
    today.write_text(line({"task_id": "t9", "timestamp": "2026-11-29T08:00:00Z", "model": "m",
                           "user": "u", "input_tokens": 400_000}), encoding="utf-8")
    beside = report_json(run_cli, "--store", str(store), str(today), "--prices", str(prices),
                         "--by", "user")
    by_user = {row["user"]: row["cost_usd"] for row in beside["dashboard"]["breakdown"]["rows"]}
    assert by_user == {"(none)": 0.9, "u": 0.4}
    alone = report_json(run_cli, "--store", str(store), "--prices", str(prices), "--by", "user")
    assert report_json(run_cli, str(log), "--prices", str(prices), "--by", "user") == alone
