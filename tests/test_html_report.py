"""The HTML report in a real browser (headless Chromium): totals, rows, sorting, escaping, and a
screenshot for a person to look at."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# In CI the browser is installed by .ci/run: there, a missing browser is a failure, not a skip.
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="chromium not installed (.ci/run installs it)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None, "chromium is needed for this test"
    profile = tmp_path / "profile"
    completed = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


class TaskRows(HTMLParser):
    """Rows of the task table as the browser left them, and every script element's text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.scripts: list[str] = []
        self.cards: dict[str, str] = {}
        self._in_tasks = self._in_body = self._in_script = False
        self._card: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id") == "tasks":
            self._in_tasks = True
        elif tag == "tbody" and self._in_tasks:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")
        elif tag == "div" and (attributes.get("id") or "").startswith("card-"):
            self._card = attributes["id"].removeprefix("card-")

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_tasks = self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "script":
            self._in_script = False
        elif tag == "div":
            self._card = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_script:
            self.scripts[-1] += data
        if self._card is not None and data.startswith("$"):
            self.cards[self._card] = data


def test_report_page_in_a_browser(run_cli, write_jsonl, tmp_path):
    evil = "<script>alert('x')</script>"
    records = [{"task_id": f"task-{i:02d}", "model": "gpt-4o", "output_tokens": 1_000 * (i + 1)}
               for i in range(12)]
    records.append({"task_id": evil, "model": "gpt-4o", "output_tokens": 500})
    page = tmp_path / "report.html"
    result = run_cli("report", str(write_jsonl(records)), "-f", "html", "-o", str(page))
    assert result.exit_code == 0, result.stderr
    assert "<script>alert" not in page.read_text()

    shot = tmp_path / "report.png"
    loaded = TaskRows()
    loaded.feed(chromium(tmp_path, "--window-size=1200,1400", f"--screenshot={shot}",
                         "--dump-dom", page.as_uri()))
    assert shot.stat().st_size > 10_000  # kept in tmp_path for a person to look at
    # 78 x $0.01 + $0.005 = $0.785
    assert loaded.cards["total"] == "$0.785"
    assert len(loaded.rows) == 13
    assert [row[0] for row in loaded.rows].count(evil) == 1  # shown as text
    assert not any("alert(" in script for script in loaded.scripts)

    by_name = TaskRows()
    by_name.feed(chromium(tmp_path, "--dump-dom", page.as_uri() + "#sort=task"))
    names = [row[0] for row in by_name.rows]
    assert names == sorted(names)
    by_cost = TaskRows()
    by_cost.feed(chromium(tmp_path, "--dump-dom", page.as_uri() + "#sort=total-desc"))
    # The last column is the flag; the total is the one before it.
    totals = [float(re.sub(r"[$,]", "", row[-2])) for row in by_cost.rows]
    assert totals == sorted(totals, reverse=True) and totals[0] == 0.12
