"""The terminal dashboard, byte for byte, at a pinned width with colour off. To accept a new
layout on purpose: AGENTCOST_UPDATE_GOLDEN=1 pytest tests/test_golden_terminal.py"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

GOLDEN = Path(__file__).parent / "golden"


def scrub(text: str) -> str:
    """The volatile fields: where the checkout and the price table are."""
    text = text.replace(f"{SAMPLES}/", "sample_traces/")
    return re.sub(r"Prices: \S+pricing\.yaml", "Prices: pricing.yaml", text)


@pytest.mark.parametrize(("name", "args"), [
    ("research_agent", ("research_agent.jsonl",)),
    ("agents_by_workflow", ("agents.jsonl", "--by", "workflow", "--top", "5")),
])
def test_terminal_report_matches_golden(run_cli, name, args):
    result = run_cli("report", str(SAMPLES / args[0]), *args[1:], "--no-color")
    assert result.exit_code == 0, result.stderr
    text = scrub(result.stdout)
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("AGENTCOST_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
