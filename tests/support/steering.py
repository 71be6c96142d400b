"""What the steering tests share: a tool for the client's request, the header forcing the
plan tier, zero-latency simulated upstreams, and readers of the x-fusion-route header."""

from __future__ import annotations

from typing import Any

READ = {"name": "Read", "description": "Read a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                         "required": ["file_path"]}}
"""A tool: a request carrying it is a tool turn (the council convenes at plan)."""

PLAN = {"x-fusion-tier": "plan"}
"""A header forcing the plan tier: a tool turn convenes the council without a steering key."""


def sim(uid: str, **extra: Any) -> dict[str, Any]:
    """A zero-latency simulated upstream (config entry), with `extra` settings."""
    return {"id": uid, "type": "simulated", "model": uid, "first_token_ms": 0,
            "tokens_per_s": 100_000, **extra}


def reasons(route: str) -> list[str]:
    """The reason tokens of an x-fusion-route value."""
    for part in route.split("; "):
        if part.startswith("reason="):
            return part.removeprefix("reason=").split(",")
    return []


def field_of(route: str, name: str) -> str:
    """One `name=value` field of an x-fusion-route value ('' when absent)."""
    for part in route.split("; "):
        if part.startswith(name + "="):
            return part.removeprefix(name + "=")
    return ""
