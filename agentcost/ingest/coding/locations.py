"""Where each coding agent keeps its logs on this machine, found the way the agent itself finds
them: its default folder, moved by the environment variables it reads. Each place cites the
agent's own source for the path and the variables.

Only paths are worked out here: which files are what is still told by their content.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agentcost.errors import InputError, UsageError

AGENTS = ("claude-code", "codex", "gemini", "qwen", "opencode", "copilot", "cline")
ALL = "all"
# Other names the agents go by (their workflow names among them).
ALIASES = {"claude": "claude-code", "gemini-cli": "gemini", "qwen-code": "qwen",
           "copilot-cli": "copilot", "roo-code": "cline", "kilo-code": "cline"}
LABELS = {"claude-code": "Claude Code", "codex": "Codex CLI", "gemini": "Gemini CLI",
          "qwen": "Qwen Code", "opencode": "OpenCode", "copilot": "GitHub Copilot CLI",
          "cline": "Cline / Roo Code / Kilo Code"}
# VS Code and the editors built on it, by the product name their user data folder has.
EDITORS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
# The VS Code extensions' ids: their storage folders under globalStorage.
CLINE_EXTENSIONS = ("saoudrizwan.claude-dev", "rooveterinaryinc.roo-cline", "kilocode.kilo-code")


@dataclass(frozen=True)
class Place:
    """A folder an agent writes its logs under, and the patterns of its log files there."""

    agent: str
    root: Path
    patterns: tuple[str, ...]

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted({path for pattern in self.patterns for path in self.root.glob(pattern)
                       if path.is_file()})


@dataclass(frozen=True)
class Found:
    """An agent's log files in one place: how many, and their size."""

    agent: str
    root: Path
    files: tuple[Path, ...]
    size_bytes: int


