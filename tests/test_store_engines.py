"""A steps store read by the local executor a part at a time, into its task-hash buckets:
the same report, simulation and check as the memory executor's reading of the whole store,
byte for byte (bar the line that names the engine), with the window's account of the days
it did not read. (The ray executor and a store in object storage: test_engine_ray.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import agentcost
from agentcost.engine.local import LocalExecutor
from agentcost.engine.spill import BucketSpill
from tests.engine_datasets import REPORTS, SCENARIO, dataset_named, without_engine
from tests.test_store import PRICES, unnumbered_days

# The shards span two days (2026-11-27 and 28): a window from the second day leaves the first
# day's part unread, and its unnumbered steps are numbered among those of the first day.
SECOND_DAY = {"since": "2026-11-28T00:00:00"}
STORE_REPORTS = [*REPORTS, ("shards", SECOND_DAY), ("shards", {**SECOND_DAY, "by": "day"})]


@pytest.fixture(scope="module")
def stores(tmp_path_factory, shards, adversarial) -> dict[str, Path]:
    """Each data set ingested into a store of its own."""
    made = {}
    for name in ("samples", "shards", "adversarial"):
        inputs, _ = dataset_named(name, shards, adversarial)
        made[name] = tmp_path_factory.mktemp(f"store-{name}")
        agentcost.store_steps([str(path) for path in inputs], made[name])
    return made


def _json(report: object) -> bytes:
    return agentcost.render(report, "json").encode()  # type: ignore[arg-type]


@pytest.mark.parametrize(("dataset", "options"), STORE_REPORTS)
def test_the_local_executor_reads_a_store_to_the_memory_report(dataset, options, stores,
                                                               shards, adversarial):
    _, prices = dataset_named(dataset, shards, adversarial)
    memory = agentcost.report((), store=stores[dataset], prices=prices, engine="memory",
                              **options)
    local = agentcost.report((), store=stores[dataset], prices=prices,
                             engine=LocalExecutor(buckets=5), **options)
    assert (memory.engine, local.engine) == ("memory", "local")
    assert without_engine(_json(local)) == without_engine(_json(memory))


def test_a_store_is_read_a_part_at_a_time_never_whole(stores, monkeypatch):
    """The memory executor's reading of the whole store is never called, and no frame the
    buckets are given holds more steps than the largest part: the samples' two logs are
    stored as one part of 4,017 steps here, so a store of them ingested twice over (a
    second part of the same day) shows it."""
    import agentcost.store.read as read

    def whole(*_: object) -> None:
        raise AssertionError("the whole store read into one frame")

    monkeypatch.setattr(read, "stored_steps", whole)
    written: list[int] = []
    original = BucketSpill.write

    def counted(self: BucketSpill, steps: pl.DataFrame) -> None:
        written.append(steps.height)
        original(self, steps)

    monkeypatch.setattr(BucketSpill, "write", counted)
    manifest = json.loads((stores["shards"] / "manifest.json").read_text(encoding="utf-8"))
    largest = max(part["rows"] for part in manifest["parts"])
    report = agentcost.report((), store=stores["shards"], engine=LocalExecutor(buckets=2))
    assert sum(written) == report.summary.steps == sum(part["rows"] for part in
                                                        manifest["parts"])
    assert len([rows for rows in written if rows]) == len(manifest["parts"]) == 2
    assert max(written) == largest < report.summary.steps


def test_inputs_beside_the_store_are_read_here_and_reported_the_same(tmp_path, shards):
    """Four shards stored, two named beside the store (with the repeats across shards):
    what the memory executor gives, and what the six logs give."""
    store = tmp_path / "store"
    agentcost.store_steps([str(path) for path in shards[:4]], store)
    beside = [str(path) for path in shards[4:]]
    memory = agentcost.report(beside, store=store, engine="memory")
    local = agentcost.report(beside, store=store, engine=LocalExecutor(buckets=4))
    assert without_engine(_json(local)) == without_engine(_json(memory))
    assert local.summary == agentcost.report(shards, engine="memory").summary


def test_the_local_executor_simulates_and_checks_a_store_the_same(stores):
    memory = agentcost.compare((), [SCENARIO], budgets=[0.02, 0.1], store=stores["shards"],
                               engine="memory", **SECOND_DAY)
    local = agentcost.compare((), [SCENARIO], budgets=[0.02, 0.1], store=stores["shards"],
                              engine=LocalExecutor(buckets=5), **SECOND_DAY)
    assert (memory.engine, local.engine) == ("memory", "local")
    assert agentcost.render(local, "json") == agentcost.render(memory, "json")
    assert local.steps_outside == memory.steps_outside > 0
    limits = {"max_task_cost": 0.05, "max_total": 1.0, "max_p90": 0.01}
    checked = [agentcost.check(agentcost.report((), store=stores["shards"], engine=engine),
                               **limits) for engine in ("memory", LocalExecutor(buckets=3))]
    assert checked[0] == checked[1] and len(checked[0]) >= 2


def test_the_worked_window_on_the_local_executor(run_cli, tmp_path, write_prices, monkeypatch):
    """tests/test_store.py's three days, read by the local executor from the command line:
    a's $2.00 and c's $0.50 in the window; 3 steps outside it (2 on day 1, 1 on day 3), 1
    without a time. Of day 1, only a's step is read (its task and time): a's unnumbered step
    on day 2 is its second, and the window counts that step outside once."""
    import agentcost.store.scan as scan

    read_for_numbers: list[list[str]] = []
    original = scan.earlier_steps

    def recorded(planned: scan.StoreScan) -> pl.DataFrame:
        steps = original(planned)
        read_for_numbers.append(steps["task_id"].to_list())
        return steps

    monkeypatch.setattr(scan, "earlier_steps", recorded)
    log = unnumbered_days(tmp_path)
    prices = write_prices(PRICES)
    store = tmp_path / "store"
    agentcost.store_steps([str(log)], store)
    window = ("--since", "2026-11-28", "--until", "2026-11-29", "--prices", str(prices),
              "-f", "json")
    result = run_cli("report", "--store", str(store), "--engine", "local", *window)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["inputs"]["engine"] == "local"
    assert document["summary"]["cost_usd"]["total"] == 2.5
    assert document["summary"]["window_applied"]["steps_outside"] == 3
    assert document["summary"]["window_applied"]["steps_untimed"] == 1
    positions = {row["position"]: row["steps"]
                 for row in document["dashboard"]["by_step_position"]}
    assert positions == {1: 1, 2: 1}  # c's first step, a's second
    assert read_for_numbers == [["a"]]
    memory = run_cli("report", "--store", str(store), "--engine", "memory", *window)
    assert without_engine(result.stdout.encode()) == without_engine(memory.stdout.encode())


@pytest.mark.parametrize("engine", ["memory", "local"])
def test_a_store_of_only_bad_lines_is_no_usable_input_on_every_engine(tmp_path, engine):
    """Both lines of the log were skipped at ingest: the store holds no step, and a report
    from it is the error a report of the log itself gives, not an empty report."""
    log = tmp_path / "bad.jsonl"
    log.write_text('{"task_id": "a", "model": \nnot json\n', encoding="utf-8")
    agentcost.store_steps([log], tmp_path / "store")
    with pytest.raises(agentcost.NoUsableInput) as raised:
        agentcost.report((), store=tmp_path / "store", engine=engine)
    assert raised.value.accounting.lines_skipped == 2
