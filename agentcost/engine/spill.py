"""Steps spilled to Parquet files, bucketed by a hash of their task: every step of a task
lands in the same bucket, so a bucket read back holds whole tasks, and only one bucket is
in memory at a time."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

BUCKET = "_bucket"
HASH_SEED = 20261207


class BucketSpill:
    """A temporary directory of Parquet files, one folder per bucket; removed on close."""

    def __init__(self, buckets: int, directory: str | None = None) -> None:
        self.buckets = buckets
        self.root = Path(tempfile.mkdtemp(prefix="agentcost-spill-", dir=directory))
        self._written = 0
        self.rows = 0

    def write(self, steps: pl.DataFrame) -> None:
        """`steps` (any rows) added to their buckets."""
        if steps.is_empty():
            return
        self.rows += steps.height
        bucketed = steps.with_columns(
            (pl.col("task_id").hash(HASH_SEED) % self.buckets).cast(pl.Int32).alias(BUCKET))
        for (bucket,), part in bucketed.partition_by(BUCKET, as_dict=True,
                                                     include_key=False).items():
            folder = self.root / f"{bucket:05d}"
            folder.mkdir(exist_ok=True)
            part.write_parquet(folder / f"{self._written:08d}.parquet", compression="lz4",
                               statistics=False)
            self._written += 1

    def each_bucket(self) -> Iterator[pl.DataFrame]:
        """The buckets that hold steps, one at a time, each in the order written."""
        for folder in sorted(self.root.iterdir()):
            files = sorted(folder.glob("*.parquet"))
            yield pl.concat([pl.read_parquet(file) for file in files], how="vertical")

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BucketSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
