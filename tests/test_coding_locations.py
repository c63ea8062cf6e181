"""--from: each coding agent's logs found where the agent keeps them, the variables the agents
read honoured; with no input at all, `report` says what is here and exits 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import agentcost
from agentcost.errors import InputError, UsageError
from agentcost.ingest.coding.locations import agent_logs, agent_names, find, places
from tests.conftest import REAL_TRACES

VARIABLES = ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "XDG_CONFIG_HOME",
             "XDG_DATA_HOME", "OPENCODE_DB", "COPILOT_HOME", "CLINE_DIR", "CLINE_DATA_DIR",
             "VSCODE_PORTABLE", "VSCODE_APPDATA", "APPDATA")


def touch(root: Path, *relative: str) -> list[Path]:
    made = []
    for name in relative:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n", encoding="utf-8")
        made.append(path)
    return made


def logs(agent: str, home: Path, platform: str = "linux", **environ: str) -> list[Path]:
    return [Path(path) for path in agent_logs(agent, environ, home, platform)]


def test_the_default_places_of_each_agent(tmp_path):
    home = tmp_path
    expected = {
        "claude-code": touch(home, ".claude/projects/-repo/s1.jsonl",
                             ".claude/projects/-repo/s1/subagents/agent-a.jsonl",
                             ".config/claude/projects/-other/s2.jsonl"),
        "codex": touch(home, ".codex/sessions/2026/01/02/rollout-x.jsonl",
                       ".codex/archived_sessions/rollout-y.jsonl"),
        "gemini": touch(home, ".gemini/tmp/abc/chats/session-1.json",
                        ".gemini/tmp/abc/chats/session-2.jsonl"),
        "qwen": touch(home, ".qwen/projects/-repo/chats/s.jsonl"),
        "opencode": touch(home, ".local/share/opencode/opencode.db",
                          ".local/share/opencode/opencode-dev.db"),
        "copilot": touch(home, ".copilot/session-state/s1/events.jsonl"),
        "cline": touch(home, ".config/Code/User/globalStorage/saoudrizwan.claude-dev/tasks/1/"
                       "ui_messages.json",
                       ".config/Cursor/User/globalStorage/rooveterinaryinc.roo-cline/tasks/2/"
                       "ui_messages.json",
                       ".cline/data/tasks/3/ui_messages.json"),
    }
    touch(home, ".gemini/tmp/abc/logs.json", ".codex/config.toml",
          ".copilot/session-state/s1/workspace.yaml", ".local/share/opencode/auth.json")
    for agent, files in expected.items():
        assert sorted(logs(agent, home)) == sorted(files), agent


def test_the_agents_own_variables_move_their_places(tmp_path):
    home = tmp_path / "home"
    claude = touch(tmp_path, "a/projects/p/s.jsonl", "b/projects/p/s.jsonl")
    # a comma-separated list, a ~ path, and a projects/ folder named directly
    assert logs("claude-code", home, CLAUDE_CONFIG_DIR=f"{tmp_path / 'a'}, "
                f"{tmp_path / 'b' / 'projects'}") == claude
    touch(home, "cfg/projects/p/t.jsonl")
    assert logs("claude-code", home, CLAUDE_CONFIG_DIR="~/cfg") == [
        home / "cfg/projects/p/t.jsonl"]
    cases = [
        ("codex", {"CODEX_HOME": "cx"}, "cx/sessions/r.jsonl"),
        ("gemini", {"GEMINI_CLI_HOME": "g"}, "g/.gemini/tmp/h/chats/session-1.json"),
        ("opencode", {"XDG_DATA_HOME": "data"}, "data/opencode/opencode.db"),
        ("copilot", {"COPILOT_HOME": "cp"}, "cp/session-state/x/events.jsonl"),
        ("cline", {"CLINE_DIR": "cl"}, "cl/data/tasks/9/ui_messages.json"),
        ("cline", {"CLINE_DATA_DIR": "cd"}, "cd/tasks/8/ui_messages.json"),
        ("cline", {"XDG_CONFIG_HOME": "xc"},
         "xc/VSCodium/User/globalStorage/kilocode.kilo-code/tasks/7/ui_messages.json"),
        ("cline", {"VSCODE_PORTABLE": "pt"},
         "pt/user-data/User/globalStorage/saoudrizwan.claude-dev/tasks/6/ui_messages.json"),
    ]
    for agent, variables, relative in cases:
        made = touch(tmp_path, relative)
        environ = {name: str(tmp_path / value) for name, value in variables.items()}
        assert logs(agent, home, **environ) == made, (agent, variables)
    # OPENCODE_DB: a database named in the data folder (or an absolute path)
    made = touch(tmp_path, "data/opencode/mine.db")
    assert logs("opencode", home, XDG_DATA_HOME=str(tmp_path / "data"),
                OPENCODE_DB="mine.db") == made


def test_the_editors_folders_on_macos_and_windows(tmp_path):
    mac = touch(tmp_path, "Library/Application Support/Code/User/globalStorage/"
                "saoudrizwan.claude-dev/tasks/1/ui_messages.json")
    assert logs("cline", tmp_path, platform="darwin") == mac
    windows = touch(tmp_path, "roaming/Code - Insiders/User/globalStorage/"
                    "saoudrizwan.claude-dev/tasks/1/ui_messages.json")
    assert logs("cline", tmp_path, platform="win32", APPDATA=str(tmp_path / "roaming")) \
        == windows


def test_agent_names_aliases_all_and_mistakes():
    assert agent_names("claude-code, gemini-cli,copilot-cli,roo-code") == [
        "claude-code", "gemini", "copilot", "cline"]
    assert agent_names("all") == ["claude-code", "codex", "gemini", "qwen", "opencode",
                                  "copilot", "cline"]
    with pytest.raises(UsageError, match="unknown coding agent 'cursor'"):
        agent_names("claude-code,cursor")
    with pytest.raises(UsageError, match="name coding agents"):
        agent_names(" , ")


def test_an_agent_named_without_logs_says_where_it_looked(tmp_path):
    with pytest.raises(InputError, match=r"--from codex: no Codex CLI logs found \(looked in "
                       + str(tmp_path / ".codex")):
        agent_logs("codex", {}, tmp_path, "linux")
    with pytest.raises(InputError, match="no coding agent's logs found"):
        agent_logs("all", {}, tmp_path, "linux")
    touch(tmp_path, ".copilot/session-state/s/events.jsonl")
    assert len(agent_logs("all", {}, tmp_path, "linux")) == 1  # all: those found


def test_find_counts_files_and_bytes(tmp_path):
    touch(tmp_path, ".copilot/session-state/a/events.jsonl",
          ".copilot/session-state/b/events.jsonl")
    (found,) = find(["copilot"], {}, tmp_path, "linux")
    assert (found.root, len(found.files), found.size_bytes) == (tmp_path / ".copilot", 2, 6)
    assert [place.root for place in places("copilot", {}, tmp_path, "linux")] == [
        tmp_path / ".copilot"]


@pytest.fixture
def agent_home(tmp_path, monkeypatch):
    """A home folder holding Copilot CLI's and OpenCode's real logs, and nothing else set."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    session = tmp_path / ".copilot" / "session-state" / "96ef38f0"
    session.mkdir(parents=True)
    shutil.copy(REAL_TRACES / "copilot-cli" / "vct-events-96ef38f0.jsonl",
                session / "events.jsonl")
    data = tmp_path / ".local" / "share" / "opencode"
    data.mkdir(parents=True)
    shutil.copy(REAL_TRACES / "opencode" / "stunning-memory-opencode.db", data / "opencode.db")
    return tmp_path


