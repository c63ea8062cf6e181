"""Steps as read: the canonical step table and the account of its lines, and the numbering of
steps that recorded none. Apart from the readers, so that steps read back from a store need
none of them loaded."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from agentcost.ingest.accounting import LineAccounting


@dataclass
class Ingested:
    steps: pl.DataFrame
    accounting: LineAccounting


def number_steps(steps: pl.DataFrame) -> pl.DataFrame:
    """Fill missing step numbers: 1-based within the task by start time, ties in input order."""
    if steps.is_empty() or steps["step"].null_count() == 0:
        return steps
    order = pl.col("start_time").cast(pl.Int64).fill_null(2**62)
    return steps.with_columns(
        pl.coalesce("step", order.rank("ordinal").over("task_id").cast(pl.Int64)).alias("step")
    )
