"""`-o` onto what is not a regular file: `/dev/stdout`, `/dev/stderr`, `/proc/self/fd/N`, a FIFO,
whatever stdout is (a pipe, a file, a terminal), and a reader that stops early (`| head`).

What needs a real descriptor handed over by a parent runs the command in a subprocess (about
half a second each); the rest calls `write_output` in this process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agentcost.errors import AgentCostError
from agentcost.renderers import output
from agentcost.renderers.output import write_output
from tests.conftest import SAMPLES

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="needs /dev/stdout and /proc/self/fd (Linux)")

SMALL = SAMPLES / "research_agent.jsonl"
# Its JSON report (about 100 KB) outgrows a pipe's buffer (64 KB): a reader that stops after
# 100 bytes leaves the writer blocked, then failing with EPIPE.
BIG = SAMPLES / "agents.jsonl"
NOISE = ("Traceback", "Exception ignored", "BrokenPipe", "Broken pipe", "error")


def agentcost(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentcost", *args]


def report_json(source: Path, *options: str) -> list[str]:
    return agentcost("report", str(source), "--format", "json", *options)


def test_dev_stdout_onto_a_pipe():
    result = subprocess.run(report_json(SMALL, "-o", "/dev/stdout"), capture_output=True,
                            timeout=120, check=False)
    assert (result.returncode, result.stderr) == (0, b"")
    assert json.loads(result.stdout)["summary"]["steps"] == 10


def test_dev_stderr_onto_a_pipe():
    result = subprocess.run(report_json(SMALL, "-o", "/dev/stderr"), capture_output=True,
                            timeout=120, check=False)
    assert (result.returncode, result.stdout) == (0, b"")
    assert json.loads(result.stderr)["summary"]["steps"] == 10


def test_dev_stdout_onto_a_file_is_written_at_its_offset_not_replaced(tmp_path):
    """`>> log` or `{ echo header; agentcost … -o /dev/stdout; } > log`: the report follows
    what is there, in the file the shell opened (renaming over it would leave the shell writing
    to a deleted file; reopening it would truncate it)."""
    log = tmp_path / "log"
    log.write_bytes(b"header\n")
    inode = log.stat().st_ino
    with log.open("ab") as stdout:
        result = subprocess.run(report_json(SMALL, "-o", "/dev/stdout"), stdout=stdout,
                                stderr=subprocess.PIPE, timeout=120, check=False)
    assert (result.returncode, result.stderr) == (0, b"")
    assert log.stat().st_ino == inode
    header, report = log.read_bytes().split(b"\n", 1)
    assert header == b"header"
    assert json.loads(report)["summary"]["steps"] == 10
    assert [path.name for path in tmp_path.iterdir()] == ["log"]


def test_dev_stdout_onto_a_terminal():
    pty = pytest.importorskip("pty")
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(report_json(SMALL, "-o", "/dev/stdout"), stdout=terminal,
                                   stderr=subprocess.PIPE)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:  # until the command's end closes the terminal's last descriptor (EIO)
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        assert process.stderr is not None
        errors = process.stderr.read()
        assert (process.wait(timeout=120), errors) == (0, b"")
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert json.loads(shown.replace(b"\r\n", b"\n"))["summary"]["steps"] == 10


@pytest.mark.parametrize("options", [(), ("-o", "/dev/stdout")], ids=["stdout", "-o /dev/stdout"])
def test_a_reader_that_stops_early_ends_the_report_quietly(options):
    """`agentcost report … -f json [-o /dev/stdout] | head -c 100` prints the first 100 bytes
    and exits 0, with nothing on stderr but the report's own notes."""
    if shutil.which("head") is None:
        pytest.skip("needs head")
    writer = subprocess.Popen(report_json(BIG, *options), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-c", "100"], stdin=writer.stdout, stdout=subprocess.PIPE)
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.close()
    shown, _ = head.communicate(timeout=120)
    errors = writer.stderr.read().decode()
    assert writer.wait(timeout=120) == 0, errors
    assert len(shown) == 100 and shown.startswith(b'{\n  "schema_version": 1,')
    assert not any(word in errors for word in NOISE), errors


def test_the_spellings_of_a_descriptor(tmp_path):
    link = tmp_path / "out"
    link.symlink_to("/dev/stdout")
    named = {"/dev/stdout": 1, "/dev/stderr": 2, "/dev/fd/5": 5, "/proc/self/fd/5": 5,
             f"/proc/{os.getpid()}/fd/5": 5, "/proc/thread-self/fd/5": 5, str(link): 1,
             f"/proc/{os.getppid()}/fd/5": None, "/dev/null": None,
             str(tmp_path / "report.json"): None, "/proc/self/fd": None}
    assert {path: output._own_descriptor(Path(path)) for path in named} == named


def handed_over_pipe() -> tuple[int, int]:
    """A pipe whose writing end is inheritable, as one a parent hands over (`3>&1`)."""
    reading, writing = os.pipe()
    os.set_inheritable(writing, True)
    return reading, writing


def test_proc_self_fd_onto_a_pipe():
    reading, writing = handed_over_pipe()
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(_read_all(reading)), daemon=True)
    reader.start()
    report = b"x" * 200_000 + b"\n"  # more than the pipe holds: written whole, in pieces
    try:
        write_output(report, Path(f"/proc/self/fd/{writing}"))
    finally:
        os.close(writing)
    reader.join(timeout=30)
    os.close(reading)
    assert received == [report]


