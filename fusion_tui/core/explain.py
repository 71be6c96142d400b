"""Explain a routing decision: the gate's verdict and the route, without calling upstreams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fusion_tui.config import Settings
from fusion_tui.config.tiers import Tier
from fusion_tui.protocols.wire import Wire
from fusion_tui.routing.router import GateVerdict, Overrides, Router

if TYPE_CHECKING:
    from fusion_tui.routing.gate import Decision, Gate


class ExplainError(ValueError):
    """The body is not a request of a known protocol."""


def detect_protocol(body: Any, hint: str | None = None) -> str:
    """`anthropic` or `openai`, from `?protocol=` or the body's shape (OpenAI's own marks:
    `tool` or `system` roles, `tool_calls`, function tools, `image_url` parts)."""
    if hint in ("anthropic", "openai"):
        return hint
    if hint:
        raise ExplainError(f"protocol must be anthropic or openai, got {hint!r}")
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise ExplainError("expected a request body with a `messages` list")
    if "system" in body:
        return "anthropic"
    if "max_tokens" not in body or "max_completion_tokens" in body:
        return "openai"  # Anthropic requires max_tokens; OpenAI does not
    for message in body["messages"]:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool" or "tool_calls" in message:
            return "openai"
        content = message.get("content")
        if isinstance(content, list) and any(
                isinstance(p, dict) and p.get("type") == "image_url" for p in content):
            return "openai"
    if any(isinstance(t, dict) and t.get("type") == "function" for t in body.get("tools") or []):
        return "openai"
    return "anthropic"


def anthropic_view(body: dict[str, Any], protocol: str) -> dict[str, Any]:
    """The request as the gate reads it (Anthropic shape)."""
    from fusion_tui.protocols.translation import anthropic_view as view

    return view(body, Wire(protocol))


def explain_decision(settings: Settings, decision: Decision, body: Mapping[str, Any],
                     headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON answer of /fusion/route and `fusion-tui explain`."""
    router = Router(settings)
    has_tools = bool(body.get("tools"))
    overrides = Overrides.parse(headers or {}, body)
    plan = router.choose("", has_tools, overrides,
                         GateVerdict(Tier(decision.tier), decision.scores, decision.reason))
    return {"tier": plan.tier or decision.tier, "kind": decision.kind,
            "scores": decision.scores, "reason": decision.reason,
            "segments": decision.segments,
            "weighed_most": [{"input": name, "push": value}
                             for name, value in decision.evidence],
            "signals": decision.signals, "latency_ms": round(decision.latency_ms, 2),
            "route": plan.header, **({"lane": decision.lane} if decision.lane else {})}


def explain_body(settings: Settings, gate: Gate, body: Any, protocol: str | None) -> dict[str, Any]:
    """Classify `body` with `gate` and plan its route."""
    detected = detect_protocol(body, protocol)
    view = anthropic_view(body, detected)
    decision = gate.classify(view)
    return {"protocol": detected, **explain_decision(settings, decision, body)}
