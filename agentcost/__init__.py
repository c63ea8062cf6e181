"""agentcost: what did our agents cost, why, and what would it cost if we changed X."""

__version__ = "0.1.0"
