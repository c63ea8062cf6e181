"""What-if scenarios: which strategies to replay on recorded traces, with their settings.

Built from command-line flags or a YAML file of named scenarios. Pure data; the strategies
themselves live in their own modules and are applied in a fixed order (routing, tool caching,
history compression, budgets), so that compounding savings are reported as a waterfall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agentcost.errors import UsageError

DURATION = re.compile(r"^(?P<count>\d+(?:\.\d+)?)(?P<unit>s|m|h|d)$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_TTL_SECONDS = 3600.0
DEFAULT_KEEP_LAST = 3
DEFAULT_SUMMARY_MODEL = "gpt-4o-mini"
DEFAULT_SUMMARY_TOKENS = 500


@dataclass(frozen=True)
class Route:
    """Steps whose label (step name) matches `pattern` (a glob), or whose model does when
    `by_model`, are repriced at `target` with the same tokens times `inflation`."""

    pattern: str
    target: str
    by_model: bool = False
    inflation: float = 1.0

    def describe(self) -> str:
        what = f"model {self.pattern}" if self.by_model else f"steps labelled {self.pattern}"
        extra = f" (x{self.inflation:g} steps and tokens)" if self.inflation != 1.0 else ""
        return f"{what} -> {self.target}{extra}"


@dataclass(frozen=True)
class CacheRule:
    tool: str  # a tool name, a glob, or "*"
    ttl_seconds: float = DEFAULT_TTL_SECONDS


@dataclass(frozen=True)
class Compression:
    after_step: int
    keep_last: int = DEFAULT_KEEP_LAST
    summary_model: str = DEFAULT_SUMMARY_MODEL
    summary_tokens: int = DEFAULT_SUMMARY_TOKENS


@dataclass(frozen=True)
class Scenario:
    name: str = "scenario"
    routes: tuple[Route, ...] = ()
    cache: tuple[CacheRule, ...] = ()
    compression: Compression | None = None
    budget_usd: float | None = None
    max_steps: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_identity(self) -> bool:
        """No strategy is enabled: the replay is the baseline."""
        from agentcost.simulation.strategies import STRATEGIES

        return not any(strategy.enabled(self) for strategy in STRATEGIES)


def parse_duration(text: str) -> float:
    match = DURATION.match(text.strip())
    if not match:
        raise UsageError(f"{text!r} is not a duration (like 30m, 1h, 1d)")
    return float(match.group("count")) * SECONDS[match.group("unit")]


def parse_route(text: str, inflation: dict[str, float]) -> Route:
    if "=" not in text:
        raise UsageError(f"--route {text!r}: write LABEL=MODEL or model:MODEL=MODEL")
    pattern, target = (part.strip() for part in text.rsplit("=", 1))
    by_model = pattern.startswith("model:")
    pattern = pattern.removeprefix("model:")
    if not pattern or not target:
        raise UsageError(f"--route {text!r}: both sides are needed")
    return Route(pattern, target, by_model, inflation.get(pattern, 1.0))


def parse_inflation(values: list[str]) -> dict[str, float]:
    factors: dict[str, float] = {}
    for text in values:
        pattern, _, factor = text.rpartition("=")
        try:
            value = float(factor)
        except ValueError as error:
            raise UsageError(f"--step-inflation {text!r}: write LABEL=FACTOR") from error
        if not pattern or value <= 0:
            raise UsageError(f"--step-inflation {text!r}: write LABEL=FACTOR, factor above 0")
        factors[pattern.removeprefix("model:")] = value
    return factors


def parse_cache(text: str) -> CacheRule:
    tool, _, ttl = text.partition(":")
    if not tool:
        raise UsageError(f"--cache {text!r}: write TOOL or TOOL:TTL (TTL like 30m, 1h)")
    return CacheRule(tool, parse_duration(ttl) if ttl else DEFAULT_TTL_SECONDS)
