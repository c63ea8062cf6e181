"""The strategies a scenario can ask for, in the order the waterfall applies them: routing and
history compression change what is priced (models, tokens), tool caching and budgets act on
prices. This tuple is the only list of them; adding a strategy is a module here, its line
below, and its `Scenario` field with its flag (and key in scenario files)."""

from __future__ import annotations

from typing import Any

from agentcost.simulation.strategies.base import Strategy
from agentcost.simulation.strategies.budget import Budget
from agentcost.simulation.strategies.caching import Caching
from agentcost.simulation.strategies.compression import HistoryCompression
from agentcost.simulation.strategies.routing import Routing

ROUTING = Routing()
CACHING = Caching()
COMPRESSION = HistoryCompression()
BUDGET = Budget()
STRATEGIES: tuple[Strategy[Any], ...] = (ROUTING, CACHING, COMPRESSION, BUDGET)


def titled(name: str) -> str:
    """The strategy's title, as tables name it."""
    return next(strategy.title for strategy in STRATEGIES if strategy.name == name)
