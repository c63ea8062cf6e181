"""Claude Code's steps, once every file of the run is read: the rules that need all of them.

- One API response is written as one line per content block, each repeating the usage, the
  earlier ones sometimes with a partial `output_tokens`; a resumed session repeats earlier
  lines in a new file; a sub-agent's replay repeats a parent message under a new `requestId`.
  A response is its `message.id` (its `requestId` where it has no id; a line with neither is a
  response of its own) and counts once, across files, with its largest usage: on a tie, the
  main conversation's line before a sub-agent's, then the first read.
- A tool call is its `tool_use` id, counted once.
- Tasks are user prompts, numbered through each session in time order; a prompt copied into
  another file (same uuid) is the prompt first written. A step belongs to the prompt before
  it in its file; a sub-agent's file, which holds no prompt, belongs to the prompt in force
  when the sub-agent started (its first line's time), for all three layouts.
- `<synthetic>` and API-error lines were left out while reading; cache writes with no
  `cache_creation` object are 5-minute ones; fast mode is the `fast` service tier; advisor
  calls (`usage.iterations`) are requests of their own, on the advisor's model; web searches
  and fetches (`server_tool_use`) are tool steps priced per request.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from agentcost.errors import InputError
from agentcost.ingest.accounting import LineAccounting
from agentcost.ingest.coding import claude_parse
from agentcost.ingest.coding.claude_lines import (
    EXAMPLES,
    ClaudeRows,
    ParseOptions,
    read_claude_file,
)
from agentcost.ingest.coding.claude_parse import Deferred, ParseBatch, batches
from agentcost.ingest.timeparse import parse_time
from agentcost.parallel import Jobs, Workers, jobs_for, ordered_map
from agentcost.schema import conform

AGENT = "claude-code"
WEB_SEARCH = "anthropic_web_search"
WEB_FETCH = "anthropic_web_fetch"
MAIN, SUBAGENT, ADVISOR = "main", "subagent", "advisor"
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
          "cache_5m_tokens", "cache_1h_tokens")
REPEATED_RESPONSE = ("assistant line repeating a response already counted (a line per content "
                     "block, a resumed session's copy, a sub-agent's replay): counted once, "
                     "with its largest usage")
REPEATED_TOOL = "tool call logged again (same tool_use id): counted once"
NO_TIME = "no readable timestamp: the step has no start time"
NEGATIVE = "negative token count"


@dataclass
class ClaudeRun:
    """Every Claude Code file of a run, to be made into steps together (a `Finishing`).
    Plain files are parsed once all are known, on `jobs` processes; streams (gzip, stdin)
    as they come."""

    task_key: str
    options: ParseOptions
    jobs: Jobs = 1
    rows: ClaudeRows = field(default_factory=ClaudeRows)
    deferred: list[Deferred] = field(default_factory=list)
    deferred_bytes: int = 0
    # Started as soon as the files noted are enough to be parsed on several processes (more
    # than one batch, for more than one process), so that they are ready once every file is
    # known.
    workers: Workers | None = None

    def defer(self, display: str, path: Path, size: int) -> None:
        self.deferred.append(Deferred(self.rows.start_file(display), display, path, size))
        self.deferred_bytes += size
        if (self.workers is None and self.deferred_bytes > claude_parse.BATCH_BYTES
                and (jobs := jobs_for(self.jobs, self.deferred_bytes)) > 1):
            self.workers = Workers(jobs - 1)

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()

    def read_now(self, stream: BinaryIO, display: str, accounting: LineAccounting) -> None:
        read_claude_file(stream, display, self.rows.start_file(display), accounting,
                         self.rows, self.options)

    def steps(self, accounting: LineAccounting) -> pl.DataFrame:
        self._parse_deferred(accounting)
        rows, self.rows = self.rows, ClaudeRows()
        displays = rows.displays
        for why, places in rows.no_call.items():
            first = places[0][0]
            lines = [line for file, line in places if file == first][:EXAMPLES]
            accounting.note(why, displays[first], lines, count=len(places))
        responses = _kept_responses(rows.frame("responses"), rows.repeated,
                                    rows.repeated_count, displays, accounting)
        tools = _kept_tools(rows.frame("tools"), displays, accounting)
        advisors = rows.frame("advisors").join(
            responses.select("_file", "line", *_attributes()), on=["_file", "line"])
        prompts = _numbered_prompts(rows.frame("prompts"))
        names = _agent_names(rows)
        llm = pl.concat([
            responses.with_columns(pl.lit(0, pl.Int8).alias("_order")),
            advisors.with_columns(pl.lit(1, pl.Int8).alias("_order"),
                                  pl.lit(ADVISOR).alias("_name")),
        ], how="diagonal_relaxed")
        calls = pl.concat([tools.with_columns(pl.lit(3, pl.Int8).alias("_order")),
                           _server_tools(responses)], how="diagonal_relaxed")
        steps = pl.concat([llm, calls], how="diagonal_relaxed")
        if steps.is_empty():
            return conform(pl.DataFrame())
        steps = _timed(steps, displays, accounting)
        steps = _with_prompts(steps, prompts)
        steps = steps.join(names, on="agent_id", how="left") if names.height else (
            steps.with_columns(pl.lit(None, pl.String).alias("agent_type")))
        # In file and line order (`_with_prompts`), as read_steps wants them.
        return conform(_canonical(steps, displays, self.task_key).drop("_file"))

    def _parse_deferred(self, accounting: LineAccounting) -> None:
        """The noted files parsed, in batches on `jobs` processes, into the run's rows."""
        deferred, self.deferred = self.deferred, []
        jobs = jobs_for(self.jobs, self.deferred_bytes)
        workers, self.workers, self.deferred_bytes = self.workers, None, 0
        for parsed in ordered_map(ParseBatch(self.options), batches(deferred), jobs=jobs,
                                  workers=workers):
            accounting.absorb(parsed.accounting)
            self.rows.absorb(parsed.rows)
            if parsed.error is not None:
                raise InputError(parsed.error)


