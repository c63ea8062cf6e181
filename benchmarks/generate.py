"""Seeded generator of realistic native JSONL agent logs, for benchmarks and samples.

Realistic in the ways that matter for cost: the context grows every step (input dominates),
several models and workflows, cache reads on providers that cache, tools whose arguments
repeat (so caching has something to find), and a few runaway tasks that loop far too long.

    python benchmarks/generate.py --steps 1200000 --seed 7 -o benchmarks/out/steps.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

WORKFLOWS = {
    # workflow: (model, step labels, tools)
    "research": ("gpt-4o", ("plan", "search", "read", "summarize", "answer"),
                 ("web_search", "read_page")),
    "support": ("gpt-4o-mini", ("classify", "lookup", "draft", "answer"),
                ("tavily_search", "web_search")),
    "coding": ("claude-sonnet-4-5", ("plan", "edit", "test", "review"),
               ("run_tests", "read_page")),
    "triage": ("gemini-2.5-flash", ("classify", "summarize", "route"), ("web_search",)),
}
CACHING_MODELS = {"claude-sonnet-4-5", "gpt-4o"}
RUNAWAY_SHARE = 0.02
START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def generate(out: TextIO, *, steps: int, seed: int, window_hours: float = 24.0) -> int:
    """Write tasks until at least `steps` lines are written; return the number of lines."""
    rng = random.Random(seed)
    written = 0
    task_number = 0
    seconds_per_task = window_hours * 3600 / max(steps / 9, 1)
    while written < steps:
        task_number += 1
        workflow = rng.choice(tuple(WORKFLOWS))
        model, labels, tools = WORKFLOWS[workflow]
        runaway = rng.random() < RUNAWAY_SHARE
        length = rng.randint(40, 80) if runaway else rng.randint(3, 15)
        context = rng.randint(800, 3000)
        clock = START + timedelta(seconds=task_number * seconds_per_task)
        user = f"user-{rng.randint(1, 60):03d}"
        for step in range(1, length + 1):
            output = rng.randint(60, 700)
            record: dict[str, object] = {
                "task_id": f"task-{task_number:07d}",
                "step_number": step,
                "timestamp": clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "step_name": labels[min(step - 1, len(labels) - 1)] if step < length
                else "answer",
                "model": model,
                "input_tokens": context,
                "output_tokens": output,
            }
            if model in CACHING_MODELS and step > 1:
                record["cache_read_tokens"] = int(context * 0.6)
            if rng.random() < 0.45:
                tool = rng.choice(tools)
                record["tool_name"] = tool
                # A small pool of popular arguments, so repeats are common.
                record["tool_args"] = {"query": f"q{int(rng.paretovariate(1.2)) % 500}"}
            duration = round(rng.uniform(0.4, 6.0), 3)
            record["duration_s"] = duration
            record["user"] = user
            record["workflow"] = workflow
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            written += 1
            context += output + rng.randint(150, 1200)  # the reply and a tool result join it
            clock += timedelta(seconds=duration + rng.uniform(0.05, 0.5))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hours", type=float, default=24.0, help="time window the log covers")
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args()
    if args.output == "-":
        generate(sys.stdout, steps=args.steps, seed=args.seed, window_hours=args.hours)
        return
    with open(args.output, "w", encoding="utf-8") as out:
        lines = generate(out, steps=args.steps, seed=args.seed, window_hours=args.hours)
    print(f"wrote {lines:,} steps to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
