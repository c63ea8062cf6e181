"""The shipped price table: every model the real traces name that has a public price is priced,
each entry says where its price comes from and when it was read, and names without a public
price stay unpriced."""

from __future__ import annotations

import polars as pl
import pytest

from agentcost.ingest.read import read_steps
from agentcost.pricing.cost import price_steps
from agentcost.pricing.resolve import near_names, resolve_model
from agentcost.pricing.table import load_price_table
from tests.conftest import REAL_TRACES


@pytest.fixture(scope="module")
def table():
    return load_price_table()


# (file under shared/traces/real, model name as written there, the entry it is priced by)
PRICED = [
    ("claude-code/short-session.jsonl", "claude-opus-4-6", "claude-opus-4-6"),
    ("claude-code/tool-heavy-session.jsonl", "claude-opus-4-6", "claude-opus-4-6"),
    ("claude-code/ccusage-minimal.jsonl", "claude-opus-4-20250514", "claude-opus-4-1"),
    ("claude-code/ccusage-minimal.jsonl", "claude-sonnet-4-20250514", "claude-sonnet-4"),
    ("claude-code/codemie-bedrock-noreqid-3fe1b6bc.jsonl", "claude-sonnet-4-5-20250929",
     "claude-sonnet-4-5"),
    ("claude-code/codemie-summaries-9eda1058.jsonl", "claude-3-5-sonnet", "claude-3-5-sonnet"),
    ("claude-code/codemie-summaries-9eda1058.jsonl", "gpt-4-turbo", "gpt-4-turbo"),
    ("claude-code/codemie-bedrock-noreqid-3fe1b6bc.jsonl", "gpt-4.1", "gpt-4.1"),
    ("claude-code/agentsessions-schema-coverage-TRIMMED.jsonl", "claude-opus-5", "claude-opus-5"),
    ("claude-code/agentsessions-schema-coverage-TRIMMED.jsonl", "claude-opus-4-8",
     "claude-opus-4-8"),
    ("claude-code/agentsessions-schema-coverage-TRIMMED.jsonl", "claude-sonnet-5",
     "claude-sonnet-5"),
    ("cline/clinexray-9dbbc27-ui_messages.json", "claude-sonnet-4-5-20250929",
     "claude-sonnet-4-5"),
    ("codex/rollout-small.jsonl", "gpt-5.3-codex", "gpt-5.3-codex"),
    ("codex/ccusage-minimal.jsonl", "gpt-5.2-codex", "gpt-5.2-codex"),
    ("codex/codemie-0.125-norepeats-019e1625.jsonl", "gpt-5.5", "gpt-5.5"),
    ("copilot-cli/vct-events-96ef38f0.jsonl", "claude-sonnet-4.6", "claude-sonnet-4-6"),
    ("gemini/vct-gemini-0ab84937.jsonl", "gemini-3-flash-preview", "gemini-3-flash-preview"),
    ("gemini/vct-gemini-0ab84937.jsonl", "gemini-3.1-pro-preview", "gemini-3.1-pro-preview"),
    ("gemini/codemie-session-2025-12-01T21-45-5b959dae.json", "gemini-3-pro-image-preview",
     "gemini-3-pro-image-preview"),
    ("otlp/adk-python-S1.otlp.json", "gemini-2.5-flash", "gemini-2.5-flash"),
    ("otlp/kagent-tempo-export.json", "gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
    ("openinference/genai-client-span-attributes.json", "gpt-4", "gpt-4"),
    ("openinference/genai-client-span-attributes.json", "gpt-4-0613", "gpt-4"),
    ("openinference/vercel-ai-v6-spans.json", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("openinference/vercel-ai-v6-spans.json", "text-embedding-3-small",
     "text-embedding-3-small"),
    ("langfuse/openai-agents-2025-09-30.trace.json", "gpt-4.1-2025-04-14", "gpt-4.1"),
    ("langfuse/pydantic-ai-tools-2025-12-04.trace.json", "gpt-4o-mini-2024-07-18",
     "gpt-4o-mini"),
    ("langfuse/microsoft-agent-2025-12-17.trace.json", "gpt-5-mini-2025-08-07", "gpt-5-mini"),
    # request model names beside the response's dated ones
    ("langfuse/microsoft-agent-2025-12-17.trace.json", "gpt-5-mini", "gpt-5-mini"),
    ("otlp/kagent-tempo-export.json", "gpt-4.1-mini", "gpt-4.1-mini"),
    ("openinference/vercel-ai-v6-spans.json", "gpt-4o-mini", "gpt-4o-mini"),
]

# Named in the traces without a public price: unpriced, never $0 and never a near name's price.
UNPRICED = [
    ("phoenix/pxi-turn-trace.json", "claude-fable-5"),  # a placeholder (see the traces' README)
    ("qwen/splitrail-qwen_code.jsonl", "coder-model"),  # a mock model server
    ("claude-code/agentsessions-schema-coverage-TRIMMED.jsonl", "<synthetic>"),
    # a custom OpenCode provider (providerID/modelID): its own price, not DeepSeek's
    ("opencode/stunning-memory-opencode.db", "monkeycode-basic"),
    # an Ollama cloud model named in a profile listing
    ("claude-code/codemie-bedrock-noreqid-3fe1b6bc.jsonl", "deepseek-v3.1:671b-cloud"),
    # a profile's spelling of gpt-5.1-codex with a date no provider lists: a near name only
    ("claude-code/codemie-bedrock-noreqid-3fe1b6bc.jsonl", "gpt-5-1-codex-2025-11-13"),
]

# What the unpriced section suggests for them, as a suggestion only.
NEAR = {"monkeycode-basic/deepseek-v4-flash": ["deepseek-v4-flash"],
        "gpt-5-1-codex-2025-11-13": ["gpt-5.1-codex"]}

needs_traces = pytest.mark.skipif(not REAL_TRACES.is_dir(), reason="shared/traces not present")


@needs_traces
@pytest.mark.parametrize(("path", "name", "entry"), PRICED)
def test_every_model_the_real_traces_name_with_a_public_price_is_priced(table, path, name,
                                                                        entry):
    assert name.encode() in (REAL_TRACES / path).read_bytes()  # the list keeps to the files
    assert resolve_model(name, table).model == entry
    assert table.models[entry].source and table.models[entry].as_of


@needs_traces
@pytest.mark.parametrize(("path", "name"), UNPRICED)
def test_names_without_a_public_price_stay_unpriced(table, path, name):
    assert name.encode() in (REAL_TRACES / path).read_bytes()
    model = "monkeycode-basic/deepseek-v4-flash" if name == "monkeycode-basic" else name
    assert resolve_model(model, table).model is None
    assert near_names(model, table) == NEAR.get(model, [])


def test_every_shipped_entry_has_a_source_and_a_date(table):
    for model in table.models.values():
        assert model.source and model.as_of, model.name
        assert len(model.as_of) == 10 and model.as_of.startswith("20"), model.name
    for tool in table.tools.values():
        assert tool.source and tool.as_of, tool.name


@needs_traces
def test_the_gpt_4_0613_span_is_priced_by_hand(table):
    # request gpt-4, response gpt-4-0613: 97 input x $30 + 52 output x $60 per 1M
    steps = read_steps([str(REAL_TRACES / "openinference/genai-client-span-attributes.json")])
    priced = price_steps(steps.steps.lazy(), table).collect().filter(pl.col("kind") == "llm")
    assert priced["llm_cost_usd"].to_list() == [pytest.approx((97 * 30 + 52 * 60) / 1e6)]
    assert priced["llm_cost_usd"].item() == pytest.approx(0.00603)