def test_report_with_no_input_says_what_is_here_and_exits_2(run_cli, agent_home):
    result = run_cli("report")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "agentcost: coding agents' logs found on this machine:"
    assert lines[1].split() == ["opencode", f"{agent_home}/.local/share/opencode:", "1",
                                "file,", "608.0", "KiB"]
    assert lines[2].split() == ["copilot", f"{agent_home}/.copilot:", "1", "file,", "159.0",
                                "KiB"]
    assert lines[3] == ("Read them with: agentcost report --from opencode,copilot  (or --from "
                        "all)")
    assert "no input" in lines[4]


def test_report_simulate_and_check_read_from_the_agents(run_cli, agent_home):
    result = run_cli("report", "--from", "copilot", "-f", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["cost_usd"]["total"] == pytest.approx(0.1934544)  # test_coding_copilot.py
    result = run_cli("simulate", "--from", "copilot", "--route",
                     "model:claude-sonnet-4.6=claude-sonnet-4-5", "-f", "json")
    assert result.exit_code == 0, result.stderr
    result = run_cli("check", "--from", "all", "--max-total", "0.10")
    assert result.exit_code == 4  # $0.193 of Copilot, and OpenCode's steps unpriced
    result = run_cli("report", "--from", "codex")
    assert result.exit_code == 1
    assert "no Codex CLI logs found" in result.stderr


def test_the_library_takes_the_found_paths(agent_home):
    report = agentcost.report(agentcost.agent_logs(["copilot", "opencode"]))
    assert report.summary.llm_steps == 6 + 26
    assert report.summary.total_cost_usd == pytest.approx(0.1934544, abs=1e-12)
