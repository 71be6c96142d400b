"""The control token: who may watch and steer the proxy over HTTP (`/fusion/events`,
`/fusion/steer`, `/fusion/steering`, `/fusion/sessions/...`).

A client key (server.auth_key_env) lets a client use the model APIs; it does not let it
steer. Steering and the event stream need the control token instead: a random secret kept in
a file only the user can read (`$XDG_STATE_HOME/fusion-tui/control.token`, mode 0600),
created by the first proxy that starts and reused by every later one (a restarted proxy
keeps it, so an attached dashboard reconnects). `FUSION_CONTROL_TOKEN` overrides the file
(a proxy on another machine, a service account). Clients send it as
`Authorization: Bearer <token>` or `x-fusion-token`."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from aiohttp import web

from fusion_tui.server.auth import CONTROL_PREFIXES, presented_key

TOKEN_ENV = "FUSION_CONTROL_TOKEN"
TOKEN_HEADER = "x-fusion-token"


class ControlTokenError(RuntimeError):
    """The token file cannot be read or written; the message says where and why."""


def default_token_path() -> Path:
    """`$XDG_STATE_HOME/fusion-tui/control.token` (`~/.local/state/...`)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "fusion-tui" / "control.token"


def read_token(path: Path | None = None) -> str | None:
    """The control token a client should send: `$FUSION_CONTROL_TOKEN`, else the file's
    content, else None (no proxy has created one)."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return env
    path = path or default_token_path()
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def load_or_create_token(path: Path | None = None) -> str:
    """The proxy's control token: `$FUSION_CONTROL_TOKEN`, else the file's, else a new one
    written to the file (0600, its folder 0700)."""
    existing = read_token(path)
    if existing:
        return existing
    path = path or default_token_path()
    token = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(token + "\n")
    except OSError as exc:
        raise ControlTokenError(f"cannot write the control token to {path}: {exc}") from exc
    return token


def is_control_path(path: str) -> bool:
    """Whether `path` is guarded by the control token."""
    return path.startswith(CONTROL_PREFIXES)


def control_token_ok(request: web.Request, token: str) -> bool:
    """Whether the request presents the control token (constant-time)."""
    sent = request.headers.get(TOKEN_HEADER) or presented_key(request)
    return hmac.compare_digest(sent.encode(), token.encode())
