"""Executors: where and how the plan (engine/plan.py, engine/partials.py) runs.

`memory` reads every step into one frame and computes the report in one process, as fast as
the machine allows; `local` spills the steps, bucketed by a hash of their task, to Parquet
files and computes the report bucket by bucket in bounded memory; `ray` runs the same plan as
Ray tasks across a cluster's machines (the `ray` extra). All give the same report, byte for
byte. `auto` picks `memory` when the input fits comfortably in memory, else `local`.
"""

from __future__ import annotations

ENGINES = ("auto", "memory", "local", "ray")
