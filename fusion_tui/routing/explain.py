"""The x-fusion-route header: `mode=..; tier=..; served_by=..;` then optional parts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def format_route(mode: str, tier: str | None, served_by: str, *,
                 actor: str | None = None, council: Sequence[str] = (),
                 panel: Sequence[str] = (), scores: Mapping[str, float] | None = None,
                 reason: str | None = None) -> str:
    """Render the header value. `reason` must not contain spaces (they become '_')."""
    parts = [f"mode={mode}", f"tier={tier or '-'}", f"served_by={served_by}"]
    if actor:
        parts.append(f"actor={actor}")
    if council:
        parts.append("council=" + "+".join(council))
    if panel:
        parts.append("panel=" + "+".join(panel))
    if scores:
        parts.append("scores=" + ",".join(f"{k}:{v:.2f}" for k, v in scores.items()))
    if reason:
        parts.append("reason=" + reason.replace(" ", "_").replace(";", ","))
    return "; ".join(parts)
