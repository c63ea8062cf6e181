"""Percentiles shared by the report and the simulator.

Nearest rank: P90 of n values is the value at rank ceil(0.9 * n) in ascending order, so every
percentile is one of the values (some real task's cost), never a blend of two.
"""

from __future__ import annotations

import math


def nearest_rank(sorted_values: list[float], percentile: float) -> float:
    rank = max(math.ceil(percentile / 100 * len(sorted_values)), 1)
    return sorted_values[rank - 1]
