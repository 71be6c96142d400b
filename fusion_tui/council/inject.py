"""Put the briefing into the actor's request without touching the cached prefix.

Everything up to the client's last cache breakpoint stays byte-identical, so the upstream's
prompt cache stays warm: the briefing goes after it, as a final text block of the last user
message, or as a trailing `role: "system"` message when the request already ends with one
(as Claude Code's first request does).
"""

from __future__ import annotations

import copy
from typing import Any


def inject_anthropic(body: dict[str, Any], briefing: str) -> dict[str, Any]:
    """A copy of an Anthropic Messages body with the briefing after the last breakpoint."""
    out = dict(body)
    messages = list(body.get("messages") or [])
    block = {"type": "text", "text": briefing}
    last = messages[-1] if messages else None
    if isinstance(last, dict) and last.get("role") == "user":
        content = last.get("content")
        blocks = ([{"type": "text", "text": content}] if isinstance(content, str)
                  else copy.copy(list(content or [])))
        messages[-1] = {**last, "content": [*blocks, block]}
    else:
        messages.append({"role": "system" if last and last.get("role") == "system" else "user",
                         "content": [block]})
    out["messages"] = messages
    return out


def inject_openai(body: dict[str, Any], briefing: str) -> dict[str, Any]:
    """A copy of a Chat Completions body with the briefing as a trailing system message."""
    return {**body, "messages": [*(body.get("messages") or []),
                                 {"role": "system", "content": briefing}]}
