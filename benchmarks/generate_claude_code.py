"""Seeded generator of a Claude Code projects folder, as Claude Code writes it, for benchmarks.

`OUT/projects/<encoded working directory>/<session id>.jsonl`, one file per session, in the
shapes the real logs have:

- one line per content block of an API response (thinking, text, each tool_use), every line
  repeating `message.id`, `requestId` and the usage; on half the responses the earlier lines
  carry a partial `output_tokens`, the last line the final count;
- sessions through Bedrock (`msg_bdrk_...` ids, no `requestId` on any line);
- tool results as user lines (file contents, command output), hook `progress` lines,
  `file-history-snapshot`, `summary` lines at the start of a file, `system` lines, API errors
  written as `<synthetic>` assistant lines;
- slash commands (a caveat, the `<command-name>` wrapper and its stdout: no prompt);
- sub-agents in the three layouts: inline (`isSidechain: true`) in 1.x sessions,
  `agent-<id>.jsonl` beside the session (2.0.x), `<session>/subagents/agent-<id>.jsonl` (2.1.x);
- 5-minute and 1-hour cache writes, lines with no `cache_creation` object (5-minute), web
  searches (`server_tool_use`);
- resumed sessions: a new file that starts with a copy of the earlier session's lines.

Beside the folder, `truth.json` gives what a correct reader finds: each response counted once
with its final usage (token buckets, responses, prompts, web searches).

    python benchmarks/generate_claude_code.py --megabytes 600 --seed 7 -o benchmarks/out/cc
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
DAYS = 30
PROJECTS = ("api-server", "web-app", "data-pipeline", "infra", "mobile", "docs-site",
            "ml-training", "cli-tools")
MAIN_MODELS = (("claude-opus-4-6", 0.45), ("claude-sonnet-4-5-20250929", 0.45),
               ("claude-haiku-4-5-20251001", 0.10))
SUBAGENT_MODEL = "claude-haiku-4-5-20251001"
# Claude Code versions and where they write sub-agents.
VERSIONS = (("1.0.128", "inline"), ("2.0.76", "beside"), ("2.1.38", "subagents"))
TOOLS = ("Read", "Bash", "Edit", "Grep", "Glob", "Write", "TodoWrite", "WebFetch")
BEDROCK_SHARE = 0.2
PARTIAL_SHARE = 0.5
SUBAGENT_SHARE = 0.06
ERROR_SHARE = 0.01
SEARCH_SHARE = 0.02
RESUME_SHARE = 0.05
SLASH_SHARE = 0.1
SUMMARY_SHARE = 0.2


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Truth:
    """What each response really used, counted once."""

    responses: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    prompts: int = 0
    web_searches: int = 0
    sessions: int = 0
    subagent_files: int = 0
    bytes: int = 0
    files: int = 0
    lines: int = 0


@dataclass
class Session:
    """One session file being written: its lines, and where they go."""

    session_id: str
    project: str
    version: str
    layout: str
    bedrock: bool
    model: str
    clock: datetime
    lines: list[str] = field(default_factory=list)
    parent: str | None = None
    # Sub-agent files of this session: path relative to the project folder, lines.
    agents: list[tuple[str, list[str]]] = field(default_factory=list)


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.truth = Truth()
        alphabet = string.ascii_letters + string.digits + "    \n{}();=._-"
        # Text of every size, cut from one block: file contents, command output, thinking.
        self.block = "".join(rng.choice(alphabet) for _ in range(64 * 1024))

    # -- small pieces --------------------------------------------------------------------

    def text(self, low: int, high: int) -> str:
        size = min(int(self.rng.lognormvariate(0, 1) * low) + 16, high)
        start = self.rng.randrange(0, len(self.block) - size)
        return self.block[start : start + size]

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def message_id(self, bedrock: bool) -> str:
        token = "".join(self.rng.choices(string.ascii_letters + string.digits, k=24))
        return f"msg_bdrk_01{token}" if bedrock else f"msg_01{token}"

    def tick(self, session: Session, low: float, high: float) -> str:
        session.clock += timedelta(seconds=self.rng.uniform(low, high))
        return session.clock.strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{session.clock.microsecond // 1000:03d}Z")

    def base(self, session: Session, *, sidechain: bool, agent: str | None = None
             ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "parentUuid": self.uid(), "isSidechain": sidechain, "userType": "external",
            "cwd": f"/home/dev/src/{session.project}", "sessionId": session.session_id,
            "version": session.version, "gitBranch": self.rng.choice(("main", "main", "dev")),
        }
        if agent is not None:
            record["agentId"] = agent
        return record

    # -- records -------------------------------------------------------------------------

    def prompt(self, session: Session) -> list[str]:
        lines = []
        if self.rng.random() < SLASH_SHARE:  # a slash command: no prompt
            for content, meta in (
                ("<local-command-caveat>Caveat: The messages below were generated by the user "
                 "while running local commands.</local-command-caveat>", True),
                ("<command-name>/mcp</command-name>\n<command-message>mcp</command-message>\n"
                 "<command-args></command-args>", False),
                ("<local-command-stdout>Reconnected.</local-command-stdout>", False)):
                record = self.base(session, sidechain=False)
                record.update(type="user", message={"role": "user", "content": content},
                              uuid=self.uid(), timestamp=self.tick(session, 1, 5))
                if meta:
                    record["isMeta"] = True
                lines.append(_dumps(record))
        record = self.base(session, sidechain=False)
        record.update(type="user", message={"role": "user", "content": self.text(40, 600)},
                      uuid=self.uid(), timestamp=self.tick(session, 20, 600),
                      thinkingMetadata={"maxThinkingTokens": 31999}, todos=[],
                      permissionMode="default")
        lines.append(_dumps(record))
        self.truth.prompts += 1
        return lines

    def usage(self, context: int, bedrock: bool, *, count: bool) -> tuple[dict[str, Any], int]:
        rng = self.rng
        write = rng.randint(100, 20_000) if rng.random() < 0.7 else 0
        usage: dict[str, Any] = {
            "input_tokens": rng.randint(1, 60),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": context,
        }
        one_hour = not bedrock and rng.random() < 0.6
        if not (bedrock and rng.random() < 0.4):  # else no cache_creation: all 5-minute
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": 0 if one_hour else write,
                                       "ephemeral_1h_input_tokens": write if one_hour else 0}
        output = rng.randint(20, 2500)
        usage["output_tokens"] = output
        searches = rng.randint(1, 3) if rng.random() < SEARCH_SHARE else 0
        if not bedrock:
            usage["server_tool_use"] = {"web_search_requests": searches, "web_fetch_requests": 0}
            usage["service_tier"] = "standard"
        if count:
            truth = self.truth
            truth.responses += 1
            truth.input_tokens += usage["input_tokens"]
            truth.output_tokens += output
            truth.cache_read_tokens += context
            truth.cache_write_1h_tokens += write if one_hour else 0
            truth.cache_write_5m_tokens += 0 if one_hour else write
            truth.web_searches += searches if not bedrock else 0
        return usage, output

    def response(self, session: Session, context: int, *, model: str, sidechain: bool,
                 agent: str | None, tools: int, count: bool = True,
                 first_tool: str | None = None) -> tuple[list[str], list[tuple[str, str]]]:
        """The lines of one API response: one per content block. Returns the lines and the
        tool calls made (id, name)."""
        rng = self.rng
        usage, output = self.usage(context, session.bedrock, count=count)
        blocks: list[dict[str, Any]] = []
        if rng.random() < 0.5:
            blocks.append({"type": "thinking", "thinking": self.text(200, 4000),
                           "signature": self.text(100, 400)})
        if rng.random() < 0.7 or tools == 0:
            blocks.append({"type": "text", "text": self.text(60, 2000)})
        calls = []
        for number in range(tools):
            name = first_tool if number == 0 and first_tool else rng.choice(TOOLS)
            call_id = "toolu_01" + "".join(rng.choices(string.ascii_letters, k=22))
            tool_input: dict[str, Any] = {"file_path": f"/home/dev/src/{session.project}/"
                                                       f"src/m{rng.randint(1, 400)}.py"}
            if name == "Bash":
                tool_input = {"command": f"pytest -q tests/t{rng.randint(1, 60)}.py",
                              "description": "Run the tests"}
            elif name in ("Write", "Edit"):
                tool_input["content"] = self.text(300, 6000)
            elif name == "Task":
                tool_input = {"description": "Explore the code", "prompt": self.text(100, 800),
                              "subagent_type": rng.choice(("Explore", "general-purpose"))}
            blocks.append({"type": "tool_use", "id": call_id, "name": name,
                           "input": tool_input})
            calls.append((call_id, name))
        message_id = self.message_id(session.bedrock)
        request_id = None if session.bedrock else (
            "req_011" + "".join(rng.choices(string.ascii_letters + string.digits, k=21)))
        partial = rng.random() < PARTIAL_SHARE
        lines = []
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            line_usage = dict(usage)
            if partial and not last:
                line_usage["output_tokens"] = min(output, rng.randint(1, 12))
            record = self.base(session, sidechain=sidechain, agent=agent)
            record.update(
                message={"model": model, "id": message_id, "type": "message",
                         "role": "assistant", "content": [block], "stop_reason": None,
                         "stop_sequence": None, "usage": line_usage},
                type="assistant", uuid=self.uid(), timestamp=self.tick(session, 0.2, 4))
            if request_id is not None:
                record["requestId"] = request_id
            lines.append(_dumps(record))
        return lines, calls

    def hooks(self, session: Session, call_id: str, name: str) -> list[str]:
        lines = []
        for command in ("guardian.ts", "pre-commit.sh"):
            record = self.base(session, sidechain=False)
            record.update(type="progress",
                          data={"type": "hook_progress", "hookEvent": "PreToolUse",
                                "hookName": f"PreToolUse:{name}", "command": command},
                          parentToolUseID=call_id, toolUseID=call_id,
                          timestamp=self.tick(session, 0.01, 0.1), uuid=self.uid())
            lines.append(_dumps(record))
        return lines

    def tool_result(self, session: Session, call_id: str, *, sidechain: bool,
                    agent: str | None, result: dict[str, Any] | None = None) -> str:
        output = self.text(200, 16_000)
        record = self.base(session, sidechain=sidechain, agent=agent)
        record.update(
            type="user",
            message={"role": "user", "content": [{"tool_use_id": call_id, "type": "tool_result",
                                                  "content": output, "is_error": False}]},
            uuid=self.uid(), timestamp=self.tick(session, 0.1, 8),
            toolUseResult=result or {"stdout": output[:200], "stderr": "",
                                     "interrupted": False, "isImage": False})
        return _dumps(record)

    def api_error(self, session: Session) -> list[str]:
        record = self.base(session, sidechain=False)
        record.update(type="system", subtype="api_error", level="error",
                      error={"status": 529, "message": "Overloaded"}, retryInMs=2000,
                      retryAttempt=1, maxRetries=10, uuid=self.uid(),
                      timestamp=self.tick(session, 1, 3))
        synthetic = self.base(session, sidechain=False)
        synthetic.update(
            type="assistant", isApiErrorMessage=True, uuid=self.uid(),
            timestamp=self.tick(session, 0.1, 1),
            message={"id": self.uid(), "model": "<synthetic>", "role": "assistant",
                     "type": "message", "content": [{"type": "text", "text": "API Error"}],
                     "usage": {"input_tokens": 0, "output_tokens": 0,
                               "cache_creation_input_tokens": 0,
                               "cache_read_input_tokens": 0}})
        return [_dumps(record), _dumps(synthetic)]

    def subagent(self, session: Session, call_id: str, context: int) -> list[str]:
        """A sub-agent's run, written where the session's version writes it: the lines that go
        into the session file (the run itself when inline) and the parent's tool result."""
        rng = self.rng
        agent = "".join(rng.choices("0123456789abcdef", k=7))
        inline = session.layout == "inline"
        lines: list[str] = []
        first = self.base(session, sidechain=True, agent=agent)
        first.update(type="user", message={"role": "user", "content": self.text(100, 800)},
                     uuid=self.uid(), timestamp=self.tick(session, 0.1, 0.5))
        lines.append(_dumps(first))
        agent_context = rng.randint(5_000, 30_000)
        for _ in range(rng.randint(3, 10)):
            response, calls = self.response(session, agent_context, model=SUBAGENT_MODEL,
                                            sidechain=True, agent=agent,
                                            tools=rng.randint(1, 3))
            lines += response
            for tool_call, _name in calls:
                lines.append(self.tool_result(session, tool_call, sidechain=True, agent=agent))
            agent_context += rng.randint(500, 6_000)
        result = self.tool_result(session, call_id, sidechain=False, agent=None,
                                  result={"status": "completed", "agentId": agent,
                                          "totalTokens": agent_context})
        if inline:
            return [*lines, result]
        where = (f"agent-{agent}.jsonl" if session.layout == "beside"
                 else f"{session.session_id}/subagents/agent-{agent}.jsonl")
        session.agents.append((where, lines))
        self.truth.subagent_files += 1
        return [result]

    # -- sessions ------------------------------------------------------------------------

    def session(self, number: int) -> Session:
        rng = self.rng
        version, layout = rng.choice(VERSIONS)
        models, weights = zip(*MAIN_MODELS, strict=True)
        day = START + timedelta(days=rng.randrange(DAYS), hours=rng.uniform(0, 12))
        session = Session(self.uid(), PROJECTS[number % len(PROJECTS)], version, layout,
                          rng.random() < BEDROCK_SHARE, rng.choices(models, weights)[0], day)
        self.truth.sessions += 1
        lines = session.lines
        if rng.random() < SUMMARY_SHARE:
            for _ in range(rng.randint(1, 3)):
                lines.append(_dumps({"type": "summary", "summary": self.text(20, 80),
                                     "leafUuid": self.uid()}))
        lines.append(_dumps({"type": "file-history-snapshot", "messageId": self.uid(),
                             "snapshot": {"messageId": self.uid(), "trackedFileBackups": {},
                                          "timestamp": self.tick(session, 0, 1)},
                             "isSnapshotUpdate": False}))
        for _ in range(rng.randint(3, 12)):
            lines += self.prompt(session)
            context = rng.randint(10_000, 40_000)
            for _ in range(rng.randint(2, 15)):
                if rng.random() < ERROR_SHARE:
                    lines += self.api_error(session)
                spawn = rng.random() < SUBAGENT_SHARE
                response, calls = self.response(
                    session, context, model=session.model, sidechain=False, agent=None,
                    tools=1 if spawn else rng.choice((0, 1, 1, 2)),
                    first_tool="Task" if spawn else None)
                lines += response
                for call_id, name in calls:
                    lines += self.hooks(session, call_id, name)
                    if name == "Task":
                        lines += self.subagent(session, call_id, context)
                    else:
                        lines.append(self.tool_result(session, call_id, sidechain=False,
                                                      agent=None))
                context += rng.randint(300, 8_000)
            if layout != "inline":
                record = self.base(session, sidechain=False)
                record.update(type="system", subtype="turn_duration",
                              durationMs=rng.randint(1000, 90_000), uuid=self.uid(),
                              timestamp=self.tick(session, 0.1, 1), isMeta=False)
                lines.append(_dumps(record))
        return session

    def resumed(self, earlier: Session) -> Session:
        """A session resumed from `earlier`: a new file that starts with a copy of the earlier
        conversation under the new session id, then goes on."""
        session = Session(self.uid(), earlier.project, earlier.version, earlier.layout,
                          earlier.bedrock, earlier.model, earlier.clock + timedelta(hours=2))
        self.truth.sessions += 1
        old, new = f'"sessionId":"{earlier.session_id}"', f'"sessionId":"{session.session_id}"'
        session.lines = [line.replace(old, new) for line in earlier.lines]
        session.lines += self.prompt(session)
        context = self.rng.randint(20_000, 60_000)
        for _ in range(self.rng.randint(2, 8)):
            response, _calls = self.response(session, context, model=session.model,
                                             sidechain=False, agent=None, tools=0)
            session.lines += response
            context += self.rng.randint(300, 3000)
        return session


