"""Text made safe inside HTML: untrusted characters shown as escapes, markup characters as
entities (in element text and in quoted attributes alike)."""

from __future__ import annotations

import html

from agentcost.renderers.text import safe_text


def e(text: object) -> str:
    return html.escape(safe_text(text), quote=True)
