"""Tool arguments from every convention that carries them, as canonical JSON, so that tool
caching can be simulated on any trace: on the real traces where a convention has one, on a small
hand-made file where none has. Hit counts are worked out by hand: a hit is a call whose tool and
arguments were seen within the hour before it."""

from __future__ import annotations

import json

import polars as pl
import pytest

import agentcost
from agentcost.ingest.read import read_steps
from agentcost.simulation.scenario import CacheRule, Scenario
from tests.conftest import REAL_TRACES

real_traces = pytest.mark.skipif(not REAL_TRACES.is_dir(),
                                 reason="shared/traces/real not present")
T0 = 1_795_000_000_000_000_000  # ns


def tool_args(paths) -> dict[str, list[str | None]]:
    """Each tool's arguments, call by call in time order."""
    steps = read_steps([str(p) for p in paths]).steps.filter(pl.col("kind") == "tool")
    by_tool: dict[str, list[str | None]] = {}
    for name, args in steps.sort("start_time").select("tool_name", "tool_args").iter_rows():
        by_tool.setdefault(name, []).append(args)
    return by_tool


def cache_everything(paths) -> dict[str, tuple[int, int, int]]:
    """`simulate` with every tool cached for an hour: (calls, calls without arguments, hits)
    by tool."""
    simulation = agentcost.simulate([str(p) for p in paths],
                                    Scenario(cache=(CacheRule("*", 3600),)))
    return {tool.tool_name: (tool.calls, tool.no_args, tool.hits)
            for tool in simulation.touched["caching"].per_tool}


# --- OpenInference: a TOOL span's input.value ----------------------------------------------

PHOENIX = REAL_TRACES / "phoenix/pxi-turn-trace.json"


@real_traces
def test_openinference_input_value_of_tool_spans_on_phoenix():
    args = tool_args([PHOENIX])
    assert args["list_datasets"] == ['{}', '{"after":"fixture-cursor"}']
    assert args["add_spans_to_dataset"] == [
        '{"datasetName":"golden_examples","spanIds":["fx-otel-span-1"]}',
        '{"datasetName":"golden_examples","spanIds":["fixture-node-1"]}']
    assert args["get_route_info"] == ['{"query":"dataset page"}']
    assert args["create_dataset"] == [
        '{"description":"[synthetic dataset description]","name":"golden_examples"}']
    # Its LLM and agent spans carry input.value too: the prompt, never tool arguments.
    steps = read_steps([str(PHOENIX)]).steps
    assert steps.filter(pl.col("kind") != "tool")["tool_args"].null_count() == 9
    # Every call carries arguments; no two calls of a tool have the same ones: no hit.
    assert cache_everything([PHOENIX]) == {
        "add_spans_to_dataset": (2, 0, 0), "ask_user": (1, 0, 0), "bash": (1, 0, 0),
        "create_dataset": (1, 0, 0), "get_route_info": (1, 0, 0), "list_datasets": (2, 0, 0)}


@real_traces
def test_the_same_phoenix_session_run_again_hits_once_per_call(tmp_path):
    """The session run again (the same calls under new span ids) replays each call within the
    hour: each is a hit on the first run's, and only on it (list_datasets' two calls differ,
    so 2 hits of 4, not 3). A plain copy of the file would be the same spans read twice, and
    count once."""
    spans = json.loads(PHOENIX.read_text())
    for span in spans:
        span["context"]["span_id"] = "again-" + span["context"]["span_id"]
        if span.get("parent_id"):
            span["parent_id"] = "again-" + span["parent_id"]
    again = tmp_path / "pxi-again.json"
    again.write_text(json.dumps(spans))
    assert cache_everything([PHOENIX, again]) == {
        "add_spans_to_dataset": (4, 0, 2), "ask_user": (2, 0, 1), "bash": (2, 0, 1),
        "create_dataset": (2, 0, 1), "get_route_info": (2, 0, 1), "list_datasets": (4, 0, 2)}


@real_traces
def test_simulate_cache_all_no_longer_says_phoenix_calls_carry_no_arguments(run_cli):
    result = run_cli("simulate", str(PHOENIX), "--cache", "*")
    assert result.exit_code == 0, result.stderr
    assert "list_datasets" in result.stdout
    assert "carry no arguments" not in result.stdout + result.stderr


