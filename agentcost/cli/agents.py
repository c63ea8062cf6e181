"""--from: the coding agents' logs as inputs, found where each agent keeps them; and, with no
input at all, the logs this machine holds and how to read them."""

from __future__ import annotations

import sys

from agentcost.errors import UsageError


def inputs_and_agents(inputs: list[str] | None, agents: str | None, command: str, *,
                      store: object = None) -> list[str]:
    """TRACES and the log files --from finds. With neither (and no --store to read instead),
    what is here is said on stderr and it is a usage error."""
    paths = list(inputs or [])
    if agents is not None:
        from agentcost.api import agent_logs

        paths.extend(agent_logs(agents))
    if not paths and store is not None:
        return paths
    if not paths:
        tell_what_is_here(command)
        raise UsageError(f"no input: name trace files (agentcost {command} TRACES), or read "
                         f"coding agents' logs (agentcost {command} --from AGENTS)")
    return paths


def tell_what_is_here(command: str) -> None:
    """The coding agents' logs found on this machine, where, how many and how big, on
    stderr."""
    from agentcost.ingest.coding.locations import AGENTS, find
    from agentcost.renderers.text import plural, safe_text

    found = find(AGENTS)
    if not found:
        print(f"agentcost: no coding agent's logs found on this machine ({', '.join(AGENTS)})",
              file=sys.stderr)
        return
    print("agentcost: coding agents' logs found on this machine:", file=sys.stderr)
    width = max(len(item.agent) for item in found)
    for item in found:
        print(f"  {item.agent:<{width}}  {safe_text(str(item.root))}: "
              f"{plural(len(item.files), 'file')}, {size(item.size_bytes)}", file=sys.stderr)
    agents = ",".join(dict.fromkeys(item.agent for item in found))
    print(f"Read them with: agentcost {command} --from {agents}  (or --from all)",
          file=sys.stderr)


def size(count: int) -> str:
    """Bytes in the largest binary unit below them, one decimal: 512 bytes, 1.5 KiB, 12.0 MiB."""
    if count < 1024:
        return f"{count:,} bytes"
    value = count / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"
