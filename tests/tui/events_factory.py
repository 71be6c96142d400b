"""Synthetic request events with fixed ids and times, for Pilot and snapshot tests."""

from __future__ import annotations

from fusion_tui.events import (
    Event,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
)

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def received(n: int, session: str = "sess-a", ts: float = T0, stream: bool = False) -> Event:
    """RequestReceived for request `req_<n>`."""
    return RequestReceived(session_id=session, request_id=f"req_{n}", ts=ts + n,
                           protocol="anthropic", path="/v1/messages", model="m",
                           stream=stream, client="test", tools=0, messages=1, body_bytes=10)


def routed(n: int, upstream: str = "sim-actor", session: str = "sess-a",
           tier: str = "-") -> Event:
    """RouteChosen for request `req_<n>`."""
    return RouteChosen(session_id=session, request_id=f"req_{n}", ts=T0 + n, mode="single",
                       tier=tier, upstream_id=upstream,
                       route=f"mode=single; tier={tier}; served_by={upstream}")


def finished(n: int, status: int = 200, upstream: str = "sim-actor", session: str = "sess-a",
             latency_ms: float = 123.4, tokens: tuple[int, int] = (10, 20),
             error: str | None = None) -> Event:
    """ResponseFinished for request `req_<n>`."""
    return ResponseFinished(session_id=session, request_id=f"req_{n}", ts=T0 + n + 0.5,
                            status=status, upstream_id=upstream,
                            route=f"mode=single; tier=-; served_by={upstream}",
                            latency_ms=latency_ms, input_tokens=tokens[0],
                            output_tokens=tokens[1], error=error,
                            stop_reason="end_turn" if status == 200 else None)


def cancelled(n: int, session: str = "sess-a") -> Event:
    """RequestCancelled for request `req_<n>`."""
    return RequestCancelled(session_id=session, request_id=f"req_{n}", ts=T0 + n + 0.4)
