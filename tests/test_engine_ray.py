"""The ray executor gives what the memory executor gives, byte for byte (bar the line that
names the engine): on a local Ray cluster of two CPUs, on a cluster of two nodes started as
a platform team starts one (`ray start`), and on inputs in object storage, served by an
S3-compatible server the tests start (moto).

All of it shares one Ray cluster, so one test worker runs it (xdist group "ray")."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

import agentcost
from agentcost.engine.ray_cluster import RayExecutor
from agentcost.errors import InputError, UsageError
from agentcost.simulation.scenario import CacheRule, Scenario
from tests.conftest import ROOT, SAMPLES
from tests.engine_datasets import (
    ADVERSARIAL_SCENARIO,
    REPORTS,
    SCENARIO,
    dataset_named,
    without_engine,
)

pytestmark = pytest.mark.xdist_group("ray")
BIN = Path(sys.executable).parent
# A partition count that splits every data set's tasks, repeats and percentiles.
PARTITIONS = 3


@pytest.fixture(scope="session")
def local_ray(s3: dict[str, str]) -> Iterator[None]:
    """A local cluster of two CPUs for this module, as a notebook's `ray.init` starts one.
    Its workers read object storage with their own settings, as a cluster's nodes do: here
    those of the test's S3 server, set before they start."""
    before = {name: os.environ.get(name) for name in s3}
    os.environ.update(s3)
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             object_store_memory=200 * 1024**2,
             logging_level="ERROR", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _json(report: Any) -> bytes:
    return agentcost.render(report, "json").encode()


@pytest.mark.parametrize(("dataset", "options"), REPORTS)
def test_ray_writes_the_memory_report(local_ray, dataset, options, shards, adversarial):
    inputs, prices = dataset_named(dataset, shards, adversarial)
    memory = agentcost.report(inputs, prices=prices, engine="memory", **options)
    on_ray = agentcost.report(inputs, prices=prices, engine=RayExecutor(partitions=PARTITIONS),
                              **options)
    written = _json(on_ray)
    assert b'"engine": "ray"' in written
    assert without_engine(written) == without_engine(_json(memory))


def test_ray_draws_the_same_charts(local_ray, shards):
    memory = agentcost.report(shards, engine="memory", charts=True).charts
    on_ray = agentcost.report(shards, engine=RayExecutor(partitions=PARTITIONS),
                              charts=True).charts
    assert memory is not None and on_ray is not None
    assert on_ray.over_time.equals(memory.over_time)
    assert on_ray.by_tool.equals(memory.by_tool)


@pytest.mark.parametrize("dataset", ["samples", "shards", "adversarial"])
def test_ray_simulates_the_same(local_ray, dataset, shards, adversarial):
    inputs, prices = dataset_named(dataset, shards, adversarial)
    scenario = ADVERSARIAL_SCENARIO if dataset == "adversarial" else SCENARIO
    budgets = [0.5, 0.75] if dataset == "adversarial" else [0.02, 0.1]
    memory = agentcost.compare(inputs, [scenario], budgets=budgets, prices=prices,
                               engine="memory")
    on_ray = agentcost.compare(inputs, [scenario], budgets=budgets, prices=prices,
                               engine=RayExecutor(partitions=PARTITIONS))
    assert (memory.engine, on_ray.engine) == ("memory", "ray")
    assert agentcost.render(on_ray, "json") == agentcost.render(memory, "json")


def test_ray_simulates_several_scenarios_in_a_window_the_same(local_ray, shards):
    """Two scenarios with their own cache rules, on a window's steps: the hits found by the
    split tasks over every partition's calls, as one pass finds them."""
    scenarios = [SCENARIO, Scenario(name="cache-only", cache=(CacheRule("*", 60),),
                                    max_steps=5)]
    window = {"since": "2026-11-27T06:00:00", "until": "2026-11-28T01:00:00"}
    memory = agentcost.compare(shards, scenarios, budgets=[0.03], engine="memory", **window)
    on_ray = agentcost.compare(shards, scenarios, budgets=[0.03],
                               engine=RayExecutor(partitions=PARTITIONS), **window)
    assert agentcost.render(on_ray, "json") == agentcost.render(memory, "json")
    assert memory.simulations[1].touched["caching"].steps > 0


