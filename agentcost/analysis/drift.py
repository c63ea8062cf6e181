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


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AgentCostError(f"{path}: cannot read the baseline report: {error}") from error
    if not isinstance(document, dict) or document.get("schema_version") != 1 \
            or "summary" not in document:
        raise AgentCostError(f"{path}: not an agentcost JSON report (schema_version 1)")
    return document


def drift(report: Report, baseline: dict[str, Any]) -> list[Change]:
    changes = [Change("total", float(baseline["summary"]["cost_usd"]["total"] or 0.0),
                      report.summary.total_cost_usd)]
    before = baseline.get("distribution") or {}
    if report.distribution is not None:
        for p in (50, 90, 99):
            if f"p{p}_usd" in before:
                changes.append(Change(f"P{p}", float(before[f"p{p}_usd"]),
                                      report.distribution.percentiles[p]))
    old_models = {row["model"]: float(row["llm_cost_usd"] or 0.0)
                  for row in baseline.get("by_model") or []}
    new_models = {str(model): float(cost) for model, cost in
                  report.by_model.select("model", "llm_cost_usd").iter_rows()}
    for model in sorted(set(old_models) | set(new_models)):
        changes.append(Change(f"model {model}", old_models.get(model, 0.0),
                              new_models.get(model, 0.0)))
    return changes
