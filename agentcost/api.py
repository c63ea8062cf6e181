"""The library: read, price, report, check and render, as plain function calls.

No printing, no processes unless `jobs` asks for them, no global state. The command line is a
thin layer over these functions; a notebook or a scheduler calls them directly:

    >>> import agentcost
    >>> report = agentcost.report(["sample_traces/research_agent.jsonl"])
    >>> report.summary.total_cost_usd
    0.142
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard, cast

from agentcost.errors import AgentCostError, UsageError
from agentcost.ingest.limits import MAX_LINE_BYTES
from agentcost.limits import MAX_USD
from agentcost.parallel import Jobs

if TYPE_CHECKING:
    import polars as pl

    from agentcost.analysis.checks import Crossed
    from agentcost.analysis.opportunities import Opportunity, Reproduction
    from agentcost.analysis.report import AppliedWindow, Report
    from agentcost.engine.protocol import Executor, ReadRequest

    # "auto", "memory", "local" (agentcost/engine/), or an executor object.
    Engine = str | Executor
    from agentcost.ingest.accounting import LineAccounting
    from agentcost.ingest.read import Ingested, ReadProgress
    from agentcost.pricing.table import PriceTable
    from agentcost.simulation.engine import Simulation, SweepPoint
    from agentcost.simulation.scenario import Scenario
    from agentcost.store.ingest import IngestResult
    from agentcost.store.scan import StoreScan

# What the readers take: one path or many (files, directories, globs, .gz files, pipes, "-"
# for stdin). A DataFrame of canonical steps, or steps already read, skip reading.
Inputs = str | PathLike[str] | Sequence[str | PathLike[str]]

Moment = str | dt.datetime | None

TASK_KEYS = ("trace", "session")
# The columns every report reads; breakdowns and opportunities add theirs.
REPORT_COLUMNS = ("task_id", "step", "start_time", "duration_s", "kind", "model", "tool_name",
                  "reported_cost_usd", "reported_tool_cost_usd")
PRICED_COLUMNS = ("task_id", "step", "start_time", "duration_s", "kind", "model", "service_tier",
                  "input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                  "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
                  "tokens_estimated", "tool_name", "reported_cost_usd",
                  "reported_tool_cost_usd", "source_file", "source_line")
OPTIONAL_COLUMNS = ("workflow", "agent", "user", "name", "tool_args", "session_id", "project",
                    "git_branch")
SIMULATE_COLUMNS = ("task_id", "step", "start_time", "duration_s", "kind", "name", "model",
                    "tool_name", "tool_args", "reported_cost_usd", "reported_tool_cost_usd")
# The name of the scenario made of the command line's own flags.
FLAGS_SCENARIO = "command line"


class NoUsableInput(AgentCostError):
    """Lines were read but none could be used; `accounting` says why, line by line."""

    def __init__(self, accounting: LineAccounting) -> None:
        super().__init__(f"no usable line in {accounting.lines_read:,} "
                         f"{'line' if accounting.lines_read == 1 else 'lines'} read")
        self.accounting = accounting


@dataclass(frozen=True)
class Comparison:
    """Scenarios replayed on the same steps, side by side, and a budget sweep. `window_start`
    and `window_end`: the time window the steps were taken from, when one was given;
    `untimed_steps`: steps it left out for having no start time, `steps_outside`: those it left
    out for starting outside it; `accounting`: the lines read."""

    simulations: tuple[Simulation, ...]
    budget_sweep: tuple[SweepPoint, ...] = ()
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    untimed_steps: int = 0
    accounting: LineAccounting | None = None
    steps_outside: int = 0  # timed steps that started outside the window
    engine: str = "memory"  # the executor that read the steps (agentcost/engine/)


def agent_logs(agents: str | Sequence[str], *, environ: Mapping[str, str] | None = None,
               home: str | PathLike[str] | None = None) -> list[str]:
    """The log files of the coding agents named ("claude-code,codex", a list of names, or
    "all": those found), where each agent keeps them, honouring the environment variables the
    agents themselves read (CLAUDE_CONFIG_DIR, CODEX_HOME, GEMINI_CLI_HOME, XDG_DATA_HOME,
    COPILOT_HOME, CLINE_DIR, VS Code's...): the inputs for `report`, `simulate` or `compare`,
    as `--from` gives them. `environ` and `home` stand in for this process's. A named agent
    whose logs are not found is an InputError."""
    from agentcost.ingest.coding.locations import agent_logs as find_logs

    text = agents if isinstance(agents, str) else ",".join(agents)
    return find_logs(text, environ, None if home is None else Path(home))


def store_steps(inputs: Inputs, store: str | PathLike[str], *, input_format: str = "auto",
                task_key: str = "trace", jobs: Jobs = 1,
                max_line_bytes: int = MAX_LINE_BYTES) -> IngestResult:
    """Add the canonical steps of `inputs` that the steps store at `store` (a directory,
    made when new) does not hold yet, partitioned by day: a file read before is read only if
    it changed, a log that grew only from where the store stopped, and a step already held
    (from any source) is not stored again. Tokens are kept, not costs: `report(..., store=)`
    prices them with the table it is given."""
    from agentcost.store.ingest import Options
    from agentcost.store.ingest import ingest as add

    check_task_key(task_key)
    _checked(jobs, "computed")
    from agentcost.store.location import store_at

    return add(_paths(inputs), store_at(store), Options(input_format, task_key, jobs,
                                                        max_line_bytes))


def load_prices(path: str | PathLike[str] | None = None) -> PriceTable:
    """The price table at `path`, or the shipped one: validated, frozen, per-token prices."""
    from agentcost.pricing.table import load_price_table

    return load_price_table(None if path is None else Path(path))


def read_steps(inputs: Inputs, *, input_format: str = "auto", task_key: str = "trace",
               columns: Sequence[str] | None = None, jobs: Jobs = 1,
               progress: ReadProgress | None = None,
               max_line_bytes: int = MAX_LINE_BYTES) -> Ingested:
    """Every input read into the canonical step table (`.steps`, a polars DataFrame) and the
    account of every line read (`.accounting`). `input_format` forces a reader instead of
    recognising each file; `task_key` groups spans into tasks by trace, session,
    `resource.NAME` or `attribute.NAME`; `columns` limits the canonical columns filled (the
    rest are null); `jobs` reads big span files on that many processes ("auto": the cores
    this process may use, when the input is big enough to repay them); a line longer than
    `max_line_bytes` is skipped as too long, a JSON document larger refused (InputError)."""
    from agentcost.ingest.read import read_steps as read

    check_task_key(task_key)
    _checked(jobs, "computed")
    return read(_paths(inputs), columns=columns, input_format=input_format, task_key=task_key,
                progress=progress, jobs=jobs, max_line_bytes=max_line_bytes)


def report(inputs_or_steps: Inputs | pl.DataFrame | Ingested, *,
           prices: PriceTable | str | PathLike[str] | None = None, since: Moment = None,
           until: Moment = None, by: str | None = None, cost_mode: str = "computed",
           input_format: str = "auto", task_key: str = "trace", opportunities: bool = False,
           baseline: str | PathLike[str] | None = None, jobs: Jobs = 1,
           progress: ReadProgress | None = None,
           max_line_bytes: int = MAX_LINE_BYTES, charts: bool = False,
           store: str | PathLike[str] | None = None, engine: Engine = "auto") -> Report:
    """Price every step and build the report: `summary`, `distribution`, `tasks` (a polars
    DataFrame, one row per task), `by_model`, `by_tool`, the unpriced parts, the dashboard,
    and the line accounting. `since`/`until` keep the steps that started in [since, until):
    a datetime, an ISO 8601 text or a span back from now ("24h", "7d"). `by` adds a cost
    breakdown (user, workflow, agent, model, tool, day, hour, week, month, session, project,
    branch, block: README "Coding agents"); `opportunities` looks for savings by replaying
    each strategy; `baseline`, an earlier JSON report, adds the drift; `charts` adds the series
    the HTML report draws (cost over time by model, by workflow, by tool). `store`, a steps
    store `ingest` built, is read instead of or beside the inputs (give `()` for none): only
    the days the window needs. `engine`: where the work runs (memory, local: bounded memory,
    or auto; or an executor object), the same report either way; `report.engine` says which
    ran (`local` and `ray` read a store a part at a time)."""
    from agentcost.analysis.dashboard import BREAKDOWN_COLUMNS, BREAKDOWNS
    from agentcost.engine.protocol import ReportRequest
    from agentcost.pricing.resolve import near_name_finder

    _checked(jobs, cost_mode)
    table = _price_table(prices)
    if by is not None and by not in BREAKDOWNS:
        raise UsageError(f"by={by!r}: use one of {', '.join(BREAKDOWNS)}")
    window_start, window_end = _window(since, until)
    columns: tuple[str, ...] = REPORT_COLUMNS
    if table.compute_per_workflow:
        columns = (*columns, "workflow")
    columns = (*columns, *(c for c in BREAKDOWN_COLUMNS.get(by or "", ()) if c not in columns))
    if opportunities:  # step labels for routing, tool arguments for caching
        columns = (*columns, "name", "tool_args")
    if charts and "workflow" not in columns:
        columns = (*columns, "workflow")
    reading, stored = _reading(inputs_or_steps, store, window_start, window_end,
                               input_format=input_format, task_key=task_key, columns=columns,
                               jobs=jobs, progress=progress, max_line_bytes=max_line_bytes)
    executor = _executor(engine, reading)
    run = executor.report(ReportRequest(
        reading, table, cost_mode, window_start, window_end, by, charts, opportunities,
        near_name_finder(table)))
    result = run.report
    if stored is not None:
        result = replace(result, window=_stored_window(result.window, stored))
    if opportunities:
        result = replace(result, opportunities=_opportunities(
            executor, reading, run.steps, table, result, _reproduction(
                inputs_or_steps, window_start, window_end, prices, table, input_format,
                task_key, store), (window_start, window_end)))
    if baseline is not None:
        from agentcost.analysis.drift import drift, load_baseline

        result = replace(result, drift=drift(result, load_baseline(Path(baseline))))
    return result


def _opportunities(executor: Executor, reading: ReadRequest, kept: pl.DataFrame | None,
                   table: PriceTable, report: Report, reproduction: Reproduction,
                   window: tuple[dt.datetime | None, dt.datetime | None]
                   ) -> list[Opportunity]:
    """The savings found on the report's steps: those the executor kept (the window's, in one
    frame), or else those it reads again, a partition at a time."""
    from agentcost.analysis.opportunities import find_opportunities
    from agentcost.engine.memory import MemoryExecutor
    from agentcost.ingest.accounting import LineAccounting
    from agentcost.ingest.read import Ingested

    median = report.distribution.percentiles[50] if report.distribution else 0.0
    if kept is not None:
        given = replace(reading, paths=None, steps=Ingested(kept, LineAccounting()))
        return find_opportunities(MemoryExecutor(), given, table, reproduction, median)
    return find_opportunities(executor, reading, table, reproduction, median,
                              window_start=window[0], window_end=window[1])


def check(report: Report, *, max_task_cost: float | None = None,
          max_total: float | None = None, max_p90: float | None = None,
          max_p90_drift: float | None = None, baseline: str | PathLike[str] | None = None,
          fail_on_unpriced: bool = False, max_skipped: int = 0,
          max_skipped_percent: float | None = None, allow_empty: bool = False
          ) -> list[Crossed]:
    """What `report` fails: first what it could not vouch for ("max_skipped": more lines or
    spans skipped than `max_skipped` lines or `max_skipped_percent` of the lines and spans read;
    "no_steps": no step to check, unless `allow_empty`), then the thresholds it crosses, in
    the order given here; empty when all hold. At least one threshold is needed.
    `max_p90_drift` is a percentage rise of P90 against `baseline`, an earlier JSON report."""
    from agentcost.analysis.checks import Thresholds, crossed_thresholds

    if max_p90_drift is not None and baseline is None:
        raise UsageError("max_p90_drift needs a baseline (an earlier JSON report)")
    limits = Thresholds(max_task_cost=max_task_cost, max_total=max_total, max_p90=max_p90,
                        max_p90_drift=max_p90_drift, fail_on_unpriced=fail_on_unpriced,
                        max_skipped=max_skipped, max_skipped_percent=max_skipped_percent,
                        allow_empty=allow_empty)
    if not limits.any_threshold():
        raise UsageError("no threshold to check: give max_task_cost, max_total, max_p90, "
                         "max_p90_drift or fail_on_unpriced")
    for name, value in limits.amounts():
        if value < 0:
            raise UsageError(f"{name}={value:g}: a threshold is zero or more")
    loaded = None
    if baseline is not None and max_p90_drift is not None:
        from agentcost.analysis.drift import load_baseline

        loaded = load_baseline(Path(baseline))
    return crossed_thresholds(report, limits, loaded)


def simulate(inputs_or_steps: Inputs | pl.DataFrame | Ingested, scenario: Scenario, *,
             prices: PriceTable | str | PathLike[str] | None = None, since: Moment = None,
             until: Moment = None, cost_mode: str = "computed", input_format: str = "auto",
             task_key: str = "trace", jobs: Jobs = 1,
             progress: ReadProgress | None = None,
             max_line_bytes: int = MAX_LINE_BYTES,
             store: str | PathLike[str] | None = None, engine: Engine = "auto") -> Simulation:
    """Replay the steps under `scenario`: the baseline, each strategy alone, and all of them
    in order as a waterfall, with what each touched. `since`/`until` keep the steps that
    started in [since, until), as `report` does; `store`: as `report`. A scenario with no
    strategy is refused."""
    if scenario.is_identity:
        raise UsageError(f"scenario {scenario.name!r} enables no strategy: it would only "
                         "repeat the baseline")
    comparison = compare(inputs_or_steps, [scenario], prices=prices, since=since, until=until,
                         cost_mode=cost_mode, input_format=input_format, task_key=task_key,
                         jobs=jobs, progress=progress, max_line_bytes=max_line_bytes,
                         store=store, engine=engine)
    return comparison.simulations[0]


def compare(inputs_or_steps: Inputs | pl.DataFrame | Ingested, scenarios: Sequence[Scenario],
            *, budgets: Sequence[float] = (),
            prices: PriceTable | str | PathLike[str] | None = None, since: Moment = None,
            until: Moment = None, cost_mode: str = "computed", input_format: str = "auto",
            task_key: str = "trace", jobs: Jobs = 1, progress: ReadProgress | None = None,
            max_line_bytes: int = MAX_LINE_BYTES,
            store: str | PathLike[str] | None = None, engine: Engine = "auto") -> Comparison:
    """Several scenarios replayed on the same steps (read once), and, for each of `budgets`
    alone, the tasks it would cut and the money not spent. `since`/`until`, `store`,
    `engine`: as `report` (`local` replays a bucket of whole tasks at a time, in bounded
    memory; `ray`, a partition of them per task)."""
    from agentcost.analysis.report import AppliedWindow
    from agentcost.engine.simulated import SimulateRequest

    _checked(jobs, cost_mode)
    table = _price_table(prices)
    _require_priced_models(scenarios, table)
    _require_costs_to_compare(scenarios, cost_mode)
    if not all(0 < budget <= MAX_USD for budget in budgets):  # nan and inf too
        raise UsageError(f"budgets must be above 0 and at most {MAX_USD:,.0f}")
    window_start, window_end = _window(since, until)
    # Compute priced per workflow needs the workflow, as in `report`.
    columns = (*SIMULATE_COLUMNS, "workflow") if table.compute_per_workflow else SIMULATE_COLUMNS
    reading, stored = _reading(inputs_or_steps, store, window_start, window_end,
                               input_format=input_format, task_key=task_key, columns=columns,
                               jobs=jobs, progress=progress, max_line_bytes=max_line_bytes)
    executor = _executor(engine, reading)
    run = executor.simulate(SimulateRequest(
        reading, table, cost_mode, window_start, window_end, tuple(scenarios), tuple(budgets),
        None if progress is None else progress.stage))
    outside, untimed = run.steps_outside, run.steps_untimed
    if stored is not None:
        windowed = (AppliedWindow(window_start, window_end, outside, untimed)
                    if window_start is not None or window_end is not None else None)
        window = _stored_window(windowed, stored)
        outside, untimed = ((window.steps_outside, window.steps_untimed) if window
                            else (outside, untimed))
    return Comparison(run.simulations, run.budget_sweep, window_start, window_end, untimed,
                      run.accounting, outside, executor.name)


def render(result: Report | Simulation | Comparison | Sequence[Crossed], fmt: str = "table",
           *, sort: str = "total", top: int | None = None, width: int | None = None,
           color: bool = False) -> str:
    """`result` as text in `fmt`: a report, a simulation or a comparison as table, json, csv,
    markdown or html; crossed thresholds as table or json. A report's task table is sorted by
    `sort` (task, steps, tokens_in, tokens_out, llm, tool, compute, total) and cut to `top`
    tasks (default: 20 in a table, all elsewhere; html draws the first 100 and carries the rest
    in its CSV)."""
    from agentcost.renderers.dispatch import render_bytes

    return render_bytes(result, fmt, sort=sort, top=top, width=width,
                        color=color).decode("utf-8")


def check_task_key(task_key: str, *, called: str = "task_key") -> None:
    if task_key not in TASK_KEYS and not task_key.startswith(("resource.", "attribute.")):
        raise UsageError(f"{called} {task_key!r}: use trace, session, resource.NAME or "
                         "attribute.NAME")


def _price_table(prices: PriceTable | str | PathLike[str] | None) -> PriceTable:
    from agentcost.pricing.table import PriceTable

    return prices if isinstance(prices, PriceTable) else load_prices(prices)


def _require_priced_models(scenarios: Sequence[Scenario], table: PriceTable) -> None:
    """A route or summary model the price table does not know would reprice steps at $0 and
    show a saving that is not there: refuse it up front."""
    from agentcost.pricing.resolve import near_names, resolve_model
    from agentcost.simulation.strategies import STRATEGIES

    for scenario in scenarios:
        where = "" if scenario.name == FLAGS_SCENARIO else f" in scenario {scenario.name!r}"
        wanted = [needed for strategy in STRATEGIES if strategy.enabled(scenario)
                  for needed in strategy.models_priced(scenario)]
        for what, model in wanted:
            if resolve_model(model, table).model is None:
                near = near_names(model, table)
                hint = (f"did you mean {' or '.join(repr(name) for name in near)}? "
                        if near else "")
                raise UsageError(
                    f"{what}{where}: {model!r} is not in the price table, so its steps could "
                    f"not be priced; {hint}`agentcost pricing list` shows the names it knows")


def _reproduction(inputs_or_steps: Inputs | pl.DataFrame | Ingested,
                  since: dt.datetime | None, until: dt.datetime | None,
                  prices: PriceTable | str | PathLike[str] | None, table: PriceTable,
                  input_format: str, task_key: str,
                  store: str | PathLike[str] | None = None) -> Reproduction:
    """What the simulate command of each opportunity needs to measure the report's steps: the
    same inputs (TRACES for steps given as a frame) and store, window, price table and
    reading."""
    from agentcost.analysis.opportunities import Reproduction

    named = (["TRACES"] if not _is_inputs(inputs_or_steps)
             else [] if _no_inputs(inputs_or_steps) else _paths(inputs_or_steps))
    if store is not None:
        named += ["--store", str(store)]
    return Reproduction(tuple(named), since, until, None if prices is None else table.file,
                        input_format, task_key)


def _require_costs_to_compare(scenarios: Sequence[Scenario], cost_mode: str) -> None:
    """A step routed or compressed has no cost reported for what it becomes: with reported
    costs only, every such step would be unpriced and nothing measured."""
    if cost_mode != "reported":
        return
    for scenario in scenarios:
        if scenario.routes or scenario.compression is not None:
            where = "" if scenario.name == FLAGS_SCENARIO else f" (scenario {scenario.name!r})"
            raise UsageError(
                f"routing and history compression{where} change what a step costs, and no "
                "cost was reported for the changed steps: use the computed or auto cost mode")


def _window(since: Moment, until: Moment) -> tuple[dt.datetime | None, dt.datetime | None]:
    from agentcost.analysis.window import parse_moment

    now = dt.datetime.now(dt.UTC)

    def moment(value: Moment) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return parse_moment(value, now=now)

    start, end = moment(since), moment(until)
    if start is not None and end is not None and start >= end:
        raise UsageError(f"since ({start.isoformat()}) must be before until "
                         f"({end.isoformat()})")
    return start, end


def _is_inputs(value: Inputs | pl.DataFrame | Ingested) -> TypeGuard[Inputs]:
    import polars as pl

    from agentcost.ingest.steps import Ingested

    return not isinstance(value, pl.DataFrame | Ingested)


def _ingested(inputs_or_steps: Inputs | pl.DataFrame | Ingested, *, input_format: str,
              task_key: str, columns: Sequence[str], jobs: Jobs,
              progress: ReadProgress | None, max_line_bytes: int) -> Ingested:
    """Steps from inputs, or as given: a DataFrame of canonical steps is conformed (missing
    columns are null, never zero) and accounted as one source whose rows are its lines."""
    import polars as pl

    from agentcost.ingest.steps import Ingested, number_steps

    if isinstance(inputs_or_steps, Ingested):
        # Its accounting gets what this call notes (steps outside the window): a copy, so that
        # the caller's, and any report made from it before, stay as they were.
        return Ingested(inputs_or_steps.steps, copy.deepcopy(inputs_or_steps.accounting))
    if isinstance(inputs_or_steps, pl.DataFrame):
        from agentcost.ingest.frame_input import steps_from_frame

        steps, accounting = steps_from_frame(inputs_or_steps)
        return Ingested(number_steps(steps), accounting)
    ingested = read_steps(inputs_or_steps, input_format=input_format, task_key=task_key,
                          columns=columns, jobs=jobs, progress=progress,
                          max_line_bytes=max_line_bytes)
    accounting = ingested.accounting
    if accounting.lines_read and not accounting.lines_used and accounting.lines_skipped:
        raise NoUsableInput(accounting)
    return ingested


@dataclass(frozen=True)
class _Store:
    """A steps store to read, and the window that says which of its days are needed."""

    directory: str | PathLike[str] | None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _reading(inputs: Inputs | pl.DataFrame | Ingested, store: str | PathLike[str] | None,
             since: dt.datetime | None, until: dt.datetime | None, *, input_format: str,
             task_key: str, columns: Sequence[str], jobs: Jobs, progress: ReadProgress | None,
             max_line_bytes: int) -> tuple[ReadRequest, StoreScan | None]:
    """What an executor is to read: the inputs, or, with a store named, the store's read
    planned: the days the window needs and the steps of the inputs it does not hold yet
    (returned too, for what the window left out)."""
    if store is None:
        return _read_request(inputs, input_format=input_format, task_key=task_key,
                             columns=columns, jobs=jobs, progress=progress,
                             max_line_bytes=max_line_bytes), None
    from agentcost.engine.protocol import ReadRequest

    scan = _from_store(inputs, _Store(store, since, until), input_format=input_format,
                       task_key=task_key, columns=columns, jobs=jobs,
                       max_line_bytes=max_line_bytes)
    return ReadRequest(None, None, tuple(columns), input_format, task_key, jobs, progress,
                       max_line_bytes, store=scan), scan


def _from_store(inputs: Inputs | pl.DataFrame | Ingested, store: _Store, *,
                input_format: str, task_key: str, columns: Sequence[str], jobs: Jobs,
                max_line_bytes: int) -> StoreScan:
    from agentcost.store.location import store_at
    from agentcost.store.scan import plan_store

    if not _is_inputs(inputs):
        raise UsageError("store: read beside trace inputs (paths), not beside steps given "
                         "as a frame")
    named = [] if _no_inputs(inputs) else _paths(inputs)
    assert store.directory is not None
    options = None
    if named:  # a store read alone needs none of the readers ingest loads
        from agentcost.store.ingest import Options

        options = Options(input_format, task_key, jobs, max_line_bytes)
    return plan_store(store_at(store.directory), since=store.since, until=store.until,
                      columns=(*columns, *PRICED_COLUMNS), inputs=named, options=options)


def _no_inputs(inputs: Inputs) -> bool:
    return inputs is None or (isinstance(inputs, Sequence) and not isinstance(inputs, str)
                              and not inputs)


def _stored_window(window: AppliedWindow | None, ingested: Ingested | StoreScan
                   ) -> AppliedWindow | None:
    """A window over a store also left out the steps of the days it did not read."""
    from agentcost.store.read import with_unread

    return with_unread(window, ingested)


def _read_request(inputs_or_steps: Inputs | pl.DataFrame | Ingested, *, input_format: str,
                  task_key: str, columns: Sequence[str], jobs: Jobs,
                  progress: ReadProgress | None, max_line_bytes: int) -> ReadRequest:
    from agentcost.engine.protocol import ReadRequest

    if _is_inputs(inputs_or_steps):
        return ReadRequest(_paths(inputs_or_steps), None, tuple(columns), input_format,
                           task_key, jobs, progress, max_line_bytes)
    given = cast("pl.DataFrame | Ingested", inputs_or_steps)
    return ReadRequest(None, given, tuple(columns), input_format, task_key, jobs, progress,
                       max_line_bytes)


def ingested_steps(request: ReadRequest) -> Ingested:
    """Every step of `request` in one frame (the memory executor's reading)."""
    if request.store is not None and request.steps is None:
        from agentcost.engine.plan import require_usable
        from agentcost.store.read import stored_steps

        stored = stored_steps(request.store)
        require_usable(stored.accounting)  # as for the logs read: no report of nothing
        return stored
    given: Inputs | pl.DataFrame | Ingested | None = request.steps
    if given is None:
        given = list(request.paths or ())
    return _ingested(given,
                     input_format=request.input_format, task_key=request.task_key,
                     columns=request.columns, jobs=request.jobs, progress=request.progress,
                     max_line_bytes=request.max_line_bytes)


def _executor(engine: Engine, reading: ReadRequest) -> Executor:
    from agentcost.engine.choose import executor_for

    return executor_for(engine, reading)


def _paths(inputs: Inputs) -> list[str]:
    if isinstance(inputs, bytes | bytearray) or not isinstance(inputs, str | PathLike | Iterable):
        raise UsageError(f"inputs: a path or a list of paths, not {type(inputs).__name__}")
    items = [inputs] if isinstance(inputs, str | PathLike) else list(inputs)
    paths = [str(item) for item in items if isinstance(item, str | PathLike)]
    if len(paths) != len(items):
        raise UsageError("inputs: each input is a path (text or a path object)")
    if not paths:
        raise UsageError("inputs: name at least one file, directory, glob or '-'")
    return paths


def _checked(jobs: Jobs, cost_mode: str) -> None:
    from agentcost.parallel import MAX_JOBS
    from agentcost.pricing.cost import COST_MODES

    if jobs != "auto" and (not isinstance(jobs, int) or isinstance(jobs, bool)
                           or not 1 <= jobs <= MAX_JOBS):
        raise UsageError(f"jobs={jobs!r}: a number of processes (1 to {MAX_JOBS}) or 'auto'")
    if cost_mode not in COST_MODES:
        raise UsageError(f"cost_mode={cost_mode!r}: use one of {', '.join(COST_MODES)}")
