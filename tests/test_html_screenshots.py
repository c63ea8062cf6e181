"""The HTML report as a reader sees it: screenshots in headless Chromium at 1280x900 and 390x844
of the sample report and of a 100,000-task report, and what the browser built from each page
(its title, the charts over time and by model, the histogram's markers, the capped task table
and the CSV it carries), with the size and render time of the large page."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agentcost.renderers.text import money
from tests.conftest import SAMPLES
from tests.test_html_report import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
SIZES = ((1280, 900), (390, 844))
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})
TASKS = 100_000
MB = 1_000_000


@dataclass
class Element:
    """What an element with an id holds: descendants by tag, and the text of descendants by
    class (one entry per descendant)."""

    tags: Counter[str] = field(default_factory=Counter)
    by_class: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    text: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """The DOM as Chromium dumped it, read back: the title and every element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.ids: dict[str, Element] = {}
        self._stack: list[tuple[str, Element | None, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for _, element, _, _ in self._stack:
            if element is not None:
                element.tags[tag] += 1
        if tag in VOID:
            return
        element = Element() if attributes.get("id") else None
        if element is not None:
            self.ids[attributes["id"] or ""] = element
        self._stack.append((tag, element, attributes.get("class"), []))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, _, cls, text = self._stack.pop()
            if cls:
                for _, element, _, _ in self._stack:
                    if element is not None:
                        element.by_class[cls].append("".join(text))
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1][0] == "title" and len(self._stack) <= 3:
            self.title += data  # the page's (html, head, title), not an SVG shape's
        for _, element, _, text in self._stack:
            text.append(data)
            if element is not None:
                element.text.append(data)


def look(tmp_path: Path, page: Path, name: str, *, drawn: bool = True,
         sizes: tuple[tuple[int, int], ...] = SIZES) -> tuple[Page, float]:
    """Screenshots of `page` at each size (kept in tmp_path for a person to look at), the DOM
    the browser built, and the seconds the slowest took."""
    dom, slowest = "", 0.0
    for width, height in sizes:
        shot = tmp_path / f"{name}-{width}x{height}.png"
        started = time.monotonic()
        dom = chromium(tmp_path, f"--window-size={width},{height}", f"--screenshot={shot}",
                       "--dump-dom", page.as_uri())
        slowest = max(slowest, time.monotonic() - started)
        assert shot.stat().st_size > 20_000 or not drawn, shot  # a page drawn, not a blank one
    parsed = Page()
    parsed.feed(dom)
    return parsed, slowest


def test_sample_report_in_a_browser(run_cli, tmp_path):
    page = tmp_path / "sample.html"
    result = run_cli("report", str(SAMPLES / "agents.jsonl"), "-f", "html", "-o", str(page))
    assert result.exit_code == 0, result.stderr
    seen, _ = look(tmp_path, page, "sample")

    # The title says what the page covers: the input, its day, the total and the tasks.
    assert seen.title.startswith("agentcost report: agents.jsonl, 2026-11-27 ($")
    assert seen.title.endswith(", 402 tasks)")
    # Steps from 00:03 to 21:42 on 2026-11-27: one column per hour, 00:00 to 21:00.
    time_chart = seen.ids["chart-time"]
    assert time_chart.tags["g"] == 22
    assert "UTC, one column per hour" in "".join(time_chart.text)
    # The model chart: the four priced models, costliest first, as the models table has them.
    models = seen.ids["chart-models"]
    assert models.by_class["label"] == ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash",
                                        "gpt-4o-mini"]
    assert models.tags["rect"] == 4
    assert seen.ids["chart-workflows"].by_class["label"] == ["research", "coding *", "triage",
                                                             "support"]
    # The histogram's percentile markers carry their values, as the P50/P90/P99 cards do.
    markers = [text for text in seen.ids["histogram"].by_class["pct"] if text]  # not the lines
    assert [m.split(" ")[0] for m in markers] == ["P50", "P90", "P99"]
    assert [m.split(" ")[1] for m in markers] == [
        "".join(seen.ids[f"card-p{p}"].text).removeprefix(f"P{p}") for p in (50, 90, 99)]
    # The summary and the models come before the task table, which shows 100 of 402 rows.
    assert seen.ids["tasks"].tags["tr"] == 101


