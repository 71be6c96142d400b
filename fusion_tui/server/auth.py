"""Client authentication (server.auth_key_env) and the guard against exposing the proxy."""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Awaitable, Callable

from aiohttp import web

from fusion_tui.config import Settings
from fusion_tui.server.errors import Handler, error_for

AUTHENTICATED = web.RequestKey("authenticated", bool)
"""Set on every request: whether it presented the client key."""

CONTROL_PREFIXES = ("/fusion/events", "/fusion/steer", "/fusion/sessions/")
"""Watching and steering: guarded by the control token (server/control_auth.py), not the key."""

# Probes that answer without a key: liveness only (/health says no more than "ok").
OPEN_PATHS = frozenset({"/", "/api/hello", "/health"})


class ExposureError(RuntimeError):
    """The configuration would expose the proxy (or cannot protect it); the message says why."""


def client_key(settings: Settings) -> str | None:
    """The key clients must present, or None when client auth is off.

    Raises ExposureError when auth is configured but its environment variable is unset:
    starting unprotected while the config asks for protection would be a silent fallback."""
    name = settings.server.auth_key_env
    if not name:
        return None
    key = os.environ.get(name)
    if not key:
        raise ExposureError(f"server.auth_key_env names {name}, which is not set in the "
                            "environment; set it or remove auth_key_env")
    return key


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to listen beyond loopback without client auth (unless explicitly allowed)."""
    key = client_key(settings)
    host = settings.server.host
    if not is_loopback(host) and key is None and not settings.server.allow_remote_without_auth:
        raise ExposureError(
            f"server.host is {host}, which other machines can reach, and client auth is off; "
            "set server.auth_key_env (clients then send it as x-api-key or Bearer), or pass "
            "--allow-remote-without-auth if you really mean it")


def presented_key(request: web.Request) -> str:
    """The key a client sent: `x-api-key`, else `Authorization: Bearer ...`."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else ""


Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def _presented(request: web.Request) -> bytes:
    # Header bytes that are not UTF-8 arrive as surrogate escapes: compare them as the bytes
    # they were (a wrong key, never an exception).
    return presented_key(request).encode("utf-8", "surrogateescape")


def auth_middleware(key: str) -> Middleware:
    """A middleware that lets through only requests presenting `key` (constant-time)."""
    expected = key.encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIXES):  # the control token guards these
            return await handler(request)
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            request[AUTHENTICATED] = hmac.compare_digest(_presented(request), expected)
            return await handler(request)
        if not hmac.compare_digest(_presented(request), expected):
            return error_for(request, 401, "missing or wrong API key for this fusion-tui "
                                           "(send it as x-api-key or Authorization: Bearer)")
        request[AUTHENTICATED] = True
        return await handler(request)

    return check
