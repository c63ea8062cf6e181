"""agentcost: what did our agents cost, why, and what would it cost if we changed X.

    import agentcost
    report = agentcost.report(["traces.jsonl"])  # or agentcost.agent_logs("claude-code")
    report.summary.total_cost_usd, report.tasks  # a float, a polars DataFrame
    print(agentcost.render(report, "table"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from agentcost.api import (
    Comparison,
    NoUsableInput,
    agent_logs,
    check,
    compare,
    load_prices,
    read_steps,
    render,
    report,
    simulate,
    store_steps,
)
from agentcost.errors import AgentCostError

if TYPE_CHECKING:
    from agentcost.analysis.checks import Crossed
    from agentcost.analysis.report import Report
    from agentcost.simulation.engine import Simulation
    from agentcost.simulation.scenario import CacheRule, Compression, Inflation, Route, Scenario

# The result and scenario types load polars: they are imported when first named, so that
# `agentcost --help` and the readers' registry stay light.
_LAZY = {
    "Crossed": "agentcost.analysis.checks",
    "Report": "agentcost.analysis.report",
    "Simulation": "agentcost.simulation.engine",
    "CacheRule": "agentcost.simulation.scenario",
    "Compression": "agentcost.simulation.scenario",
    "Inflation": "agentcost.simulation.scenario",
    "Route": "agentcost.simulation.scenario",
    "Scenario": "agentcost.simulation.scenario",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agentcost' has no attribute {name!r}")


__all__ = [
    "AgentCostError",
    "CacheRule",
    "Comparison",
    "Compression",
    "Crossed",
    "Inflation",
    "NoUsableInput",
    "Report",
    "Route",
    "Scenario",
    "Simulation",
    "__version__",
    "agent_logs",
    "check",
    "compare",
    "load_prices",
    "read_steps",
    "render",
    "report",
    "simulate",
    "store_steps",
]