def _attributes() -> tuple[str, ...]:
    """What an advisor's call takes from the response it was part of."""
    return ("session_id", "timestamp", "sidechain", "agent_id", "cwd", "git_branch",
            "message_id", "service_tier")


def _kept_responses(rows: pl.DataFrame, repeated: list[tuple[int, int]], repeated_count: int,
                    displays: list[str], accounting: LineAccounting) -> pl.DataFrame:
    """Each response once: its line with the largest usage (on a tie, the main
    conversation's, then the first read). `repeated`: the first of the lines already folded
    into the line kept for their response as they were read (`repeated_count` of them); they
    and the lines repeating it here are noted."""
    rows = _without_negative(rows, displays, accounting)
    total = pl.sum_horizontal(pl.col("input_tokens", "output_tokens", "cache_read_tokens",
                                     "cache_creation_tokens").fill_null(0))
    # Decided on the few columns it needs; the rows kept are taken once, at the end.
    order = _read_order(rows, "key", "sidechain", total.alias("_total"))
    keyed = order.filter(pl.col("key").is_not_null())
    best = (keyed.sort(["_total", "sidechain", "_read"], descending=[True, False, False])
            .unique("key", keep="first"))
    if repeated_count or best.height < keyed.height:
        dropped = keyed.join(best.select("_read"), on="_read", how="anti")
        first = pl.concat([
            pl.DataFrame(heapq.nsmallest(EXAMPLES, repeated), schema={"_file": pl.Int32(),
                                                              "line": pl.Int64()},
                         orient="row"),
            dropped.sort("_read").head(EXAMPLES).select("_file", "line")]).sort("_file", "line")
        _note(accounting, REPEATED_RESPONSE, first, displays,
              count=repeated_count + dropped.height)
    kept = _taken(rows, [best, order.filter(pl.col("key").is_null())])
    return kept.rename({"key": "message_id"})


def _read_order(rows: pl.DataFrame, *columns: str | pl.Expr) -> pl.DataFrame:
    """`columns` of the rows in file and line order (`_read`), each with its place in
    `rows` (`_row`)."""
    return (rows.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), "_file", "line",
                        *columns)
            .sort("_file", "line", "_row").with_row_index("_read"))  # ties: as in `rows`


