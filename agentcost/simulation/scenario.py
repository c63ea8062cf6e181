"""What-if scenarios: which strategies to replay on recorded traces, with their settings.

Built from command-line flags or a YAML file of named scenarios, both through `settings_scenario`,
so that a file gets the same checks as the flags. Pure data; the strategies themselves live in
their own modules and are applied in a fixed order (routing, tool caching, history compression,
budgets), so that compounding savings are reported as a waterfall.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from agentcost.errors import UsageError

DURATION = re.compile(r"^(?P<count>\d+(?:\.\d+)?)(?P<unit>s|m|h|d)$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_TTL_SECONDS = 3600.0
DEFAULT_KEEP_LAST = 3
DEFAULT_SUMMARY_MODEL = "gpt-4o-mini"
DEFAULT_SUMMARY_TOKENS = 500
# Above them a setting is a typo: a model needing a thousand times the steps, a cache entry
# kept past a year.
MAX_INFLATION = 1000.0
MAX_TTL_SECONDS = 365 * SECONDS["d"]

# The settings that enable a strategy, spelled as flags without their dashes.
STRATEGY_SETTINGS = ("route", "cache", "compress-after", "budget", "max-steps")
# Settings that act only through another: (setting, the one it needs).
NEEDS = (("step-inflation", "route"), ("keep-last", "compress-after"),
         ("summary-model", "compress-after"), ("summary-tokens", "compress-after"))


@dataclass(frozen=True)
class Route:
    """LLM steps whose label (step name) matches `pattern` (a glob), or whose model does when
    `by_model`, are repriced at `target`."""

    pattern: str
    target: str
    by_model: bool = False

    def describe(self) -> str:
        what = f"model {self.pattern}" if self.by_model else f"steps labelled {self.pattern}"
        return f"{what} -> {self.target}"


@dataclass(frozen=True)
class Inflation:
    """Routed steps whose label (or recorded model, when `by_model`) matches `pattern` (a glob)
    take `factor` x the steps and tokens: a cheaper model that needs more of them."""

    pattern: str
    factor: float
    by_model: bool = False

    def describe(self) -> str:
        what = f"model {self.pattern}" if self.by_model else f"labelled {self.pattern}"
        return f"routed steps {what}: x{self.factor:g} steps and tokens"


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
    # Applied to routed steps, the first that matches a step wins.
    inflations: tuple[Inflation, ...] = ()
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.inflations and not self.routes:
            raise UsageError("step inflation applies to routed steps: it needs a route")

    @property
    def is_identity(self) -> bool:
        """No strategy is enabled: the replay is the baseline."""
        from agentcost.simulation.strategies import STRATEGIES

        return not any(strategy.enabled(self) for strategy in STRATEGIES)


class InertSetting(UsageError):
    """Settings that could not change anything. `setting`: the one at fault, or None when
    no setting enables a strategy."""

    def __init__(self, message: str, setting: str | None) -> None:
        super().__init__(message)
        self.setting = setting


def check_settings(given: Collection[str], spell: Callable[[str], str]) -> None:
    """Refuse settings that could not change anything: none that enables a strategy, or one
    that acts only through a setting not given. `given`: the settings, spelled as in
    STRATEGY_SETTINGS; `spell` writes one as the caller's user knows it (a flag, a key)."""
    for setting, needed in NEEDS:
        if setting in given and needed not in given:
            raise InertSetting(f"{spell(setting)} acts only with {spell(needed)}, which is not "
                               "given: alone it would change nothing", setting)
    if not any(setting in given for setting in STRATEGY_SETTINGS):
        raise InertSetting("no strategy to replay: give at least one of "
                           f"{', '.join(spell(s) for s in STRATEGY_SETTINGS)}", None)


def settings_scenario(name: str, *, routes: list[str], inflations: list[str], cache: list[str],
                      compress_after: int | None, keep_last: int | None,
                      summary_model: str | None, summary_tokens: int | None,
                      budget: float | None, max_steps: int | None,
                      spell: Callable[[str], str]) -> Scenario:
    """A scenario from settings as written (flags or a scenario file's keys), checked alike:
    None or empty is a setting not given."""
    values = {"route": routes, "step-inflation": inflations, "cache": cache,
              "compress-after": compress_after, "keep-last": keep_last,
              "summary-model": summary_model, "summary-tokens": summary_tokens,
              "budget": budget, "max-steps": max_steps}
    check_settings([key for key, value in values.items() if value not in (None, [])], spell)
    compression = None
    if compress_after is not None:
        compression = Compression(
            compress_after, DEFAULT_KEEP_LAST if keep_last is None else keep_last,
            summary_model or DEFAULT_SUMMARY_MODEL,
            DEFAULT_SUMMARY_TOKENS if summary_tokens is None else summary_tokens)
    return Scenario(name=name, routes=tuple(parse_route(text) for text in routes),
                    cache=tuple(parse_cache(text) for text in cache), compression=compression,
                    budget_usd=budget, max_steps=max_steps,
                    inflations=parse_inflation(inflations))


def parse_duration(text: str) -> float:
    match = DURATION.match(text.strip())
    if not match:
        raise UsageError(f"{text!r} is not a duration (like 30m, 1h, 1d)")
    return float(match.group("count")) * SECONDS[match.group("unit")]


def parse_route(text: str) -> Route:
    if "=" not in text:
        raise UsageError(f"--route {text!r}: write LABEL=MODEL or model:MODEL=MODEL")
    pattern, target = (part.strip() for part in text.rsplit("=", 1))
    by_model = pattern.startswith("model:")
    pattern = pattern.removeprefix("model:")
    if not pattern or not target:
        raise UsageError(f"--route {text!r}: both sides are needed")
    return Route(pattern, target, by_model)


def parse_inflation(values: list[str]) -> tuple[Inflation, ...]:
    inflations = []
    for text in values:
        pattern, _, factor = text.rpartition("=")
        try:
            value = float(factor)
        except ValueError as error:
            raise UsageError(f"--step-inflation {text!r}: write LABEL=FACTOR") from error
        glob = pattern.removeprefix("model:")
        if not glob or not 0 < value <= MAX_INFLATION:  # nan and inf too
            raise UsageError(f"--step-inflation {text!r}: write LABEL=FACTOR, a factor above 0 "
                             f"and at most {MAX_INFLATION:,.0f}")
        inflations.append(Inflation(glob, value, by_model=glob != pattern))
    return tuple(inflations)


def parse_cache(text: str) -> CacheRule:
    tool, _, ttl = text.partition(":")
    if not tool:
        raise UsageError(f"--cache {text!r}: write TOOL or TOOL:TTL (TTL like 30m, 1h)")
    seconds = parse_duration(ttl) if ttl else DEFAULT_TTL_SECONDS
    if not 0 < seconds <= MAX_TTL_SECONDS:  # 0 would cache nothing
        raise UsageError(f"--cache {text!r}: a TTL above 0s and at most 365d")
    return CacheRule(tool, seconds)
