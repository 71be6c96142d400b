"""Where the control token lives and how it is read or created (no imports beyond the
standard library: `fusion-tui statusline` reads it on every redraw of Claude Code's status
bar). What it guards and how it is checked: fusion_tui/server/control_auth.py."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_ENV = "FUSION_CONTROL_TOKEN"


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
