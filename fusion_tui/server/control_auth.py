"""The control token: who may watch and steer the proxy over HTTP (`/fusion/events`,
`/fusion/steer`, `/fusion/steering`, `/fusion/sessions/...`).

A client key (server.auth_key_env) lets a client use the model APIs; it does not let it
steer. Steering and the event stream need the control token instead: a random secret kept in
a file only the user can read (`$XDG_STATE_HOME/fusion-tui/control.token`, mode 0600),
created by the first proxy that starts and reused by every later one (a restarted proxy
keeps it, so an attached dashboard reconnects). `FUSION_CONTROL_TOKEN` overrides the file
(a proxy on another machine, a service account). Clients send it as
`Authorization: Bearer <token>` or `x-fusion-token`. Where the token lives:
fusion_tui/control_token.py."""

from __future__ import annotations

import hmac

from aiohttp import web

from fusion_tui.server.auth import CONTROL_PREFIXES, presented_key

TOKEN_HEADER = "x-fusion-token"


def is_control_path(path: str) -> bool:
    """Whether `path` is guarded by the control token."""
    return path.startswith(CONTROL_PREFIXES)


def control_token_ok(request: web.Request, token: str) -> bool:
    """Whether the request presents the control token (constant-time)."""
    sent = request.headers.get(TOKEN_HEADER) or presented_key(request)
    return hmac.compare_digest(sent.encode(), token.encode())
