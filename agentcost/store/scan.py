"""A store read planned: which parts a window needs, which columns, the steps of inputs named
beside the store that it does not hold yet, and the account of every line. The memory
executor reads the plan into one frame (store/read.py); the local and ray executors read it
a piece at a time, each piece where they run (store_pieces, piece_steps), as they read a
trace file: every step with its input position (plan.ORDER), the store's reading order.

A step whose number is missing is numbered among all of its task's steps (ingest/read.py
number_steps), also those on the days before the window: for the tasks that need it, those
days' steps are read too, with only their task and start time. A window leaves them out as
steps outside it, so they are not among the steps the store did not read
(`StoreScan.timed_unread`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import polars as pl

from agentcost.engine.partials import ORDER
from agentcost.ingest.accounting import LineAccounting
from agentcost.schema import COLUMN_NAMES, TOKEN_COLUMNS
from agentcost.store.location import Where
from agentcost.store.manifest import UNTIMED, Part, load_manifest
from agentcost.store.parts import SOURCE_ORDER, STEP_ORDER, parts_for, stored_schema

if TYPE_CHECKING:
    from agentcost.store.ingest import Options

# Read whatever a command asks for: pricing and step identity need these.
ALWAYS = ("task_id", "step", "span_id", "start_time", "duration_s", "kind", "model",
          "service_tier", *TOKEN_COLUMNS, "tokens_estimated", "tool_name",
          "reported_cost_usd", "reported_tool_cost_usd", "source_file", "source_line")
# Stored steps a piece of a read holds, about.
PIECE_ROWS = 1_000_000


@dataclass
class StoreScan:
    """The store's steps a window [since, until) needs. `columns`: the canonical columns
    read (the others are null); `new`: the inputs' steps the store does not hold, with the
    order columns; `earlier`: the timed parts before the window's first day."""

    where: Where
    needed: list[Part]
    earlier: list[Part]
    columns: tuple[str, ...]
    new: pl.DataFrame
    accounting: LineAccounting
    timed_others: int  # steps of the timed parts not needed
    untimed_unread: int
    # Steps of `earlier` read by an executor to number steps: a window counts them.
    earlier_read: int = 0
    # Tasks of `new` with a step whose number is missing.
    new_unnumbered: list[str] = field(default_factory=list)

    @property
    def timed_unread(self) -> int:
        return self.timed_others - self.earlier_read

    @property
    def rows(self) -> int:
        return sum(part.rows for part in self.needed) + self.new.height


@dataclass(frozen=True)
class Piece:
    """What one reader reads: some of the needed parts, or (`earlier`) the steps of the days
    before that numbering needs."""

    parts: tuple[Part, ...] = ()
    earlier: bool = False


class StoreReading:
    """What an executor's reading gives beside the steps, for a store: the account of its
    lines; and, as no native log is read again, no repeat to drop."""

    def __init__(self, scan: StoreScan) -> None:
        import copy

        self.accounting = copy.deepcopy(scan.accounting)
        self.native_files: list[str] = []

    def native_only(self) -> list[str] | None:
        return None


def plan_store(where: Where, *, since: dt.datetime | None, until: dt.datetime | None,
               columns: Sequence[str], inputs: Sequence[str], options: Options | None = None
               ) -> StoreScan:
    """What reading the store at `where` for the window [since, until) reads, with
    `columns` filled; and, with `inputs`, the steps they hold that the store does not."""
    manifest = load_manifest(where)
    wanted = set(ALWAYS) | set(columns)
    needed, others = parts_for(manifest, since, until)
    new = pl.DataFrame()
    if inputs:  # only then are the readers needed
        from agentcost.store.ingest import IngestResult, Options, fresh_steps, pending_steps

        new = fresh_steps(where, manifest, pending_steps(
            inputs, where, manifest, options or Options(), IngestResult()), IngestResult())
    # A column no needed part has a value in is not read, unless new steps may fill it.
    null_in_all = set.intersection(*(set(part.null_columns) for part in needed)) if (
        needed and not new.height) else set()
    read = tuple(name for name in COLUMN_NAMES if name in wanted and name not in null_in_all)
    first_day = min((part.day for part in needed), default=None)
    earlier = [part for part in others if part.day != UNTIMED and first_day is not None
               and part.day < first_day]
    unnumbered = (new.filter(pl.col("step").is_null())["task_id"].unique().to_list()
                  if new.height else [])
    return StoreScan(where, needed, earlier, read, new, manifest.accounting(),
                     sum(part.rows for part in others if part.day != UNTIMED),
                     sum(part.rows for part in others if part.day == UNTIMED),
                     new_unnumbered=unnumbered)


