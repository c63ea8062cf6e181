"""`agentcost ingest`: keep the steps of trace logs in a steps store, read by `report`,
`simulate` and `check` with --store."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agentcost.cli.agents import inputs_and_agents
from agentcost.cli.help import INPUT
from agentcost.cli.options import (
    AUTO,
    FromAgents,
    InputFormatOption,
    Inputs,
    Jobs,
    MaxLineSize,
    TaskKey,
)
from agentcost.cli.reading import print_skips, reading
from agentcost.ingest.limits import MAX_LINE_BYTES


def ingest(
    inputs: Inputs = None,
    store: Annotated[str, typer.Option(
        "--store", metavar="DIR", rich_help_panel=INPUT,
        help="The steps store: a directory, made when new, or s3://bucket/prefix, "
        "gs://bucket/prefix.")] = ...,  # type: ignore[assignment]
    from_agents: FromAgents = None,
    input_format: InputFormatOption = AUTO,
    task_key: TaskKey = "trace",
    jobs: Jobs = "auto",
    max_line_size: MaxLineSize = MAX_LINE_BYTES,
) -> None:
    """Store the steps of the traces that the store does not hold yet, by day.

    A file read before is read again only if it changed; a log that grew, only from where the
    store stopped. A step already held is not stored twice. Tokens are kept, not costs:
    reports price them with the table they are given.
    """
    from agentcost import api
    from agentcost.renderers.text import plural, safe_text
    from agentcost.store.ingest import CHANGED_SINCE_STORED

    paths = inputs_and_agents(inputs, from_agents, "ingest")
    with reading(jobs, task_key) as parsed_jobs:
        result = api.store_steps(paths, store, input_format=input_format, task_key=task_key,
                                 jobs=parsed_jobs, max_line_bytes=max_line_size)
    if result.accounting.lines_skipped or result.accounting.spans_skipped:
        print_skips(result.accounting)
    changed = result.accounting.notes.get(CHANGED_SINCE_STORED)
    if changed is not None:
        file, line = changed.examples[0]
        print(f"agentcost: {plural(changed.count, 'step')} (first: {safe_text(file)}:{line}) "
              f"{CHANGED_SINCE_STORED.removeprefix('steps ')}", file=sys.stderr)
    read = [source for source in result.sources if not source.unchanged]
    held = sum(source.steps_held for source in read)
    unchanged = len(result.sources) - len(read)
    parts = []
    if read:
        days = f" ({_days(result.days)})" if result.days else ""
        parts.append(f"stored {plural(result.steps_stored, 'new step')}{days} from "
                     f"{plural(len(read), 'source')} read"
                     + (f", {held:,} already held" if held else ""))
    if unchanged:
        parts.append(f"{plural(unchanged, 'source')} unchanged since stored")
    parts.append(f"{safe_text(str(store))} holds {plural(result.store_steps, 'step')}")
    print("; ".join(parts))
    accounting = result.accounting
    if accounting.lines_read and not accounting.lines_used and accounting.lines_skipped:
        # Recorded as read (the store's account names its lines), but a nightly job whose
        # logs held no usable line must not pass as one that stored them.
        raise api.NoUsableInput(accounting)

def _days(days: list[str]) -> str:
    return days[0] if len(days) == 1 else f"{len(days)} days, {days[0]} to {days[-1]}"


EXAMPLES = (
    "agentcost ingest traces/ --store steps/",
    "agentcost ingest --from claude-code,codex --store ~/.agentcost/steps",
    "agentcost ingest ~/.claude/projects/ --store steps/",
)