def big_trace(path: Path) -> Path:
    """100,000 tasks of one step each, 2.592 s apart (three days, 72 hours), and one step of a
    model no price table knows."""
    lines = []
    for i in range(TASKS):
        model = "gpt-4o" if i % 4 == 0 else "gpt-4o-mini"
        tool = ',"tool_name":"web_search"' if i % 10 == 0 else ""
        seconds = i * 2.592
        stamp = (f"2026-11-{1 + int(seconds // 86400):02d}T{int(seconds % 86400 // 3600):02d}:"
                 f"{int(seconds % 3600 // 60):02d}:{seconds % 60:06.3f}Z")
        lines.append(f'{{"task_id":"t{i:06d}","timestamp":"{stamp}","model":"{model}",'
                     f'"input_tokens":1000,"output_tokens":100,'
                     f'"workflow":"w{i % 5}"{tool}}}')
    lines.append('{"task_id":"t000000","timestamp":"2026-11-01T00:00:01Z",'
                 '"model":"mystery-1","input_tokens":10,"output_tokens":1}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_100k_task_report_is_a_page_of_a_few_mb_that_renders_in_seconds(run_cli, tmp_path):
    trace = big_trace(tmp_path / "big.jsonl")
    page = tmp_path / "big.html"
    result = run_cli("report", str(trace), "-f", "html", "-o", str(page))
    assert result.exit_code == 0, result.stderr
    size = page.stat().st_size
    assert size < 5 * MB, f"{size:,} bytes"

    tiny = tmp_path / "tiny.html"
    tiny.write_text("<!doctype html><title>t</title><p>t", encoding="utf-8")
    # The browser's own start, so that what is timed is the page's render.
    _, startup = look(tmp_path, tiny, "tiny", drawn=False, sizes=SIZES[:1])
    seen, took = look(tmp_path, page, "big")
    assert took - startup < 5.0, f"{took:.1f} s against {startup:.1f} s for an empty page"

    # gpt-4o: 25,000 steps x (1,000 x $2.50 + 100 x $10) / 1M = 25,000 x $0.0035 = $87.50
    # gpt-4o-mini: 75,000 x (1,000 x $0.15 + 100 x $0.60) / 1M = 75,000 x $0.00021 = $15.75
    # web_search: 10,000 calls x $0.005 = $50; total $153.25, the mystery-1 step unpriced.
    assert seen.title == (f"agentcost report: big.jsonl, 2026-11-01 to 2026-11-03 "
                          f"({money(153.25)}, 100,000 tasks)")
    assert "".join(seen.ids["card-total"].text) == f"Total{money(153.25)} *"
    # 259,197 s from the first step to the last: 72 hourly columns.
    assert seen.ids["chart-time"].tags["g"] == 72
    models = seen.ids["chart-models"]
    assert models.by_class["label"] == ["gpt-4o", "gpt-4o-mini"]
    # $87.50 of $103.25 is 84.7%; $15.75 is 15.3%
    assert [v.split()[0:2] for v in models.by_class["v"]] == [
        [money(87.5), "84.7%"], [money(15.75), "15.3%"]]
    # Steps by the tool they called: web_search on every 10th task, half of them gpt-4o:
    # 5,000 x ($0.0035 + $0.005) + 5,000 x ($0.00021 + $0.005) = $68.55; the other 90,000
    # steps 20,000 x $0.0035 + 70,000 x $0.00021 = $84.70, with the unpriced one marked.
    tools = seen.ids["chart-tools"]
    assert tools.by_class["label"] == ["(no tool) *", "web_search"]
    assert [v.split()[0] for v in tools.by_class["v"]] == [money(84.7), money(68.55)]
    # 99,999 tasks priced whole (t000000 is partial): 70,000 at $0.00021, 20,000 at $0.0035,
    # 5,000 at $0.00521, 4,999 at $0.0085. Nearest rank: P50 rank 50,000 -> $0.00021,
    # P90 rank 89,999 -> $0.0035, P99 rank 99,000 -> $0.0085.
    assert [text for text in seen.ids["histogram"].by_class["pct"] if text] == [
        f"P50 {money(0.00021)}", f"P90 {money(0.0035)}", f"P99 {money(0.0085)}"]

    # 100 rows drawn, the costliest ($0.0085: every 20th task, by id), each flagged as high
    # (above 2 x P50 = $0.00042) in words as well as in colour.
    table = seen.ids["tasks"]
    assert table.tags["tr"] == 101
    assert table.by_class["mark"] == ["high"] * 100
    # t000000's total: the 7th figure of the first row, after the 7 figures' headings
    assert table.by_class["n"][13] == f"{money(0.0085)} partial"
    # Every task is in the page's CSV, and its costs add up to the total.
    packed = "".join(seen.ids["csv-data"].text).strip()
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(base64.b64decode(packed))
                                           .decode("utf-8"))))
    assert len(rows) == TASKS
    assert rows[0]["task_id"] == "t000000" and rows[1]["task_id"] == "t000020"
    assert round(sum(float(row["total_cost_usd"] or 0) for row in rows), 6) == 153.25
