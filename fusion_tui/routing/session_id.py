"""Which session a request belongs to."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from fusion_tui.protocols.anthropic import text_of


def session_id_for(headers: Mapping[str, str], body: Mapping[str, Any]) -> str:
    """Claude Code's x-claude-code-session-id, else x-fusion-session, else the Responses
    API's prompt_cache_key (the Codex CLI sends its session id there), else a hash of the
    system prompt and the first user message (stable across a conversation's turns)."""
    for name in ("x-claude-code-session-id", "x-fusion-session"):
        value = headers.get(name)
        if value:
            return value.strip()[:128]
    cache_key = body.get("prompt_cache_key")
    if isinstance(cache_key, str) and cache_key.strip():
        return cache_key.strip()[:128]
    system = body.get("system")
    system_text = text_of(system) if not isinstance(system, str) else system
    first_user = ""
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user":
            first_user = text_of(message.get("content", ""))
            break
    digest = hashlib.sha256(f"{system_text}\x00{first_user}".encode()).hexdigest()[:16]
    return f"h-{digest}"
