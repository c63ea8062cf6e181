"""Steps spilled to Parquet files, bucketed by a hash of their task: every step of a task
lands in the same bucket, so a bucket read back holds whole tasks, and only one bucket is
in memory at a time. (Or bucketed by another key: a simulation's tool calls by their tool
and arguments.)"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from agentcost.engine.plan import task_bucket

BUCKET = "_bucket"
# Steps gathered before they are bucketed and written: each bucket's file then holds enough
# rows that writing and reading it back is not mostly per-file work.
FLUSH_ROWS = 200_000


class BucketSpill:
    """A temporary directory of Parquet files, one folder per bucket; removed on close."""

    def __init__(self, buckets: int, directory: str | None = None,
                 flush_rows: int = FLUSH_ROWS,
                 bucket_of: Callable[[int], pl.Expr] = task_bucket) -> None:
        """`bucket_of(buckets)`: which bucket a row goes to (default: its task's)."""
        self.buckets, self.flush_rows, self.bucket_of = buckets, flush_rows, bucket_of
        self.root = Path(tempfile.mkdtemp(prefix="agentcost-spill-", dir=directory))
        self._written = 0
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0
        self.rows = 0

    def write(self, steps: pl.DataFrame) -> None:
        """`steps` (any rows, the same columns each time) added to their buckets."""
        if steps.is_empty():
            return
        self.rows += steps.height
        self._pending.append(steps)
        self._pending_rows += steps.height
        if self._pending_rows >= self.flush_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        steps = pl.concat(self._pending, how="vertical")
        self._pending, self._pending_rows = [], 0
        # A column with no value is not written: read back, it is missing, and the reader
        # makes it null again.
        steps = steps.select(name for name in steps.columns
                             if steps[name].null_count() < steps.height)
        bucketed = steps.with_columns(self.bucket_of(self.buckets).alias(BUCKET))
        for (bucket,), part in bucketed.partition_by(BUCKET, as_dict=True,
                                                     include_key=False).items():
            folder = self.root / f"{bucket:05d}"
            folder.mkdir(exist_ok=True)
            part.write_parquet(folder / f"{self._written:08d}.parquet", compression="uncompressed",
                               statistics=False)
            self._written += 1
        del steps, bucketed

    def filled(self) -> int:
        """How many buckets hold rows (as many as `each_bucket` gives)."""
        self._flush()
        return sum(1 for _ in self.root.iterdir())

    def each_bucket(self) -> Iterator[pl.DataFrame]:
        """The buckets that hold steps, one at a time, each in the order written, with the
        columns any of its files has (missing ones null)."""
        self._flush()
        for folder in sorted(self.root.iterdir()):
            files = sorted(folder.glob("*.parquet"))
            yield pl.concat([pl.read_parquet(file) for file in files], how="diagonal")

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BucketSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
