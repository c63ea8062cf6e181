from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from agentcost.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_traces"
REAL_TRACES = ROOT.parent / "shared" / "traces" / "real"

# Property tests check results, never speed: no per-example deadline that a busy machine misses.
settings.register_profile("results-only", deadline=None)
settings.load_profile("results-only")


def pytest_configure(config: pytest.Config) -> None:
    """CI has the shared traces beside the clone: there, a test that would skip for want of
    them is a failure, not a skip."""
    if os.environ.get("CI") and not REAL_TRACES.is_dir():
        raise pytest.UsageError(f"CI: {REAL_TRACES} is missing; the real-trace tests need it")


@pytest.fixture
def run_cli() -> Callable[..., Any]:
    runner = CliRunner()

    def run(*args: str, input: str | None = None, columns: int = 120) -> Any:
        return runner.invoke(app, list(args), input=input, env={"COLUMNS": str(columns)},
                             prog_name="agentcost")

    return run


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    def write(records: list[Any], name: str = "steps.jsonl") -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_prices(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "prices.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """tests/engine_datasets.py: generated steps dealt over six files."""
    from tests.engine_datasets import make_shards

    return make_shards(tmp_path_factory.mktemp("shards"))


@pytest.fixture(scope="session")
def adversarial(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """tests/engine_datasets.py: sub-cent prices and budgets reached exactly."""
    from tests.engine_datasets import make_adversarial

    return make_adversarial(tmp_path_factory.mktemp("adversarial"))