def store_pieces(scan: StoreScan, rows: int = PIECE_ROWS) -> list[Piece]:
    """The needed parts in pieces of about `rows` steps each; then the earlier days, when
    some step's number may need them."""
    pieces: list[Piece] = []
    batch: list[Part] = []
    held = 0
    for part in scan.needed:
        if batch and held + part.rows > rows:
            pieces.append(Piece(tuple(batch)))
            batch, held = [], 0
        batch.append(part)
        held += part.rows
    if batch:
        pieces.append(Piece(tuple(batch)))
    if scan.earlier:
        pieces.append(Piece(earlier=True))
    return pieces


def sendable(scan: StoreScan) -> StoreScan:
    """The plan as a reader elsewhere needs it: without the new steps and the account."""
    return replace(scan, new=pl.DataFrame(), accounting=LineAccounting())


def piece_steps(scan: StoreScan, piece: Piece) -> Iterator[pl.DataFrame]:
    """The piece's steps, a part at a time, each with its input position (ORDER)."""
    if piece.earlier:
        yield earlier_steps(scan)
        return
    schema = stored_schema()
    from agentcost.store.location import read_file

    for part in piece.parts:
        nulls = set(part.null_columns)
        present = [name for name in scan.columns if name not in nulls]
        stored = read_file(scan.where, part.file, [*present, SOURCE_ORDER, STEP_ORDER], schema)
        yield positioned(stored.with_columns(
            pl.lit(None, schema[name]).alias(name) for name in scan.columns if name in nulls),
            scan.columns)


def new_steps(scan: StoreScan) -> pl.DataFrame:
    """The inputs' steps the store does not hold, with their input position."""
    if not scan.new.height:
        return pl.DataFrame()
    return positioned(scan.new, scan.columns)


def positioned(stored: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`columns` of stored steps and their place in the store's reading order: by source,
    then in the order stored."""
    from agentcost.engine.plan import SOURCE_STRIDE

    return stored.select(*columns, (pl.col(SOURCE_ORDER) * SOURCE_STRIDE + pl.col(STEP_ORDER))
                         .alias(ORDER))


def earlier_steps(scan: StoreScan) -> pl.DataFrame:
    """The steps of the days before the window of the tasks with a step whose number is
    missing (among the needed parts' and the new ones): task, start time, input position.
    Each started before every step of the needed days, so numbering counts it first."""
    from agentcost.store.parts import scan_parts

    missing = scan_parts(scan.where, scan.needed, ["task_id", "step"]).filter(
        pl.col("step").is_null()).select("task_id").unique().collect()["task_id"]
    tasks = pl.concat([missing, pl.Series("task_id", scan.new_unnumbered, pl.String)]).unique()
    if tasks.is_empty():
        return pl.DataFrame()
    found = (scan_parts(scan.where, scan.earlier, ["task_id", "start_time"])
             .filter(pl.col("task_id").is_in(tasks.implode())).collect())
    schema = stored_schema()
    return positioned(found.with_columns(
        pl.lit(None, schema[name]).alias(name) for name in scan.columns
        if name not in ("task_id", "start_time")), scan.columns)