def agent_names(text: str) -> list[str]:
    """The agents a `--from` value names: a comma-separated list, or `all`."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise UsageError(f"--from {text!r}: name coding agents ({', '.join(AGENTS)}) or all")
    if ALL in names:
        return list(AGENTS)
    unknown = [name for name in names if ALIASES.get(name, name) not in AGENTS]
    if unknown:
        raise UsageError(f"--from: unknown coding agent {unknown[0]!r}; known: "
                         f"{', '.join(AGENTS)} (or all)")
    return list(dict.fromkeys(ALIASES.get(name, name) for name in names))


def places(agent: str, environ: Mapping[str, str] | None = None, home: Path | None = None,
           platform: str | None = None) -> list[Place]:
    """Where `agent` keeps its logs, given the environment (default: this process's), the
    home folder and the platform (sys.platform's values)."""
    environ = os.environ if environ is None else environ
    home = home or Path(environ.get("HOME") or environ.get("USERPROFILE") or Path.home())
    platform = platform or sys.platform
    return list(_PLACES[agent](environ, home, platform))


def find(agents: Sequence[str], environ: Mapping[str, str] | None = None,
         home: Path | None = None, platform: str | None = None) -> list[Found]:
    """The log files of each agent in each of its places that holds some."""
    found = []
    for agent in agents:
        for place in places(agent, environ, home, platform):
            files = place.files()
            if files:
                found.append(Found(agent, place.root, tuple(files),
                                   sum(path.stat().st_size for path in files)))
    return found


def agent_logs(text: str, environ: Mapping[str, str] | None = None, home: Path | None = None,
               platform: str | None = None) -> list[str]:
    """The log files of the agents `text` names (`--from`'s value): each named agent must
    have some; with `all`, those found, at least one."""
    names = agent_names(text)
    found = find(names, environ, home, platform)
    if text.strip().lower() != ALL:
        for name in names:
            if not any(item.agent == name for item in found):
                looked = ", ".join(str(place.root) for place in
                                   places(name, environ, home, platform))
                raise InputError(f"--from {name}: no {LABELS[name]} logs found (looked in "
                                 f"{looked})")
    elif not found:
        raise InputError("--from all: no coding agent's logs found on this machine")
    paths = list(dict.fromkeys(str(path) for item in found for path in item.files))
    return paths


def _claude_code(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Place]:
    """CLAUDE_CONFIG_DIR, a comma-separated list as ccusage reads it (each a config folder or
    its projects/ folder; ryoppippi/ccusage rust/crates/ccusage/src/adapter/claude/paths.rs);
    else both $XDG_CONFIG_HOME/claude (~/.config/claude) and ~/.claude, the old and new
    defaults. Session logs and sub-agents' files are under projects/."""
    patterns = ("projects/**/*.jsonl",)
    listed = [part.strip() for part in environ.get("CLAUDE_CONFIG_DIR", "").split(",")
              if part.strip()]
    if listed:
        for raw in listed:
            root = _expand(raw, home)
            yield Place("claude-code", root.parent if root.name == "projects" else root,
                        patterns)
        return
    config = _expand(environ["XDG_CONFIG_HOME"], home) if environ.get("XDG_CONFIG_HOME") \
        else home / ".config"
    yield Place("claude-code", config / "claude", patterns)
    yield Place("claude-code", home / ".claude", patterns)


def _codex(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Place]:
    """CODEX_HOME, else ~/.codex (openai/codex codex-rs/core/src/config.rs, find_codex_home;
    a comma-separated list as ccusage allows); rollouts under sessions/ and
    archived_sessions/."""
    patterns = ("sessions/**/*.jsonl", "archived_sessions/**/*.jsonl")
    listed = [part.strip() for part in environ.get("CODEX_HOME", "").split(",") if part.strip()]
    for root in [_expand(raw, home) for raw in listed] or [home / ".codex"]:
        yield Place("codex", root, patterns)


def _gemini(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Place]:
    """GEMINI_CLI_HOME stands for the home folder (google-gemini/gemini-cli
    packages/core/src/utils/paths.ts, homedir()); sessions in .gemini/tmp/<project>/chats/."""
    root = _expand(environ["GEMINI_CLI_HOME"], home) if environ.get("GEMINI_CLI_HOME") \
        else home
    yield Place("gemini", root / ".gemini" / "tmp", ("*/chats/*.json", "*/chats/*.jsonl"))


def _qwen(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Place]:
    """~/.qwen, from the home folder alone (QwenLM/qwen-code packages/core/src/config/
    storage.ts, Storage.getGlobalQwenDir); chats in projects/<project>/chats/ (older builds:
    tmp/<project>/chats/, as Gemini CLI's)."""
    yield Place("qwen", home / ".qwen", ("projects/*/chats/*.jsonl", "tmp/*/chats/*.json",
                                         "tmp/*/chats/*.jsonl"))


def _opencode(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Place]:
    """$XDG_DATA_HOME/opencode (~/.local/share/opencode, on every platform: xdg-basedir, in
    anomalyco/opencode packages/opencode/src/global/index.ts); the database opencode.db, or
    opencode-<channel>.db, or OPENCODE_DB (a path, absolute or in that folder; its
    src/storage/db.ts)."""
    data = (_expand(environ["XDG_DATA_HOME"], home) if environ.get("XDG_DATA_HOME")
            else home / ".local" / "share") / "opencode"
    named = environ.get("OPENCODE_DB", "").strip()
    if named and named != ":memory:":
        path = data / named if not Path(named).is_absolute() else Path(named)
        yield Place("opencode", path.parent, (path.name,))
        return
    yield Place("opencode", data, ("opencode.db", "opencode-*.db"))


def _copilot(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Place]:
    """COPILOT_HOME, else ~/.copilot (github/copilot-cli changelog.md: --config-dir is
    deprecated in favor of COPILOT_HOME; sessions in session-state/ since 0.0.342)."""
    root = _expand(environ["COPILOT_HOME"], home) if environ.get("COPILOT_HOME") \
        else home / ".copilot"
    yield Place("copilot", root, ("session-state/*/events.jsonl",))


def _cline(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Place]:
    """The VS Code extensions' storage (globalStorage/<extension id>/tasks/<id>/), in each
    editor's user data folder as VS Code finds it (microsoft/vscode src/vs/platform/
    environment/node/userDataPath.ts: VSCODE_PORTABLE, VSCODE_APPDATA, then %APPDATA%,
    ~/Library/Application Support or $XDG_CONFIG_HOME (~/.config)), and remote VS Code's
    ~/.vscode-server/data; and Cline's own data folder, CLINE_DATA_DIR or $CLINE_DIR/data
    (~/.cline/data: cline/cline apps/vscode/src/shared/storage/storage-context.ts)."""
    patterns = ("tasks/*/ui_messages.json",)
    for user_data in _editor_user_data(environ, home, platform):
        for extension in CLINE_EXTENSIONS:
            yield Place("cline", user_data / "User" / "globalStorage" / extension, patterns)
    if environ.get("CLINE_DATA_DIR", "").strip():
        data = _expand(environ["CLINE_DATA_DIR"].strip(), home)
    else:
        cline = environ.get("CLINE_DIR", "").strip()
        data = (_expand(cline, home) if cline else home / ".cline") / "data"
    yield Place("cline", data, patterns)


def _editor_user_data(environ: Mapping[str, str], home: Path, platform: str) -> Iterator[Path]:
    if environ.get("VSCODE_PORTABLE"):
        yield _expand(environ["VSCODE_PORTABLE"], home) / "user-data"
    if environ.get("VSCODE_APPDATA"):
        app_data = _expand(environ["VSCODE_APPDATA"], home)
    elif platform == "win32":
        app_data = Path(environ["APPDATA"]) if environ.get("APPDATA") \
            else home / "AppData" / "Roaming"
    elif platform == "darwin":
        app_data = home / "Library" / "Application Support"
    else:
        app_data = _expand(environ["XDG_CONFIG_HOME"], home) if environ.get("XDG_CONFIG_HOME") \
            else home / ".config"
    for editor in EDITORS:
        yield app_data / editor
    yield home / ".vscode-server" / "data"


def _expand(raw: str, home: Path) -> Path:
    """A path from a variable, ~ standing for the home folder."""
    if raw == "~":
        return home
    if raw.startswith("~/"):
        return home / raw[2:]
    return Path(raw)


_PLACES = {"claude-code": _claude_code, "codex": _codex, "gemini": _gemini, "qwen": _qwen,
           "opencode": _opencode, "copilot": _copilot, "cline": _cline}
