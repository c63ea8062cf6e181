"""The running state of a replay: the priced step table as the strategies so far have left it.

Steps reach the strategies numbered by input position (files in order, lines in order), in
steps of two, as `_row`: twice the position the executor gave them (`_order`) when there is
one, so that every partition of a run numbers its steps as one pass over all would. A total
order that does not depend on the row order joins and swaps leave behind. Within a task,
steps are ordered by step number, then `_row`; a simulated summary call takes the odd number
just before the step it serves: an even `_row` is a recorded step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

import polars as pl

from agentcost.money import exact_partial
from agentcost.pricing.table import PriceTable

POSITION = "_order"  # a step's input position, as the executors number it (engine/plan.py)
ORDER_COLUMN = "_row"
TASK_COLUMN = "_task"  # tasks numbered too: grouping by an integer is cheaper than by text
WITHIN_TASK = ["step", ORDER_COLUMN]
TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")

# Prices rows of the step table with the run's price table and cost mode.
Pricer = Callable[[pl.DataFrame], pl.DataFrame]
# A strategy's change to priced rows, kept standing: applied again to rows a later strategy
# prices afresh, so that repricing a row does not undo it.
Adjustment = Callable[[pl.DataFrame], pl.DataFrame]


def number_rows(steps: pl.DataFrame) -> pl.DataFrame:
    """`_row` (input position, in steps of two) and `_task` (the task as an integer)."""
    position = (pl.col(POSITION) if POSITION in steps.columns
                else pl.int_range(pl.len(), dtype=pl.Int64))
    return steps.with_columns(
        (position * 2).alias(ORDER_COLUMN),
        pl.col("task_id").cast(pl.Categorical).to_physical().cast(pl.Int64).alias(TASK_COLUMN),
    )


def is_recorded() -> pl.Expr:
    """A step of the log, as against a call the replay added (a history summary)."""
    return pl.col(ORDER_COLUMN) % 2 == 0


def swap_rows(priced: pl.DataFrame, fresh: pl.DataFrame) -> pl.DataFrame:
    """`priced` with `fresh` in place of the rows with the same `_row`; rows of `fresh` with a
    new `_row` (a summary call) are added."""
    kept = priced.filter(~pl.col(ORDER_COLUMN).is_in(fresh[ORDER_COLUMN].implode()))
    return pl.concat([kept, fresh], how="vertical")


def total_of(priced: pl.DataFrame) -> Decimal:
    """The total cost of `priced`, exact (not yet rounded): partitions' totals add up."""
    return Decimal(priced.select(exact_partial(pl.col("total_cost_usd"))).item() or 0)


@dataclass(frozen=True, eq=False)
class Replay:
    """The priced step table after the strategies applied so far, and what a strategy needs to
    change it: the pricer, and which columns are the steps' own (the rest are prices).

    Strategies that change what is priced (a model, token counts, new rows) price only the rows
    they change and put them in with `with_rows`: a strategy that changes a tenth of the steps
    reprices a tenth. Strategies that act on prices alone (a cache hit's cost, a cut task's
    steps) hand over the new table with `with_prices`."""

    priced: pl.DataFrame
    columns: tuple[str, ...]
    price: Pricer
    # The price table `price` prices with: what a strategy reads to know what a model lists.
    table: PriceTable
    # The steps as recorded, priced: what figures measured against the baseline (which tasks
    # are runaways) read, wherever the strategy stands in the order.
    recorded: pl.DataFrame
    standing: tuple[Adjustment, ...] = ()
    # The `_row` of every tool-cache hit found over all of a run's calls, when these steps
    # are a partition of the run (None: the steps are all there is, found here).
    cache_hits: pl.Series | None = None
    # Whether every step is still as recorded (prices aside): then the rows a strategy changes
    # here are the rows it would change on the baseline.
    steps_as_recorded: bool = True

    @classmethod
    def start(cls, steps: pl.DataFrame, table: PriceTable, price: Pricer,
              cache_hits: pl.Series | None = None) -> Replay:
        """The baseline: the steps numbered, then priced."""
        numbered = number_rows(steps)
        priced = price(numbered)
        return cls(priced, tuple(numbered.columns), price, table, priced,
                   cache_hits=cache_hits)

    @property
    def steps(self) -> pl.DataFrame:
        """The step table without its prices, as the strategies so far have left it."""
        return self.priced.select(self.columns)

    @cached_property
    def total(self) -> Decimal:
        """Summed exactly, not rounded: what partitions add up."""
        return total_of(self.priced)

    def adjusted(self, fresh: pl.DataFrame) -> pl.DataFrame:
        """Rows priced afresh, with the standing adjustments: a cache hit is still a hit."""
        for adjust in self.standing:
            fresh = adjust(fresh)
        return fresh

    def with_rows(self, fresh: pl.DataFrame) -> Replay:
        """`fresh` (rows of `steps` changed, then priced) in place of the rows with the same
        `_row`, after the standing adjustments."""
        fresh = self.adjusted(fresh)
        return replace(self, priced=swap_rows(self.priced, fresh),
                       steps_as_recorded=self.steps_as_recorded and fresh.height == 0)

    def with_prices(self, priced: pl.DataFrame, *, standing: Adjustment | None = None,
                    rows_removed: bool = False) -> Replay:
        """The table after a strategy that acts on prices alone, or removes rows. `standing`:
        its change, to be applied again to rows a later strategy prices afresh."""
        kept = self.standing if standing is None else (*self.standing, standing)
        return replace(self, priced=priced, standing=kept,
                       steps_as_recorded=self.steps_as_recorded and not rows_removed)

    def where(self, predicate: pl.Expr) -> Replay:
        """The same replay over the steps `predicate` selects (an estimate over one label)."""
        return replace(self, priced=self.priced.filter(predicate))