def test_a_descriptor_whose_reader_is_gone_swallows_the_rest():
    reading, writing = handed_over_pipe()
    os.close(reading)
    try:
        write_output(b"x" * 200_000, Path(f"/dev/fd/{writing}"))
        os.write(writing, b"later")  # now the null device: no EPIPE at exit either
    finally:
        os.close(writing)


def test_a_descriptor_not_handed_over_is_refused(tmp_path):
    """A close-on-exec descriptor was opened in this process (by Python, by polars): writing a
    report into it would corrupt whatever uses it."""
    reading, writing = os.pipe()
    try:
        with pytest.raises(AgentCostError, match="not a descriptor that agentcost was given"):
            write_output("report", Path(f"/proc/self/fd/{writing}"))
        with pytest.raises(AgentCostError, match="No such file or directory"):
            write_output("report", Path("/proc/self/fd/999999"))
    finally:
        os.close(reading)
        os.close(writing)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_whose_reader_stops_early(tmp_path):
    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []

    def read_a_little() -> None:
        with pipe.open("rb", buffering=0) as stream:
            received.append(stream.read(100))

    reader = threading.Thread(target=read_a_little, daemon=True)
    reader.start()
    write_output(b"y" * 200_000, pipe)
    reader.join(timeout=30)
    assert received == [b"y" * 100]


def test_a_regular_file_is_still_replaced_whole(tmp_path):
    """A new file under the old name: a reader holding the old one keeps reading it whole."""
    report = tmp_path / "report.json"
    report.write_text("yesterday's report")
    kept = tmp_path / "kept"
    os.link(report, kept)
    write_output("today's report", report)
    assert report.read_text() == "today's report"
    assert kept.read_text() == "yesterday's report"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept", "report.json"]


def _read_all(descriptor: int) -> bytes:
    chunks = []
    while chunk := os.read(descriptor, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("command", [["pricing", "list"], ["pricing", "check", "SAMPLE"],
                                     ["check", "SAMPLE", "--max-total", "0.01"]])
def test_commands_that_print_end_quietly_when_their_reader_is_gone(command):
    """The reader closed before a byte was written: no traceback, no "Exception ignored",
    and the command's own exit code: a crossed threshold (4) or an unpriced name (3) is still
    said by the exit code when nobody reads the lines."""
    import subprocess
    import sys

    args = [str(SAMPLES / "agents.jsonl") if word == "SAMPLE" else word for word in command]
    process = subprocess.Popen([sys.executable, "-m", "agentcost", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    code = process.wait(timeout=60)
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
    # agents.jsonl has unpriced tools (3), and costs more than $0.01 (4)
    expected = {"list": 0, "check": 3}[command[1]] if command[0] == "pricing" else 4
    assert code == expected


def test_an_output_that_is_one_of_the_inputs_is_refused_and_left_as_it_was(tmp_path):
    traces = tmp_path / "traces.jsonl"
    shutil.copy(SMALL, traces)
    linked = tmp_path / "report.json"
    linked.symlink_to(traces)
    for target, inputs in ((traces, [str(traces)]), (linked, [str(tmp_path)])):
        result = subprocess.run(agentcost("report", *inputs, "-o", str(target)),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert f"-o {target}: it is the input " in result.stderr
        assert traces.read_bytes() == SMALL.read_bytes()
    with traces.open("rb") as stdin:  # `report - -o traces.jsonl < traces.jsonl`
        result = subprocess.run(agentcost("report", "-", "-o", str(traces)), stdin=stdin,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "it is the input -" in result.stderr
    assert traces.read_bytes() == SMALL.read_bytes()


def test_a_replaced_report_keeps_its_permissions_and_a_new_one_follows_the_umask(tmp_path):
    private = tmp_path / "private.txt"
    private.write_text("old")
    private.chmod(0o600)
    write_output("new", private)
    assert (private.read_text(), private.stat().st_mode & 0o777) == ("new", 0o600)
    previous = os.umask(0o027)
    try:
        write_output("fresh", tmp_path / "fresh.txt")
    finally:
        os.umask(previous)
    assert (tmp_path / "fresh.txt").stat().st_mode & 0o777 == 0o640


def test_a_temporary_file_left_by_a_killed_run_is_removed_by_the_next(tmp_path, capsys):
    """A run killed outright (SIGKILL) while writing leaves its temporary sibling, named with
    its pid: the next run writing there removes it once that process is gone, and says so."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".report.json.{dead.pid}.abc123{output.TEMPORARY_SUFFIX}"
    stale.write_text("half a rep")
    alive = tmp_path / f".report.json.{os.getpid()}.def456{output.TEMPORARY_SUFFIX}"
    alive.write_text("being written")
    write_output("{}", tmp_path / "report.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report.json", alive.name])
    assert f"removed {stale}, left by an earlier run" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line_and_exit_1(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    for args, stdout in ((["-o", "/dev/full"], None), ([], "/dev/full"),
                         (["-o", str(loop)], None)):
        with open(stdout or os.devnull, "wb") as sink:
            result = subprocess.run(report_json(SMALL, *args), stdout=sink,
                                    stderr=subprocess.PIPE, text=True, timeout=60)
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("agentcost: error: ")
        assert ("No space left on device" in result.stderr
                or "Too many levels of symbolic links" in result.stderr)
