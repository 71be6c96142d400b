"""Build upstream clients from settings."""

from __future__ import annotations

from fusion_tui.config import Settings
from fusion_tui.upstreams.anthropic import AnthropicUpstream
from fusion_tui.upstreams.base import Upstream
from fusion_tui.upstreams.openai import OpenAIUpstream
from fusion_tui.upstreams.responses import ResponsesUpstream
from fusion_tui.upstreams.simulated import SimulatedUpstream


def build_upstreams(settings: Settings) -> dict[str, Upstream]:
    """One client per configured upstream, by id."""
    built: dict[str, Upstream] = {}
    for u in settings.upstreams:
        if u.type == "anthropic":
            built[u.id] = AnthropicUpstream(u)
        elif u.type in ("openai", "openai-compatible", "ollama"):
            built[u.id] = OpenAIUpstream(u)
        elif u.type in ("openai-responses", "codex"):
            built[u.id] = ResponsesUpstream(u)
        elif u.type == "simulated":
            built[u.id] = SimulatedUpstream(u)
        else:  # pragma: no cover - the settings schema admits no other type
            raise ValueError(f"upstream {u.id}: unknown type {u.type}")
    return built
