"""The HTML task table's embedded CSV: every task when it fits the page's budget, the first
tasks that fit (and words saying so) when it does not."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import random
import re
import uuid

import agentcost
from agentcost.analysis.report import sort_tasks
from agentcost.renderers import html_tables


def embedded_rows(page: str) -> list[dict[str, str]]:
    packed = re.search(r"id=csv-data>([A-Za-z0-9+/=]+)</script>", page)
    assert packed is not None
    text = gzip.decompress(base64.b64decode(packed.group(1))).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_what_fits_and_says_so(write_jsonl, monkeypatch):
    # 300 tasks with random ids (they do not compress): 1, 2, ... 300 output tokens of gpt-4o.
    rng = random.Random(20)
    records = [{"task_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "model": "gpt-4o", "output_tokens": i} for i in range(1, 301)]
    report = agentcost.report(write_jsonl(records))
    tasks = sort_tasks(report.tasks, "total_cost_usd", top=None)

    whole = html_tables.csv_download(tasks)
    rows = embedded_rows(whole)
    assert len(rows) == 300 and "Download the 300 tasks as CSV" in whole
    # The costliest first: 300 tokens x $10 / 1M = $0.003.
    assert rows[0]["total_cost_usd"] == "0.003"

    monkeypatch.setattr(html_tables, "CSV_BUDGET_BYTES", 4_000)
    cut = html_tables.csv_download(tasks)
    kept = embedded_rows(cut)
    assert 0 < len(kept) < 300
    assert len(base64.b64decode(re.search(r"id=csv-data>([^<]+)<", cut).group(1))) <= 4_000
    assert kept == rows[:len(kept)]  # the first of the same order, whole rows
    assert (f"Download the first {len(kept)} of 300 tasks as CSV (all of them: agentcost "
            "report -f csv)") in cut
