"""The strategy protocol and the records it passes: what a strategy touched, the running state
before and after it, and the baseline its figure alone is taken from."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

import polars as pl

from agentcost.simulation.replay import Replay
from agentcost.simulation.scenario import Scenario

# What a strategy touched in one partition of the steps (whole tasks), as small named frames
# whose rows add up: the partitions' frames of a name, put together, are what one pass over
# every step would have found, and the strategy's `touched` makes its figures of them.
Tally = dict[str, pl.DataFrame]


def tallies_together(tallies: Sequence[Tally]) -> Tally:
    """The partitions' tallies as one: each name's frames one after another."""
    names = dict.fromkeys(name for tally in tallies for name in tally)
    return {name: pl.concat([tally[name] for tally in tallies if name in tally],
                            how="vertical") for name in names}


def counted(**counts: int) -> pl.DataFrame:
    """A one-row frame of counts, for a tally."""
    return pl.DataFrame({name: [value] for name, value in counts.items()},
                        schema=dict.fromkeys(counts, pl.Int64))


def sums(tally: Tally, name: str) -> dict[str, int]:
    """The counts of `counted` frames, added up."""
    frame = tally[name]
    return {column: int(frame[column].sum() or 0) for column in frame.columns}


@dataclass(frozen=True)
class Touched:
    """What a strategy touched: how many steps and tasks, then the strategy's own figures as
    further fields (a subclass per strategy), listed in the order they are declared."""

    steps: int
    tasks: int

    def detail(self) -> str:
        """The words beside the counts in the table of what each strategy touched."""
        return "steps changed"

    def caveats(self) -> list[str]:
        """Caveats that depend on what was found, such as a price rule it applied."""
        return []

    def warnings(self) -> list[str]:
        """Settings that acted on nothing (a route or a cache rule that matches no step): most
        likely a mistake, never to pass as "no change"."""
        return []

    def figures(self) -> dict[str, object]:
        """Every field, in order, as plain values (records as dicts, tuples as lists): what the
        JSON document lists."""
        return {field.name: _plain(getattr(self, field.name)) for field in fields(self)}


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


T = TypeVar("T", bound=Touched)


@dataclass(frozen=True, eq=False)
class Applied(Generic[T]):
    """One strategy applied to the running state."""

    before: Replay
    after: Replay
    tally: Tally
    # The rows it priced afresh, as priced (before standing adjustments), when it changed
    # what is priced: a figure over the same rows need not price them again.
    fresh: pl.DataFrame | None = None


@dataclass(frozen=True, eq=False)
class Baseline:
    """The replay before any strategy, and its total as the outcome reports it (per-task exact
    sums): the figure each strategy's total alone is taken from."""

    replay: Replay
    total: Decimal


class Strategy(Protocol[T]):
    """One what-if strategy: a pure transform of the priced step table and a typed record of
    what it touched. `name` keys its results (waterfall, alone, touched, JSON); `title` names
    it in tables; `caveat` is what the replay cannot know, shown whenever it runs. A class
    that subclasses this protocol inherits the default `alone`.

    A strategy that reprices steps may leave some unpriced (a bucket the new model lists no
    price for): the engine then leaves those steps out of the baseline too, so that a saving
    is only ever counted over steps priced on both sides."""

    name: str
    title: str
    caveat: str

    def enabled(self, scenario: Scenario) -> bool:
        """Whether the scenario asks for this strategy."""
        ...

    def settings(self, scenario: Scenario) -> list[str]:
        """The scenario's settings for this strategy, one line each."""
        ...

    def apply(self, replay: Replay, scenario: Scenario) -> Applied[T]:
        """The running state after this strategy, and the tally of what it touched."""
        ...

    def touched(self, tally: Tally, scenario: Scenario) -> T:
        """Its figures, from the tally of every partition put together."""
        ...

    def models_priced(self, scenario: Scenario) -> list[tuple[str, str]]:
        """(what, model) for each model the scenario has this strategy price steps at: a model
        the price table does not know would show a saving that is not there."""
        return []

    def alone(self, applied: Applied[T], scenario: Scenario, baseline: Baseline) -> Decimal:
        """The total with this strategy alone, exact: what it left, when it ran on the
        baseline (it was the first enabled), or else the strategy applied to the baseline."""
        if applied.before is baseline.replay:
            return applied.after.total
        return self.apply(baseline.replay, scenario).after.total


def glob_regex(pattern: str) -> str:
    """A shell glob as an anchored regular expression polars' engine reads (fnmatch writes
    Python's `\\Z`, which it does not)."""
    translated = fnmatch.translate(pattern)
    return "^" + translated.removesuffix(r"\Z") + "$"


def matches(column: str, pattern: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.contains(glob_regex(pattern))
