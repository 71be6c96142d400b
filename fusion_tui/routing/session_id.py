"""Which session a request belongs to."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from fusion_tui.protocols.anthropic import text_of

MAX_SESSION_ID = 128
"""Longer ids keep their first characters and a hash of the whole (two ids stay two)."""


def clean_session_id(value: str) -> str:
    """A session id safe for recordings, logs and the screen. Bytes that are not UTF-8 (the
    server hands header bytes over as surrogate escapes) and control characters become
    visible escapes; an id longer than `MAX_SESSION_ID` keeps its start and a hash of the
    whole, so different ids never merge."""
    try:
        raw = value.strip().encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape, not from header bytes
        raw = value.strip().encode("utf-8", "surrogatepass")
    text = raw.decode("utf-8", "backslashreplace")
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)
    if len(text) > MAX_SESSION_ID:
        digest = hashlib.sha256(raw).hexdigest()[:16]
        text = f"{text[:MAX_SESSION_ID - 17]}~{digest}"
    return text


def session_id_for(headers: Mapping[str, str], body: Mapping[str, Any]) -> str:
    """Claude Code's x-claude-code-session-id, else x-fusion-session, else the Responses
    API's prompt_cache_key (the Codex CLI sends its session id there), else a hash of the
    system prompt and the first user message (stable across a conversation's turns)."""
    for name in ("x-claude-code-session-id", "x-fusion-session"):
        value = headers.get(name)
        if value and value.strip():
            return clean_session_id(value)
    cache_key = body.get("prompt_cache_key")
    if isinstance(cache_key, str) and cache_key.strip():
        return clean_session_id(cache_key)
    system = body.get("system")
    system_text = text_of(system) if not isinstance(system, str) else system
    first_user = ""
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user":
            first_user = text_of(message.get("content", ""))
            break
    digest = hashlib.sha256(f"{system_text}\x00{first_user}".encode()).hexdigest()[:16]
    return f"h-{digest}"
