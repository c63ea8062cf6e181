"""Every real trace file in ../shared/traces/real gives the truth its README states: each logical
model call counted once, token buckets that add up, the right models."""

from __future__ import annotations

import json

import polars as pl
import pytest

from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.table import load_price_table
from tests.conftest import REAL_TRACES

pytestmark = pytest.mark.skipif(not REAL_TRACES.is_dir(), reason="shared/traces/real not present")

# file: (format, llm calls, uncached input, cache read, cache write, output, models, tool steps)
TRUTHS = {
    "otlp/adk-python-S1.otlp.json":
        ("OTLP/JSON", 1, 12, 0, 0, 9, ["gemini-2.5-flash"], 0),
    "otlp/kagent-tempo-export.json":
        ("OTLP/JSON", 2, 4_648, 0, 0, 129, ["gpt-4.1-mini-2025-04-14"], 1),
    "openinference/vercel-ai-v6-spans.json":
        ("span list (Phoenix / OpenInference / OTel SDK)", 4, 142, 0, 0, 297,
         ["gpt-4o-mini-2024-07-18"], 0),
    "openinference/genai-client-span-attributes.json":
        ("span attribute map", 1, 97, 0, 0, 52, ["gpt-4-0613"], 0),
    # prompt 310,222 includes the cache: 310,222 - 305,482 - 4,722 = 18 uncached
    "phoenix/pxi-turn-trace.json":
        ("span list (Phoenix / OpenInference / OTel SDK)", 9, 18, 305_482, 4_722, 1_895,
         ["claude-fable-5"], 8),
    "langfuse/openai-agents-2025-09-30.trace.json":
        ("Langfuse trace export", 2, 140, 0, 0, 44, ["gpt-4.1-2025-04-14"], 1),
    "langfuse/pydantic-ai-tools-2025-12-04.trace.json":
        ("Langfuse trace export", 4, 1_315, 0, 0, 209, ["gpt-4o-mini-2024-07-18"], 3),
    "langfuse/microsoft-agent-2025-12-17.trace.json":
        ("Langfuse trace export", 2, 293, 0, 0, 106, ["gpt-5-mini-2025-08-07"], 1),
}


@pytest.mark.parametrize("name", sorted(TRUTHS))
def test_real_trace_truth(name):
    fmt, calls, uncached, cache_read, cache_write, output, models, tools = TRUTHS[name]
    ingested = read_steps([str(REAL_TRACES / name)])
    steps = ingested.steps
    llm = steps.filter(pl.col("kind") == "llm")
    assert llm.height == calls
    assert llm["input_tokens"].sum() == uncached
    assert llm["cache_read_tokens"].sum() == cache_read
    assert llm["cache_write_5m_tokens"].sum() == cache_write
    assert llm["output_tokens"].sum() == output
    assert sorted(llm["model"].unique().to_list()) == models
    assert steps.filter(pl.col("kind") == "tool").height == tools
    assert list(ingested.accounting.formats) == [fmt]
    assert ingested.accounting.spans_used == steps.height


def test_vercel_embedding_is_counted_once():
    steps = read_steps([str(REAL_TRACES / "openinference/vercel-ai-v6-spans.json")]).steps
    embeddings = steps.filter(pl.col("kind") == "embedding")
    assert embeddings["model"].to_list() == ["text-embedding-3-small"]
    assert embeddings["input_tokens"].to_list() == [10]


def test_phoenix_placeholder_model_is_unpriced_not_free():
    steps = read_steps([str(REAL_TRACES / "phoenix/pxi-turn-trace.json")]).steps
    priced = price_steps(steps.lazy(), load_price_table()).collect()
    llm = priced.filter(pl.col("kind") == "llm")
    assert llm["unpriced_reason"].unique().to_list() == ["model not in price table"]
    assert llm["llm_cost_usd"].null_count() == 9


@pytest.mark.parametrize(("name", "cost"), [
    ("langfuse/openai-agents-2025-09-30.trace.json", 0.000632),
    ("langfuse/pydantic-ai-tools-2025-12-04.trace.json", 0.00032265),
    ("langfuse/microsoft-agent-2025-12-17.trace.json", 0.00028525),
])
def test_langfuse_reported_cost_is_carried(name, cost):
    steps = read_steps([str(REAL_TRACES / name)]).steps
    assert steps["reported_cost_usd"].sum() == pytest.approx(cost, abs=1e-9)


def test_kagent_span_accounting():
    accounting = read_steps([str(REAL_TRACES / "otlp/kagent-tempo-export.json")]).accounting
    assert accounting.spans_read == 86
    assert accounting.spans_used == 3
    reasons = {reason: tally.count for reason, tally in accounting.spans_not_steps.items()}
    # each of the 2 calls appears three times (call_llm > generate_content > openai.chat)
    assert reasons["usage repeated by a nested span (counted once, at the deepest)"] == 4 + 2
    assert sum(reasons.values()) == 83


def test_report_command_names_the_format(run_cli):
    result = run_cli("report", str(REAL_TRACES / "otlp/adk-python-S1.otlp.json"), "-f", "json")
    document = json.loads(result.stdout)
    assert document["lines"]["formats"] == {"OTLP/JSON": 1}
    assert document["summary"]["tokens"]["input"] == 12
    assert document["spans"] == {"read": 4, "steps": 1, "not_steps_by_reason": [
        {"reason": "agent span (structure; its usage is an aggregate of its calls)", "count": 1},
        {"reason": "usage repeated by a nested span (counted once, at the deepest)",
         "count": 2}], "skipped_by_reason": []}


def test_a_native_log_with_session_fields_is_not_taken_for_a_session_log(write_jsonl):
    log = write_jsonl([{"task_id": "t1", "sessionId": "s", "message": "hi", "model": "gpt-4o",
                        "input_tokens": 10},
                       {"sessionId": "s", "message": "no task", "model": "gpt-4o"}])
    assert set(read_steps([str(log)]).accounting.skipped) == {"missing task_id"}
