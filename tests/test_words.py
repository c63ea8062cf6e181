"""Counts agree with their nouns and verbs: "1 line", "1 step carries", never "1 lines"."""

from __future__ import annotations

from agentcost.renderers.text import agreeing, plural


def test_plural_and_agreeing():
    assert [plural(n, "line") for n in (0, 1, 2, 1_000)] == [
        "0 lines", "1 line", "2 lines", "1,000 lines"]
    assert plural(1, "alias", "aliases") == "1 alias" and plural(3, "alias", "aliases") == (
        "3 aliases")
    assert [agreeing(n, "carries", "carry") for n in (0, 1, 2)] == ["carry", "carries", "carry"]


def test_one_of_each_reads_in_the_singular(run_cli, write_jsonl):
    # One gpt-4o step of 10,000 output tokens ($0.10) that reports $0.50 of its own: it
    # differs from ours by more than 1%.
    path = write_jsonl([{"task_id": "t1", "model": "gpt-4o", "output_tokens": 10_000,
                         "llm_cost_usd": 0.5}])
    text = run_cli("report", str(path), "--no-color").stdout
    assert "1 step carries the producer's own cost; 1 differs" in text
    assert ": 1 line read, 1 used" in text
    assert "1 lines" not in text and "1 steps" not in text


def test_no_usable_line_in_one_line(run_cli, write_jsonl):
    result = run_cli("report", str(write_jsonl(["not json"])))
    assert result.exit_code == 1
    assert "1 of 1 line skipped" in result.stderr
    assert "no usable line in 1 line read" in result.stderr