def test_ray_simulates_no_step_to_the_empty_simulation(local_ray, tmp_path):
    """No step in any partition: $0 over 0 steps, as the memory executor gives, not an
    error."""
    empty = tmp_path / "quiet.jsonl"
    empty.write_text("\n", encoding="utf-8")
    scenario = Scenario(cache=(CacheRule("*", 60),), budget_usd=1.0)
    memory = agentcost.compare([empty], [scenario], budgets=[0.5], engine="memory")
    on_ray = agentcost.compare([empty], [scenario], budgets=[0.5],
                               engine=RayExecutor(partitions=PARTITIONS))
    assert agentcost.render(on_ray, "json") == agentcost.render(memory, "json")
    assert on_ray.simulations[0].baseline.steps == 0


def test_ray_checks_the_same(local_ray, shards):
    limits = {"max_task_cost": 0.05, "max_total": 1.0, "max_p90": 0.01,
              "fail_on_unpriced": True, "max_skipped": 0}
    memory = agentcost.check(agentcost.report(shards, engine="memory"), **limits)
    on_ray = agentcost.check(agentcost.report(shards, engine=RayExecutor(partitions=5)),
                             **limits)
    assert on_ray == memory and len(on_ray) >= 3


def test_steps_given_as_a_frame_run_on_ray(local_ray):
    """A frame of steps (what a notebook holds, or a steps store's) is partitioned from
    memory: two tasks of one step each, 1,000 input tokens of gpt-4o at $2.50 per million =
    $0.0025 each."""
    import polars as pl

    tokens = ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
              "output_tokens", "reasoning_tokens")
    steps = pl.DataFrame({"task_id": ["a", "b"], "model": ["gpt-4o", "gpt-4o"],
                          "input_tokens": [1_000, 1_000], **{name: [0, 0] for name in tokens}})
    report = agentcost.report(steps, engine="ray")
    assert report.engine == "ray"
    assert report.summary.total_cost_usd == 0.005
    assert sorted(report.tasks["total_cost_usd"].to_list()) == [0.0025, 0.0025]