def span_dump(spans: list[dict[str, object]]) -> list[dict[str, object]]:
    """Phoenix span JSON, one span a dict of (span id, kind, name, attributes, second)."""
    return [{"name": name, "context": {"trace_id": "t1", "span_id": span_id},
             "span_kind": kind, "start_time": f"2026-07-09T00:00:{second:02d}+00:00",
             "end_time": f"2026-07-09T00:00:{second:02d}+00:00", "attributes": attributes}
            for span_id, kind, name, attributes, second in spans]


def test_openinference_tool_parameters_when_they_are_arguments_not_a_schema(tmp_path):
    """`tool.parameters` is the tool's JSON schema by OpenInference's spec (LlamaIndex, CrewAI,
    OpenAI Agents write it so), the arguments in BeeAI's TOOL spans, which have no input.value;
    a redacted input.value (hide_inputs) is no arguments."""
    schema = json.dumps({"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"]})
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(span_dump([
        ("s1", "LLM", "chat", {"input.value": "a long prompt " * 100,
                               "llm.token_count.prompt": 900,
                               "llm.token_count.completion": 10}, 1),
        ("s2", "TOOL", "weather", {"tool.name": "weather", "tool.parameters": schema,
                                   "input.value": '{"city": "Oslo"}'}, 2),
        ("s3", "TOOL", "weather", {"tool.name": "weather", "tool.parameters": schema,
                                   "input.value": "__REDACTED__"}, 3),
        ("s4", "TOOL", "weather", {"tool.name": "weather", "tool.parameters": schema}, 4),
        ("s5", "TOOL", "beeai", {"tool.name": "beeai", "tool.parameters": '{"q": "x"}'}, 5),
        ("s6", "TOOL", "beeai", {"tool.name": "beeai", "tool.parameters": '{ "q":"x" }'}, 6),
    ])))
    assert tool_args([path]) == {"weather": ['{"city":"Oslo"}', None, None],
                                 "beeai": ['{"q":"x"}', '{"q":"x"}']}
    assert read_steps([str(path)]).steps.filter(pl.col("kind") == "llm")["tool_args"]\
        .to_list() == [None]
    assert cache_everything([path]) == {"weather": (3, 2, 0), "beeai": (2, 0, 1)}


# --- Langfuse: an observation's input -------------------------------------------------------

@real_traces
@pytest.mark.parametrize(("name", "expected", "cached"), [
    # OpenInference (openai-agents): input.value in the metadata, the same as the input
    ("langfuse/openai-agents-2025-09-30.trace.json",
     {"get_weather": ['{"city":"Tokyo"}']}, {"get_weather": (1, 0, 0)}),
    # Microsoft Agent Framework: the arguments are in the observation's input only
    ("langfuse/microsoft-agent-2025-12-17.trace.json",
     {"get_weather": ['{"location":"Tokyo, Japan"}']}, {"get_weather": (1, 0, 0)}),
    # pydantic-ai: three tools called with the same arguments; the key is tool and arguments
    ("langfuse/pydantic-ai-tools-2025-12-04.trace.json",
     {"get_pun_suggestion": ['{"topic":"programming"}'],
      "get_dad_joke_suggestion": ['{"topic":"programming"}'],
      "get_one_liner_suggestion": ['{"topic":"programming"}']},
     {"get_pun_suggestion": (1, 0, 0), "get_dad_joke_suggestion": (1, 0, 0),
      "get_one_liner_suggestion": (1, 0, 0)}),
])
def test_langfuse_tool_observation_input(name, expected, cached):
    assert tool_args([REAL_TRACES / name]) == expected
    assert cache_everything([REAL_TRACES / name]) == cached


