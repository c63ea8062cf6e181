"""What every executor does, and what it is asked: one protocol, so that another executor (a
cluster's) is one more module beside memory.py and local.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl

    from agentcost.analysis.report import Report
    from agentcost.engine.simulated import SimulateRequest, SimulateRun
    from agentcost.ingest.read import Ingested, ReadProgress
    from agentcost.parallel import Jobs
    from agentcost.pricing.table import PriceTable
    from agentcost.store.scan import StoreScan


@dataclass(frozen=True)
class ReadRequest:
    """Which inputs, read how. `steps`: steps already in memory (a frame or an Ingested)
    instead of paths; `store`: a steps store's read planned (with the steps of the inputs
    it does not hold), which each executor reads where it runs."""

    paths: Sequence[str] | None
    steps: pl.DataFrame | Ingested | None
    columns: Sequence[str]
    input_format: str
    task_key: str
    jobs: Jobs
    progress: ReadProgress | None
    max_line_bytes: int
    store: StoreScan | None = None


@dataclass(frozen=True)
class ReportRequest:
    """A report to compute: the reading, the prices, the window, and what beside the totals
    (a breakdown, the HTML charts, the steps for the opportunities)."""

    read: ReadRequest
    table: PriceTable
    cost_mode: str
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    by: str | None
    charts: bool
    # The window's steps, unpriced, for the opportunities: from an executor that holds them
    # all at once anyway (memory); the others leave the opportunities to read them again.
    keep_steps: bool
    near_names: Callable[[str], list[str]]


@dataclass(frozen=True)
class ReportRun:
    report: Report
    steps: pl.DataFrame | None  # when `keep_steps` asked for them and they were held


class Executor(Protocol):
    """Runs the plan. Every executor gives the same report and the same steps, byte for byte;
    they differ in where the steps are held while it runs."""

    name: str

    def report(self, request: ReportRequest) -> ReportRun:
        """The report: totals, tasks, breakdowns, dashboard, and the charts when asked."""
        ...

    def simulate(self, request: SimulateRequest) -> SimulateRun:
        """Scenarios replayed on the steps, whole tasks at a time, and the budget sweep
        (engine/simulated.py)."""
        ...

    def steps(self, request: ReadRequest) -> Ingested:
        """Every step read, in input order (file, then line), with the line accounting: what
        a simulation replays."""
        ...