def test_without_ray_the_engine_says_how_to_install_it(run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as when not installed
    result = run_cli("report", str(SAMPLES / "agents.jsonl"), "--engine", "ray")
    assert result.exit_code == 2
    assert "pip install 'agentcost-traces[ray]'" in result.stderr


def test_ray_settings_belong_to_the_ray_engine(run_cli):
    sample = str(SAMPLES / "agents.jsonl")
    address = run_cli("report", sample, "--ray-address", "127.0.0.1:1")
    assert address.exit_code == 2 and "--ray-address: only with --engine ray" in address.stderr
    partitions = run_cli("report", sample, "--engine", "memory", "--partitions", "4")
    assert partitions.exit_code == 2 and "--partitions" in partitions.stderr


def test_the_task_table_is_written_as_parquet(run_cli, tmp_path, shards):
    """--tasks-out holds every task (the table shows 20), costliest first, with the same
    costs as the JSON report."""
    import polars as pl

    out = tmp_path / "tasks.parquet"
    result = run_cli("report", *map(str, shards), "--tasks-out", str(out), "-f", "json")
    assert result.exit_code == 0
    tasks = pl.read_parquet(out)
    document = json.loads(result.stdout)
    assert tasks.height == document["summary"]["tasks"] > 20
    costs = tasks["total_cost_usd"].drop_nulls().to_list()
    assert costs == sorted(costs, reverse=True)
    shown = {row["task_id"]: row["total_cost_usd"] for row in document["tasks"]["rows"]}
    assert {row["task_id"]: row["total_cost_usd"] for row in tasks.to_dicts()} == shown


# --- object storage -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An S3-compatible server on loopback (moto), and the environment that points the AWS
    clients at it."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    server = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log.open("wb"), stderr=subprocess.STDOUT)
    environ = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "test",
               "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    try:
        _wait_for_port(port, server)
        yield environ
    finally:
        server.terminate()
        server.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server ended (exit {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def _upload(environ: dict[str, str], files: dict[str, Path], bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=environ["AWS_ENDPOINT_URL"],
                          aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    for key, path in files.items():
        client.upload_file(str(path), bucket, key)


def test_shards_in_object_storage_read_on_the_cluster(local_ray, s3, shards, monkeypatch):
    """Six shards in a bucket, read by tasks two at a time (the batch size made small),
    give the report the memory executor gives of the same objects, and the same figures as
    the shards on disk."""
    import agentcost.engine.ray_cluster as cluster

    _upload(s3, {f"day/{path.name}": path for path in shards}, "shards")
    monkeypatch.setattr(cluster, "READ_BATCH_BYTES", 2 * shards[0].stat().st_size)
    memory = agentcost.report("s3://shards/day/", engine="memory")
    on_ray = agentcost.report("s3://shards/day/", engine=RayExecutor(partitions=PARTITIONS))
    assert on_ray.accounting.files == [f"s3://shards/day/{path.name}" for path in shards]
    assert without_engine(_json(on_ray)) == without_engine(_json(memory))
    on_disk = agentcost.report(shards, engine="memory")
    assert on_ray.summary == on_disk.summary


def test_formats_that_need_every_file_are_read_by_one_task(local_ray, s3):
    """An OTLP export and a Claude Code session in a bucket beside a JSON lines file: their
    readers need the run's other files (spans of one trace, a session's sub-agents), so one
    task reads them all, and the report is the memory executor's."""
    real = ROOT.parent / "shared" / "traces" / "real"
    otlp = real / "otlp" / "adk-python-S1.otlp.json"
    claude = real / "claude-code" / "short-session.jsonl"
    files = {"mixed/a-steps.jsonl": SAMPLES / "agents.jsonl",
             f"mixed/b-{otlp.name}": otlp, f"mixed/c-{claude.name}": claude}
    _upload(s3, files, "mixed")
    memory = agentcost.report("s3://mixed/mixed/", engine="memory", task_key="session")
    on_ray = agentcost.report("s3://mixed/mixed/", engine=RayExecutor(partitions=PARTITIONS),
                              task_key="session")
    assert len(on_ray.accounting.formats) == 3
    assert without_engine(_json(on_ray)) == without_engine(_json(memory))


def test_object_storage_says_what_it_cannot_read(run_cli, s3, monkeypatch):
    """An empty prefix and a missing bucket: exit 1, a message naming the address."""
    for name, value in s3.items():
        monkeypatch.setenv(name, value)
    _upload(s3, {"notes/readme.txt": SAMPLES.parent / "README.md"}, "empty")
    nothing = run_cli("report", "s3://empty/notes/")
    assert nothing.exit_code == 1
    assert "s3://empty/notes/: holds no trace files" in nothing.stderr
    missing = run_cli("report", "s3://no-such-bucket/day")
    assert missing.exit_code == 1 and "s3://no-such-bucket/day: " in missing.stderr
    assert "Traceback" not in nothing.stderr + missing.stderr


def test_an_object_is_read_from_where_it_was_listed_whatever_its_name(local_ray, s3, tmp_path):
    """Keys are data: a `?` or `#` in one does not send the read elsewhere (here, to a
    server that would answer with a forged task), `%41` is not `A`, and a key with `..` is
    refused on the cluster with the message the memory executor gives, not Ray's report."""
    files = {}
    for task, tokens in (("query", 1_000), ("percent", 2_000), ("plain", 4_000)):
        files[task] = tmp_path / f"{task}.jsonl"
        files[task].write_text(f'{{"task_id": "{task}", "model": "gpt-4o", "input_tokens": '
                               f'{tokens}, "output_tokens": 0}}\n', encoding="utf-8")
    _upload(s3, {"odd/x?scheme=http&endpoint_override=127.0.0.1:9#.jsonl": files["query"],
                 "odd/%41.jsonl": files["percent"], "odd/A.jsonl": files["plain"]}, "names")
    for engine in ("memory", RayExecutor(partitions=2)):
        report = agentcost.report("s3://names/odd/", engine=engine)
        costs = dict(zip(report.tasks["task_id"], report.tasks["total_cost_usd"], strict=True))
        # 1,000, 2,000 and 4,000 input tokens at $2.50 per million.
        assert costs == {"query": 0.0025, "percent": 0.005, "plain": 0.01}
        assert report.accounting.files == [
            "s3://names/odd/%41.jsonl", "s3://names/odd/A.jsonl",
            "s3://names/odd/x?scheme=http&endpoint_override=127.0.0.1:9#.jsonl"]
    _upload(s3, {"up/b/../../../escaped/x.jsonl": files["plain"]}, "climb")
    for engine in ("memory", RayExecutor(partitions=2)):
        with pytest.raises(InputError, match=r"'\.\.' is not copied"):
            agentcost.report("s3://climb/up/", engine=engine)


def test_files_on_disk_beside_objects_are_read_here(local_ray, s3, shards):
    """A shard on this machine's disk beside the others in a bucket: one read here, in
    input order, the memory executor's report."""
    _upload(s3, {f"rest/{path.name}": path for path in shards[1:]}, "beside")
    inputs = [str(shards[0]), "s3://beside/rest/"]
    memory = agentcost.report(inputs, engine="memory")
    on_ray = agentcost.report(inputs, engine=RayExecutor(partitions=PARTITIONS))
    assert without_engine(_json(on_ray)) == without_engine(_json(memory))
    assert on_ray.summary == agentcost.report(shards, engine="memory").summary


def test_a_cluster_that_does_not_answer_is_one_line_and_exit_2():
    """In a process of its own (this one has joined the test's local Ray)."""
    result = subprocess.run(
        [str(BIN / "agentcost"), "report", str(SAMPLES / "agents.jsonl"), "--engine", "ray",
         "--ray-address", f"127.0.0.1:{_free_port()}"], capture_output=True, text=True,
        timeout=60, env=_cluster_environment())
    assert result.returncode == 2
    assert "nothing answers there" in result.stderr and "Traceback" not in result.stderr


def test_nodes_with_other_agentcost_code_are_refused(local_ray, monkeypatch):
    """The local cluster's workers run this checkout: the same code, then, as this process
    says it runs other code, refused with both named."""
    import agentcost.engine.ray_cluster as cluster

    cluster.same_code_everywhere(ray)
    ours = cluster.code_fingerprint()
    monkeypatch.setattr(cluster, "code_fingerprint", lambda: "0.0.1+other")
    with pytest.raises(UsageError, match=re.escape(f"other agentcost code ({ours})")):
        cluster.same_code_everywhere(ray)


def test_a_process_joined_to_one_cluster_does_not_run_on_another(local_ray):
    with pytest.raises(UsageError, match=r"joined to .* already"):
        agentcost.report(str(SAMPLES / "agents.jsonl"),
                         engine=RayExecutor(address="10.255.255.1:6379"))


# --- two nodes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[str]:
    """A head node and a second node on this machine, one CPU each, started with `ray
    start` as a cluster's machines start; stopped with their process groups (not `ray
    stop`, which would stop every Ray on the machine)."""
    port = _free_port()
    # Short: Ray's socket paths under it must fit in 107 bytes (a test worker's tmp_path
    # does not).
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    environ = _cluster_environment()
    started: list[subprocess.Popen[bytes]] = []

    def start(*arguments: str) -> None:
        log = (temp / f"node-{len(started)}.log").open("wb")
        started.append(subprocess.Popen(
            [str(BIN / "ray"), "start", "--block", "--num-cpus", "1", "--disable-usage-stats",
             *arguments], stdout=log, stderr=subprocess.STDOUT, env=environ,
            start_new_session=True))

    address = f"127.0.0.1:{port}"
    try:
        start("--head", "--port", str(port), "--node-ip-address", "127.0.0.1",
              "--include-dashboard", "false", "--object-store-memory", str(150 * 1024**2),
              "--temp-dir", str(temp / "head"))
        try:
            _wait_for_port(port, started[0], seconds=60)
        except RuntimeError as error:
            raise RuntimeError(f"{error}: {(temp / 'node-0.log').read_text()[-2000:]}"
                               ) from None
        start("--address", address, "--node-ip-address", "127.0.0.1",
              "--object-store-memory", str(150 * 1024**2))
        try:
            _wait_for_nodes(address, 2)
        except RuntimeError as error:
            logs = "\n".join(log.read_text()[-1500:] for log in sorted(temp.glob("node-*.log")))
            raise RuntimeError(f"{error}\n{logs}") from None
        yield address
    finally:
        for process in reversed(started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(2)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        shutil.rmtree(temp, ignore_errors=True)


# Every node and every program that joins the cluster share this token (Ray's token
# authentication, as a platform sets RAY_AUTH_TOKEN from a secret).
TOKEN = secrets.token_hex(16)


def _cluster_environment() -> dict[str, str]:
    environ = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
               "RAY_AUTH_TOKEN": TOKEN}
    environ.pop("RAY_ADDRESS", None)
    return environ


def _wait_for_nodes(address: str, count: int, seconds: float = 120) -> None:
    ask = (f"import ray; ray.init(address={address!r}, logging_level='ERROR', "
           "log_to_driver=False); print(sum(node['Alive'] for node in ray.nodes()))")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = subprocess.run([sys.executable, "-c", ask], capture_output=True, text=True,
                                timeout=60, env=_cluster_environment())
        if answer.returncode == 0 and answer.stdout.strip() == str(count):
            return
        time.sleep(1)
    raise RuntimeError(f"the cluster at {address} did not reach {count} nodes")


def test_a_two_node_cluster_writes_the_memory_report(two_nodes, shards):
    """The command line joins the cluster at --ray-address; its partition tasks (one CPU
    each, four partitions) run on both nodes; the JSON is the memory executor's."""
    environ = _cluster_environment()
    paths = [str(path) for path in shards]
    command = [str(BIN / "agentcost"), "report", *paths, "-f", "json"]
    memory = subprocess.run(command, capture_output=True, env=environ, timeout=120)
    on_ray = subprocess.run([*command, "--engine", "ray", "--ray-address", two_nodes,
                             "--partitions", "4"], capture_output=True, env=environ,
                            timeout=300)
    assert on_ray.returncode == memory.returncode == 0, on_ray.stderr.decode()
    assert json.loads(on_ray.stdout)["inputs"]["engine"] == "ray"
    assert without_engine(on_ray.stdout) == without_engine(memory.stdout)
    assert b"Traceback" not in on_ray.stderr


# --- a steps store --------------------------------------------------------------------


def _in_environment(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("options", [{}, {"since": "2026-11-27T06:00:00",
                                          "until": "2026-11-28T01:00:00", "by": "day"}])
def test_a_store_on_disk_and_in_object_storage_reports_the_same_on_every_engine(
        local_ray, s3, shards, tmp_path, monkeypatch, options):
    """The shards ingested into a store on disk and into one in a bucket: its parts read by
    Ray tasks where they are (the driver holds no step), a part per task here, and by the
    local executor a part at a time: the memory executor's report of the store on disk,
    which is the report of the logs."""
    import agentcost.store.scan as scan
    from agentcost.engine.local import LocalExecutor

    _in_environment(monkeypatch, s3)
    _upload(s3, {}, "stores")
    paths = [str(path) for path in shards]
    on_disk = tmp_path / "store"
    agentcost.store_steps(paths, on_disk)
    agentcost.store_steps(paths, "s3://stores/shards/")
    monkeypatch.setattr(scan, "PIECE_ROWS", 1)
    expected = without_engine(_json(agentcost.report((), store=on_disk, engine="memory",
                                                     **options)))
    assert expected == without_engine(_json(agentcost.report(paths, engine="memory",
                                                             **options)))
    for store in (on_disk, "s3://stores/shards"):
        for engine in ("memory", LocalExecutor(buckets=3), RayExecutor(partitions=PARTITIONS)):
            got = agentcost.report((), store=store, engine=engine, **options)
            assert without_engine(_json(got)) == expected, (store, engine)


def test_ray_reads_the_days_a_window_needs_and_numbers_as_the_logs_do(local_ray, tmp_path):
    """tests/test_store.py's three days: a's $2.00 and c's $0.50 in the window, a's day-2
    step numbered second; 3 steps outside (a's day-1 step read by a task for its number, b's
    and a's day-3 step not read), 1 without a time; a simulation replays the same steps."""
    from tests.test_store import PRICES, unnumbered_days

    log = unnumbered_days(tmp_path)
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES, encoding="utf-8")
    store = tmp_path / "store"
    agentcost.store_steps([str(log)], store)
    window = {"since": "2026-11-28", "until": "2026-11-29", "prices": prices}
    report = agentcost.report((), store=store, engine=RayExecutor(partitions=2), **window)
    assert report.summary.total_cost_usd == 2.5
    assert report.window is not None
    assert (report.window.steps_outside, report.window.steps_untimed) == (3, 1)
    memory = agentcost.report((), store=store, engine="memory", **window)
    assert without_engine(_json(report)) == without_engine(_json(memory))
    from agentcost.simulation.scenario import Scenario

    compared = [agentcost.compare((), [Scenario(budget_usd=1.5)], budgets=[1.5], store=store,
                                  engine=engine, **window)
                for engine in ("memory", RayExecutor(partitions=2))]
    assert agentcost.render(compared[1], "json") == agentcost.render(compared[0], "json")
    assert compared[1].steps_outside == 3


def test_ingest_into_object_storage_twice_stores_each_step_once(run_cli, s3, tmp_path,
                                                               monkeypatch):
    """The same log ingested twice into a bucket: stored once; the report of the store is
    the log's (t1 $0.20 + $0.20, t2 $0.50 = $0.90, tests/test_store.py's prices)."""
    from tests.test_store import PRICES, STEPS, line

    _in_environment(monkeypatch, s3)
    _upload(s3, {}, "twice")
    log = tmp_path / "agent.jsonl"
    log.write_text("".join(line(record) for record in STEPS), encoding="utf-8")
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES, encoding="utf-8")
    first = run_cli("ingest", str(log), "--store", "s3://twice/steps")
    assert first.exit_code == 0, first.stderr
    again = run_cli("ingest", str(log), "--store", "s3://twice/steps")
    assert again.stdout == "1 source unchanged since stored; s3://twice/steps holds 3 steps\n"
    result = run_cli("report", "--store", "s3://twice/steps", "--prices", str(prices),
                     "--engine", "local", "-f", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["cost_usd"]["total"] == 0.9
    assert document["lines"]["read"] == 3
    checked = run_cli("check", "--store", "s3://twice/steps", "--prices", str(prices),
                      "--max-total", "0.5")
    assert checked.exit_code == 4
    assert checked.stdout == "agentcost check: total cost $0.90 is above $0.50\n"


def test_a_second_ingest_at_the_same_time_loses_nothing_it_is_refused(s3, tmp_path,
                                                                      monkeypatch):
    """While one ingest reads its log, another stores a different log: the first, about to
    write its manifest, finds the store changed and stops (exit 1) without listing its
    parts; what the second stored is all there, and the first run again adds its own."""
    import agentcost.store.ingest as ingest
    from tests.test_store import STEPS, line

    _in_environment(monkeypatch, s3)
    _upload(s3, {}, "racing")
    mine, theirs = tmp_path / "mine.jsonl", tmp_path / "theirs.jsonl"
    mine.write_text(line(STEPS[0]), encoding="utf-8")
    theirs.write_text(line(STEPS[2]), encoding="utf-8")
    store = "s3://racing/steps"
    agentcost.store_steps([str(mine)], store)  # the store exists: one step
    mine.write_text(line(STEPS[0]) + line(STEPS[1]), encoding="utf-8")  # grows by one
    original = ingest.fresh_steps

    def meanwhile(*arguments: Any) -> Any:
        monkeypatch.setattr(ingest, "fresh_steps", original)
        agentcost.store_steps([str(theirs)], store)  # the other ingest, start to end
        return original(*arguments)

    monkeypatch.setattr(ingest, "fresh_steps", meanwhile)
    with pytest.raises(InputError, match="another ingest wrote to this store while this one"):
        agentcost.store_steps([str(mine)], store)
    # t1's first step and t2's: 100,000 in + 50,000 out + 250,000 out tokens
    assert agentcost.report((), store=store).summary.steps == 2
    again = agentcost.store_steps([str(mine)], store)
    assert (again.steps_stored, again.store_steps) == (1, 3)


def test_a_store_in_a_bucket_that_is_not_there_is_one_line_and_exit_2(run_cli, s3,
                                                                        monkeypatch):
    _in_environment(monkeypatch, s3)
    for command in (("report",), ("ingest", str(SAMPLES / "agents.jsonl"))):
        result = run_cli(*command, "--store", "s3://no-such-store-bucket/steps")
        assert result.exit_code == 2, result.stderr
        assert result.stderr == ("agentcost: error: --store s3://no-such-store-bucket/steps: "
                                 "no bucket 'no-such-store-bucket' (or these credentials may "
                                 "not see it)\n")


def test_credentials_the_store_cannot_use_are_one_line_and_exit_2(run_cli, monkeypatch):
    """What pyarrow says when the credentials are refused, as the message's end."""
    import agentcost.store.location as location

    class Refused:
        def get_file_info(self, _: object) -> None:
            raise OSError("AWS Error ACCESS_DENIED during HeadObject operation: Forbidden\n"
                          "more detail")

    monkeypatch.setattr(location.RemoteStore, "system", lambda self: (Refused(), "b/steps"))
    result = run_cli("report", "--store", "s3://b/steps")
    assert result.exit_code == 2
    assert result.stderr == ("agentcost: error: --store s3://b/steps: cannot read "
                             "manifest.json: AWS Error ACCESS_DENIED during HeadObject "
                             "operation: Forbidden\n")
