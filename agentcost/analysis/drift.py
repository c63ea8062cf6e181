"""Drift against an earlier JSON report: change in total, percentiles and per-model spend."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentcost.analysis.report import Report
from agentcost.errors import AgentCostError


@dataclass(frozen=True)
class Change:
    what: str
    before: float
    after: float

    @property
    def percent(self) -> float | None:
        return None if not self.before else 100 * (self.after - self.before) / self.before


@dataclass(frozen=True)
class Baseline:
    """The figures of an earlier report that drift compares against."""

    total_usd: float
    percentiles: dict[int, float]
    model_llm_usd: dict[str, float]


def load_baseline(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError) as error:
        raise AgentCostError(f"{path}: cannot read the baseline report: {error}") from error
    if not isinstance(document, dict) or document.get("schema_version") != 1 \
            or "summary" not in document:
        raise AgentCostError(f"{path}: not an agentcost JSON report (schema_version 1)")
    try:
        return _figures(document)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise AgentCostError(f"{path}: the baseline report is damaged ({type(error).__name__}: "
                             f"{error}); write it again with `agentcost report -f json`"
                             ) from error


def _figures(document: dict[str, Any]) -> Baseline:
    def money(value: Any) -> float:
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(f"expected an amount, found {type(value).__name__}")
        return float(value)

    distribution = document.get("distribution") or {}
    return Baseline(
        total_usd=money(document["summary"]["cost_usd"]["total"]),
        percentiles={p: money(distribution[f"p{p}_usd"]) for p in (50, 90, 99)
                     if f"p{p}_usd" in distribution},
        model_llm_usd={str(row["model"]): money(row["llm_cost_usd"])
                       for row in document.get("by_model") or []},
    )


def drift(report: Report, baseline: Baseline) -> list[Change]:
    changes = [Change("total", baseline.total_usd, report.summary.total_cost_usd)]
    if report.distribution is not None:
        for p, before in baseline.percentiles.items():
            changes.append(Change(f"P{p}", before, report.distribution.percentiles[p]))
    new_models = {str(model): float(cost) for model, cost in
                  report.by_model.select("model", "llm_cost_usd").iter_rows()}
    for model in sorted(set(baseline.model_llm_usd) | set(new_models)):
        changes.append(Change(f"model {model}", baseline.model_llm_usd.get(model, 0.0),
                              new_models.get(model, 0.0)))
    return changes
