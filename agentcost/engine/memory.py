"""The `memory` executor: every step in one frame, priced and reported in one process."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from agentcost.api import OPTIONAL_COLUMNS, PRICED_COLUMNS
from agentcost.engine.protocol import ReadRequest, ReportRequest, ReportRun

if TYPE_CHECKING:
    from agentcost.engine.simulated import SimulateRequest, SimulateRun
    from agentcost.ingest.read import Ingested

class MemoryExecutor:
    name = "memory"

    def steps(self, request: ReadRequest) -> Ingested:
        from agentcost.api import ingested_steps

        return ingested_steps(request)

    def simulate(self, request: SimulateRequest) -> SimulateRun:
        from agentcost.engine.simulated import Stages, partition_share, simulated

        ingested = self.steps(request.read)
        share = partition_share(ingested.steps, request, None, Stages.of_scenarios(request))
        return simulated(request, [share], ingested.accounting)

    def report(self, request: ReportRequest) -> ReportRun:
        from agentcost.analysis.dashboard import build_dashboard
        from agentcost.analysis.exact import exact_columns
        from agentcost.analysis.report import build_report
        from agentcost.analysis.window import window_filter
        from agentcost.pricing.cost import price_steps

        ingested = self.steps(request.read)
        accounting = ingested.accounting
        steps, window = window_filter(ingested.steps, request.window_start, request.window_end)
        del ingested  # its steps live on in `steps` as long as they are needed, and no longer
        # Only the columns pricing and the report use: a column of nulls still costs 16 bytes
        # a row.
        steps = steps.select(*PRICED_COLUMNS,
                             *(c for c in OPTIONAL_COLUMNS if c in request.read.columns))
        kept = steps if request.keep_steps else None
        priced = price_steps(steps.lazy(), request.table, cost_mode=request.cost_mode
                             ).with_columns(exact_columns()).collect()
        del steps  # from here on the priced table holds all the report reads
        result = build_report(priced, accounting, price_table=request.table.file,
                              cost_mode=request.cost_mode, near_names=request.near_names)
        costs = result.distribution.costs if result.distribution else []
        s = result.summary
        dashboard = build_dashboard(priced, costs, window_start=s.window_start,
                                    window_end=s.window_end, total_usd=s.total_cost_usd,
                                    by=request.by)
        drawn = None
        if request.charts:
            from agentcost.analysis.charts import build_charts

            drawn = build_charts(priced, start=s.window_start, end=s.window_end)
        return ReportRun(replace(result, dashboard=dashboard, window=window, charts=drawn,
                                 engine=self.name), kept)
