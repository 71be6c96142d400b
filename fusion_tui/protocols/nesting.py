"""The nesting-depth limit every request check applies.

orjson parses JSON nested up to 1024 levels but writes at most about 254, and the proxy writes
every body again (to the upstream, into the session file, wrapped in an event or a translated
request a few levels deeper). A body nested deeper than `MAX_DEPTH` is refused up front with a
400 naming where, instead of failing later as a 500.
"""

from __future__ import annotations

from typing import Any, Literal

MAX_DEPTH = 64
"""How many levels of objects and arrays a request body may nest (the body itself is level
1). Real requests stay far below it: Claude Code's deepest tool schema is about 12."""

PathStyle = Literal["dots", "brackets"]


def within_depth(value: Any, levels: int = MAX_DEPTH) -> bool:
    """Whether `value` (an object or array) nests at most `levels` levels, itself counted.
    Only containers are visited, so the cost follows their count, not the body's size."""
    if levels <= 0:
        return False
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if (kind is dict or kind is list) and not within_depth(item, levels - 1):
            return False
    return True


def too_deep_path(value: Any, levels: int = MAX_DEPTH) -> list[str | int] | None:
    """The keys and indexes down to the first container nested deeper than `levels`, or None
    when there is none."""
    if within_depth(value, levels):
        return None
    path: list[str | int] = []
    current = value
    while levels > 0:
        pairs = current.items() if type(current) is dict else enumerate(current)
        for key, item in pairs:
            if type(item) in (dict, list) and not within_depth(item, levels - 1):
                path.append(key)
                current = item
                break
        levels -= 1
    return path


def format_path(path: list[str | int], style: PathStyle, shown: int = 6) -> str:
    """A path the way the protocol's errors name fields (`messages.0.content` for Anthropic,
    `messages[0].content` for OpenAI), cut after `shown` steps."""
    out = ""
    for step in path[:shown]:
        if isinstance(step, int) and style == "brackets":
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


def check_depth(body: dict[str, Any], style: PathStyle) -> tuple[str, str] | None:
    """(message, field) when `body` nests deeper than `MAX_DEPTH`, else None."""
    path = too_deep_path(body)
    if path is None:
        return None
    field = format_path(path, style)
    more = "..." if len(path) > 6 else ""
    return (f"{field}{more}: nested deeper than {MAX_DEPTH} levels (the limit for a request "
            "body)", field)