def write_session(out: Path, session: Session, truth: Truth) -> None:
    folder = out / "projects" / f"-home-dev-src-{session.project}"
    files = [(f"{session.session_id}.jsonl", session.lines), *session.agents]
    for name, lines in files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        path.write_text(text, encoding="utf-8")
        truth.bytes += len(text.encode("utf-8"))
        truth.files += 1
        truth.lines += len(lines)


def generate(out: Path, *, megabytes: float, seed: int,
             progress: Callable[[int], None] | None = None) -> Truth:
    """Write sessions under `out/projects` until they hold `megabytes`; `out/truth.json`."""
    rng = random.Random(seed)
    generator = Generator(rng)
    truth = generator.truth
    number = 0
    while truth.bytes < megabytes * 1e6:
        session = generator.session(number)
        write_session(out, session, truth)
        if rng.random() < RESUME_SHARE:
            write_session(out, generator.resumed(session), truth)
        number += 1
        if progress is not None:
            progress(truth.bytes)
    (out / "truth.json").write_text(json.dumps(truth.__dict__, indent=2) + "\n")
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--output", required=True, help="folder to write projects/ in")
    args = parser.parse_args()
    out = Path(args.output)
    if (out / "projects").exists():
        sys.exit(f"{out / 'projects'} exists: remove it first")
    truth = generate(out, megabytes=args.megabytes, seed=args.seed)
    print(f"wrote {truth.files:,} files ({truth.sessions:,} sessions, {truth.subagent_files:,} "
          f"sub-agent files), {truth.lines:,} lines, {truth.bytes / 1e6:,.0f} MB to "
          f"{out / 'projects'}", file=sys.stderr)


if __name__ == "__main__":
    main()