def _taken(rows: pl.DataFrame, parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The rows `parts` name (by `_row`), in reading order (`_read`)."""
    taken = pl.concat([part.select("_read", "_row") for part in parts]).sort("_read")
    return rows[taken["_row"]]


def _without_negative(rows: pl.DataFrame, displays: list[str], accounting: LineAccounting
                      ) -> pl.DataFrame:
    """A line with a negative count is bad data: skipped, not a response."""
    negative = pl.any_horizontal(pl.col(*TOKENS, "web_search_requests",
                                        "web_fetch_requests") < 0).fill_null(False)
    bad = rows.filter(negative)
    if bad.is_empty():
        return rows
    for (index,), part in bad.group_by("_file", maintain_order=True):
        lines = part["line"].to_list()
        accounting.lines_used -= len(lines)
        accounting.skip(NEGATIVE, displays[int(index)], lines)
    return rows.filter(~negative)


def _kept_tools(rows: pl.DataFrame, displays: list[str], accounting: LineAccounting
                ) -> pl.DataFrame:
    """Each tool call once, by its id (a call without an id is its own)."""
    order = _read_order(rows, "call_id", "sidechain")
    keyed = order.filter(pl.col("call_id").is_not_null())
    first = keyed.sort("sidechain", "_read").unique("call_id", keep="first")
    if first.height < keyed.height:
        dropped = keyed.join(first.select("_read"), on="_read", how="anti").sort("_read")
        _note(accounting, REPEATED_TOOL, dropped, displays)
    return _taken(rows, [first, order.filter(pl.col("call_id").is_null())])


def _note(accounting: LineAccounting, what: str, rows: pl.DataFrame, displays: list[str], *,
          count: int | None = None) -> None:
    """Noted once, with the first examples (from the first file they are in); `count`: all
    of them, when `rows` holds only the first."""
    first = int(rows["_file"][0])
    lines = rows.filter(pl.col("_file") == first)["line"].head(EXAMPLES).to_list()
    accounting.note(what, displays[first], lines, count=rows.height if count is None else count)


def _server_tools(responses: pl.DataFrame) -> pl.DataFrame:
    """A tool step per web search and per web fetch a response's usage counts."""
    parts = []
    for column, tool, order in (("web_search_requests", WEB_SEARCH, 4),
                                ("web_fetch_requests", WEB_FETCH, 5)):
        used = responses.filter(pl.col(column).fill_null(0) > 0)
        if used.height:
            parts.append(
                used.select("_file", "line", *_attributes(), pl.col(column).alias("_n"))
                .with_columns(pl.int_ranges(0, "_n").alias("_i")).explode("_i")
                .drop("_n", "_i")
                .with_columns(pl.lit(tool).alias("tool_name"), pl.lit(order, pl.Int8)
                              .alias("_order")))
    return pl.concat(parts) if parts else pl.DataFrame()


def _timed(rows: pl.DataFrame, displays: list[str], accounting: LineAccounting
           ) -> pl.DataFrame:
    """Start times parsed (once for the run: each call has a cost of its own); steps without
    one are noted."""
    rows = rows.with_columns(parse_time(rows["timestamp"]).alias("start_time"))
    untimed = rows.filter(pl.col("start_time").is_null()).sort("_file", "line")
    if untimed.height:
        _note(accounting, NO_TIME, untimed, displays)
    return rows.drop("timestamp")


def _numbered_prompts(prompts: pl.DataFrame) -> pl.DataFrame:
    """Every prompt line with the prompt it is: a prompt copied into another file (a resumed
    session's copy, same uuid) is the one first written. Prompts are numbered through their
    session in time order."""
    prompts = prompts.with_columns(
        parse_time(prompts["timestamp"]).alias("_at"),
        pl.coalesce("uuid", pl.format("{}:{}", "_file", "line")).alias("_prompt"))
    first = (prompts.sort("_at", "_file", "line", nulls_last=True)
             .unique("_prompt", keep="first")
             .sort("session_id", "_at", "_file", "line", nulls_last=True)
             .select("_prompt", pl.col("session_id").alias("task_session"),
                     pl.int_range(1, pl.len() + 1).over("session_id").alias("prompt")))
    return prompts.join(first, on="_prompt").select(
        "_file", "line", "session_id", "_at", "task_session", "prompt")


def _with_prompts(rows: pl.DataFrame, prompts: pl.DataFrame) -> pl.DataFrame:
    """Each step's prompt (`task_session`, `prompt`), the steps in file and line order: the
    last prompt before it in its file and session; in a file without that session's prompts
    (a sub-agent's), the one in force at the file's first step of it; before any prompt, the
    session's first."""
    prompt = ("task_session", "prompt")
    rows = rows.sort("_file", "line", "_order")
    # Both in file and line order, so in line order within each file and session.
    steps = rows.select("_file", "line", "session_id", "start_time").join_asof(
        prompts.select("_file", "line", "session_id", *prompt).sort("_file", "line"),
        on="line", by=["_file", "session_id"], strategy="backward", check_sortedness=False)
    unplaced = steps.filter(pl.col("prompt").is_null())
    if unplaced.height and prompts.height:
        spawned = (unplaced.group_by("_file", "session_id")
                   .agg(pl.col("start_time").min().alias("_at"))
                   .filter(pl.col("_at").is_not_null()).sort("_at"))
        in_force = spawned.join_asof(
            prompts.filter(pl.col("_at").is_not_null()).sort("_at")
            .select("session_id", "_at", *(pl.col(name).alias(f"_{name}") for name in prompt)),
            on="_at", by="session_id", strategy="backward", check_sortedness=False)
        steps = (
            steps.join(in_force.select("_file", "session_id",
                                       *(f"_{name}" for name in prompt)),
                       on=["_file", "session_id"], how="left", maintain_order="left")
            .with_columns(pl.coalesce(name, f"_{name}").alias(name) for name in prompt))
    return rows.with_columns(
        steps["task_session"].fill_null(rows["session_id"]),
        steps["prompt"].fill_null(1))


def _agent_names(rows: ClaudeRows) -> pl.DataFrame:
    """Sub-agent id -> its type, from the Task call that started it."""
    links = rows.frame("agent_links").unique("agent_id", keep="first")
    types = rows.frame("agent_types").unique("call_id", keep="first")
    return links.join(types, on="call_id").select("agent_id", "agent_type")


def _canonical(rows: pl.DataFrame, displays: list[str], task_key: str) -> pl.DataFrame:
    task = (pl.col("session_id") if task_key == "session"
            else pl.format("{}/{}", "task_session", "prompt"))
    name = pl.coalesce(
        "_name",
        pl.when(pl.col("sidechain")).then(pl.coalesce("agent_type", pl.lit(SUBAGENT)))
        .otherwise(pl.lit(MAIN)))
    is_llm = pl.col("_order") <= 1
    known = pl.col("input_tokens").is_not_null() | pl.col("output_tokens").is_not_null()
    written = pl.col("cache_creation_tokens")
    one_hour = pl.col("cache_1h_tokens").fill_null(0)
    # Without `cache_creation`, a write is a 5-minute one; with it, its 1-hour part is
    # billed as such and the rest as 5-minute.
    cache_1h = pl.when(written.is_null()).then(one_hour).otherwise(pl.min_horizontal(
        one_hour, written))
    cache_5m = pl.when(written.is_null()).then(pl.col("cache_5m_tokens").fill_null(0)
                                               ).otherwise(written - cache_1h)
    tokens = pl.col("input_tokens", "output_tokens", "cache_read_tokens")
    total = pl.sum_horizontal(tokens.fill_null(0), written.fill_null(0))
    # A cost of 0 on a response that used tokens is no cost recorded, not a free call.
    reported = pl.when((pl.col("reported_cost_usd") > 0) | (total == 0)).then(
        pl.col("reported_cost_usd"))

    def on_llm(expr: pl.Expr) -> pl.Expr:
        return pl.when(is_llm).then(expr)

    return rows.select(
        "_file", task.alias("task_id"), "session_id", "start_time",
        pl.col("cwd").alias("project"), "git_branch", name.alias("name"),
        pl.col("line").alias("source_line"),
        pl.when(is_llm).then(pl.lit("llm")).otherwise(pl.lit("tool")).alias("kind"),
        on_llm(pl.col("model")).alias("model"),
        pl.coalesce("call_id", "message_id").alias("span_id"),
        on_llm(pl.col("service_tier")).alias("service_tier"),
        on_llm(reported).alias("reported_cost_usd"),
        on_llm(pl.col("input_tokens")).alias("input_tokens"),
        on_llm(pl.when(known).then(pl.col("cache_read_tokens").fill_null(0)))
        .alias("cache_read_tokens"),
        on_llm(pl.when(known).then(cache_5m)).alias("cache_write_5m_tokens"),
        on_llm(pl.when(known).then(cache_1h)).alias("cache_write_1h_tokens"),
        on_llm(pl.col("output_tokens")).alias("output_tokens"),
        on_llm(pl.when(known).then(pl.lit(0, pl.Int64))).alias("reasoning_tokens"),
        "tool_name", "tool_args", pl.lit(AGENT).alias("workflow"),
        pl.col("_file").replace_strict(dict(enumerate(displays)), return_dtype=pl.String)
        .alias("source_file"))
