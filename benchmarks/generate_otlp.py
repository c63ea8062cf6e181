"""Seeded generator of an OTLP/JSON file exporter log: one TracesData per line, agent tasks with
nested wrapper spans that repeat usage, tool spans with repeated arguments, and context that
grows every step.

    python benchmarks/generate_otlp.py --spans 250000 -o benchmarks/out/otlp.jsonl
    python benchmarks/generate_otlp.py --spans 250000 --tasks-per-line 40 -o big-lines.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys


def kv(key: str, value: object) -> dict[str, object]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def generate(out, *, spans: int, seed: int,  # type: ignore[no-untyped-def]
             tasks_per_line: int = 1) -> int:
    """`tasks_per_line` above 1 writes several tasks' spans on each line, as an exporter's batch
    processor does (about 40 make lines of 250-370 KB)."""
    rng = random.Random(seed)
    written = task = 0
    pending: list[dict[str, object]] = []
    clock = 1_795_000_000_000_000_000
    while written < spans:
        task += 1
        trace = f"{rng.getrandbits(128):032x}"
        root = f"{rng.getrandbits(64):016x}"
        batch = [{"traceId": trace, "spanId": root, "parentSpanId": "", "name": "invoke_agent",
                  "kind": 1, "startTimeUnixNano": str(clock),
                  "endTimeUnixNano": str(clock + 10**9),
                  "attributes": [kv("gen_ai.operation.name", "invoke_agent"),
                                 kv("gen_ai.agent.name", "researcher")]}]
        context = rng.randint(800, 3000)
        for _ in range(rng.randint(3, 12)):
            wrapper, call = f"{rng.getrandbits(64):016x}", f"{rng.getrandbits(64):016x}"
            output = rng.randint(50, 600)
            usage = [kv("gen_ai.usage.input_tokens", context),
                     kv("gen_ai.usage.output_tokens", output)]
            clock += rng.randint(10**8, 3 * 10**9)
            batch.append({"traceId": trace, "spanId": wrapper, "parentSpanId": root,
                          "name": "call_llm", "kind": 1, "startTimeUnixNano": str(clock),
                          "endTimeUnixNano": str(clock + 10**9), "attributes": usage})
            batch.append({"traceId": trace, "spanId": call, "parentSpanId": wrapper,
                          "name": "chat gpt-4o-mini", "kind": 3,
                          "startTimeUnixNano": str(clock), "endTimeUnixNano": str(clock + 10**9),
                          "attributes": [kv("gen_ai.operation.name", "chat"),
                                         kv("gen_ai.request.model", "gpt-4o-mini"), *usage]})
            if rng.random() < 0.5:
                batch.append({"traceId": trace, "spanId": f"{rng.getrandbits(64):016x}",
                              "parentSpanId": root, "name": "execute_tool web_search",
                              "kind": 1, "startTimeUnixNano": str(clock),
                              "endTimeUnixNano": str(clock + 10**8),
                              "attributes": [kv("gen_ai.operation.name", "execute_tool"),
                                             kv("gen_ai.tool.name", "web_search"),
                                             kv("gen_ai.tool.call.arguments",
                                                json.dumps({"q": f"q{rng.randint(0, 300)}"}))]})
            context += output + rng.randint(100, 900)
        pending.extend(batch)
        if task % tasks_per_line == 0:
            _write_line(out, pending)
            pending = []
        written += len(batch)
    if pending:
        _write_line(out, pending)
    return written


def _write_line(out, spans: list[dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    """One TracesData line, as the Collector's file exporter writes a batch."""
    out.write(json.dumps({"resourceSpans": [{
        "resource": {"attributes": [kv("service.name", "agents")]},
        "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]},
        separators=(",", ":")) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tasks-per-line", type=int, default=1)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with open(args.output, "w", encoding="utf-8") as out:
        count = generate(out, spans=args.spans, seed=args.seed,
                         tasks_per_line=args.tasks_per_line)
    print(f"wrote {count:,} spans to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
