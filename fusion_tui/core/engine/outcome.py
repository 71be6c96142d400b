"""What the client received, as the engine reports it (events, costs, the log line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What the client received."""

    status: int
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    error: str | None = None
    content: list[dict[str, Any]] = field(default_factory=list)
    ttfb_ms: float | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    """Usage in Anthropic's field names (cache tokens included), for the cost book."""