def test_langfuse_span_observation_that_is_a_tool_call(tmp_path):
    """Exports from before Langfuse had a TOOL type give tool calls the type SPAN; their
    attributes say they are tool calls. A SPAN that is not one keeps being structure."""
    def observation(ident, kind, name, attributes, input_, second):
        return {"id": ident, "traceId": "t1", "type": kind, "name": name,
                "startTime": f"2025-06-01T10:00:{second:02d}.000Z",
                "endTime": f"2025-06-01T10:00:{second:02d}.500Z",
                "metadata": json.dumps({"attributes": attributes}), "input": input_}

    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
    path = tmp_path / "langfuse.json"
    path.write_text(json.dumps({"trace": {"id": "t1"}, "observations": [
        observation("o1", "SPAN", "agent run", {"gen_ai.agent.name": "a"},
                    [{"role": "user", "content": "a whole conversation"}], 0),
        observation("o2", "SPAN", "execute_tool search", tool, {"q": "x", "n": 1}, 1),
        observation("o3", "SPAN", "execute_tool search", tool, '{"n": 1, "q": "x"}', 2),
        observation("o4", "TOOL", "lookup", {}, {"id": 7}, 3),
    ]}))
    steps = read_steps([str(path)]).steps
    assert steps["name"].to_list() == ["execute_tool search"] * 2 + ["lookup"]
    assert tool_args([path]) == {"search": ['{"n":1,"q":"x"}'] * 2, "lookup": ['{"id":7}']}
    assert cache_everything([path]) == {"search": (2, 0, 1), "lookup": (1, 0, 0)}


# --- Google ADK: gcp.vertex.agent.tool_call_args -------------------------------------------

@real_traces
def test_adk_tool_call_args_on_kagent():
    path = REAL_TRACES / "otlp/kagent-tempo-export.json"
    # Called with no arguments (its model asked for `{}`); its response was captured.
    assert tool_args([path]) == {"helm_list_releases": ["{}"]}
    assert cache_everything([path]) == {"helm_list_releases": (1, 0, 0)}


def kv(key: str, value: object) -> dict[str, object]:
    if isinstance(value, dict):
        return {"key": key, "value": value}  # an AnyValue written out
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def otlp_file(tmp_path, spans: list[tuple[str, dict[str, object], int]]):
    """An OTLP file exporter log: one trace, spans (name, attributes, second), one a line."""
    lines = [json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "ab" * 16, "spanId": f"{number:016x}", "name": name,
        "startTimeUnixNano": str(T0 + second * 10**9),
        "endTimeUnixNano": str(T0 + second * 10**9 + 10**8),
        "attributes": [kv(k, v) for k, v in attributes.items()]}]}]}]})
        for number, (name, attributes, second) in enumerate(spans, start=1)]
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_adk_arguments_and_what_stands_for_none(tmp_path):
    """ADK writes "{}" for the arguments and the response when content capture is off, and
    "N/A" on merged calls: neither is the call's arguments."""
    def adk(name, args, response):
        return (f"execute_tool {name}", {"gen_ai.operation.name": "execute_tool",
                                         "gen_ai.tool.name": name,
                                         "gcp.vertex.agent.tool_call_args": args,
                                         "gcp.vertex.agent.tool_response": response})

    path = otlp_file(tmp_path, [
        (*adk("lookup", '{"query": "weather"}', '{"result": "sunny"}'), 1),
        (*adk("lookup", '{"query":"weather"}', '{"result": "sunny"}'), 2),
        (*adk("lookup", "{}", "{}"), 3),  # capture off
        (*adk("list_all", "{}", '{"result": []}'), 4),  # no arguments, and capture on
        (*adk("(merged tools)", "N/A", "{}"), 5),
    ])
    assert tool_args([path]) == {"lookup": ['{"query":"weather"}'] * 2 + [None],
                                 "list_all": ["{}"], "(merged tools)": [None]}
    assert cache_everything([path]) == {"lookup": (3, 1, 1), "list_all": (1, 0, 0),
                                        "(merged tools)": (1, 1, 0)}


# --- OTel GenAI: gen_ai.tool.call.arguments, as text or structured ---------------------------

def test_genai_tool_call_arguments_as_json_text_and_as_an_otlp_map(tmp_path):
    """The GenAI conventions record the arguments structured where the exporter can: an
    OTLP kvlist, read as the JSON object it stands for. No real trace has the attribute
    (Langfuse moves it into an observation's input)."""
    def tool(arguments, key="gen_ai.tool.call.arguments"):
        return ("execute_tool search", {"gen_ai.operation.name": "execute_tool",
                                        "gen_ai.tool.name": "search", key: arguments})

    structured = {"kvlistValue": {"values": [
        {"key": "q", "value": {"stringValue": "x"}},
        {"key": "n", "value": {"intValue": "2"}},
        {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"},
                                                            {"boolValue": True}]}}}]}}
    path = otlp_file(tmp_path, [
        (*tool('{"q": "x", "n": 2, "tags": ["a", true]}'), 1),
        (*tool(structured), 2),
        (*tool({"kvlistValue": {}}), 3),  # an empty map: no arguments at all, "{}"
        (*tool({"kvlistValue": {"values": [{"value": {"stringValue": "no key"}}]}}), 4),
        (*tool('{"q": "x"}', key="tool_arguments"), 5),  # pydantic-ai before version 3
    ])
    assert tool_args([path]) == {"search": ['{"n":2,"q":"x","tags":["a",true]}'] * 2
                                 + ["{}", None, '{"q":"x"}']}
    assert cache_everything([path]) == {"search": (5, 1, 1)}
    # A line of another shape (here a span id as a number) is decoded leniently: the same map.
    lenient = tmp_path / "lenient.jsonl"
    line = json.loads(path.read_text().splitlines()[1])
    line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = 2
    lenient.write_text(json.dumps(line) + "\n")
    assert tool_args([lenient]) == {"search": ['{"n":2,"q":"x","tags":["a",true]}']}


# --- OpenLLMetry: traceloop.entity.input, unwrapped -----------------------------------------

def test_openllmetry_entity_input_is_unwrapped(tmp_path):
    """OpenLLMetry's @tool decorator writes {"args": [...], "kwargs": {...}}; its LangChain
    instrumentation the callback's whole input, in `gen_ai.tool.call.arguments` too."""
    def decorated(entity_input):
        return ("get_weather.tool", {"traceloop.span.kind": "tool",
                                     "traceloop.entity.name": "get_weather",
                                     "gen_ai.tool.name": "get_weather",
                                     "traceloop.entity.input": entity_input})

    langchain_input = json.dumps({"input_str": "{'city': 'Rome'}", "tags": [],
                                  "metadata": {"langgraph_step": 3},
                                  "inputs": {"city": "Rome"}, "kwargs": {"color": "green"}})
    path = otlp_file(tmp_path, [
        (*decorated('{"args": [], "kwargs": {"city": "Paris"}}'), 1),
        (*decorated('{"args": [], "kwargs": {"city": "Paris"}}'), 2),
        (*decorated('{"args": ["Paris"], "kwargs": {}}'), 3),
        (*decorated('{"args": ["Paris"], "kwargs": {"units": "C"}}'), 4),
        ("execute_tool weather", {"traceloop.span.kind": "tool",
                                  "traceloop.entity.name": "weather",
                                  "gen_ai.operation.name": "execute_tool",
                                  "gen_ai.tool.name": "weather",
                                  "traceloop.entity.input": langchain_input,
                                  "gen_ai.tool.call.arguments": langchain_input}, 5),
    ])
    assert tool_args([path]) == {
        "get_weather": ['{"city":"Paris"}', '{"city":"Paris"}', '["Paris"]',
                        '{"args":["Paris"],"kwargs":{"units":"C"}}'],
        "weather": ['{"city":"Rome"}']}
    assert cache_everything([path]) == {"get_weather": (4, 0, 1), "weather": (1, 0, 0)}


# --- Vercel AI SDK: ai.toolCall.args --------------------------------------------------------

def test_vercel_tool_call_args(tmp_path):
    """OTel-JS ReadableSpans in the shape of the real Vercel AI SDK dump, whose run called no
    tool: `ai.toolCall` spans as the SDK writes them."""
    def tool_call(span_id, args, second):
        return {"name": "ai.toolCall",
                "spanContext": {"traceId": "700d5f98fe2420adcf6ab0822f7a323c",
                                "spanId": span_id},
                "attributes": {"operation.name": "ai.toolCall", "ai.operationId": "ai.toolCall",
                               "ai.toolCall.name": "weather", "ai.toolCall.id": span_id,
                               "ai.toolCall.args": args, "ai.toolCall.result": '"sunny"'},
                "status": {"code": 0}, "startTime": [1770131992 + second, 0],
                "endTime": [1770131992 + second, 500000000], "events": []}

    path = tmp_path / "vercel.json"
    path.write_text(json.dumps([tool_call("648be1dfd8e521b1", '{"city":"Oslo"}', 0),
                                tool_call("648be1dfd8e521b2", '{"city": "Oslo"}', 9),
                                tool_call("648be1dfd8e521b3", '{"city":"Rome"}', 20)]))
    assert tool_args([path]) == {"weather": ['{"city":"Oslo"}', '{"city":"Oslo"}',
                                             '{"city":"Rome"}']}
    assert cache_everything([path]) == {"weather": (3, 0, 1)}
