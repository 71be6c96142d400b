"""Commands that talk to a running proxy over HTTP: `attach` (the meeting room in another
process), `statusline` (one line for Claude Code's statusLine), `steer` (one steering act,
what the slash commands run) and `claude install-commands` (writes those slash commands)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8787"
"""Where `serve` and `run` listen by default (fusion_tui.remote.link says the same)."""
URL_ENV = "FUSION_URL"
STATUSLINE_TIMEOUT_S = 1.0
"""The status line gives up on the proxy after this long (Claude Code redraws it often)."""
EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3


def proxy_url(url: str | None, config: str | None) -> str:
    """`--url`, else the address in `--config`, else `$FUSION_URL`, else 127.0.0.1:8787."""
    if url:
        return url.rstrip("/")
    if config:
        from fusion_tui.config import load_settings

        server = load_settings(Path(config)).server
        host = "127.0.0.1" if server.host in ("0.0.0.0", "::", "") else server.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{server.port}"
    return (os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


def _token(args: argparse.Namespace) -> str | None:
    from fusion_tui.control_token import read_token

    return read_token(Path(args.token_file) if getattr(args, "token_file", None) else None)


# --- attach ---------------------------------------------------------------------------------

def cmd_attach(args: argparse.Namespace) -> int:
    """The meeting room on a running proxy."""
    from fusion_tui.tui.attach import run_attach

    url = proxy_url(args.url, None) if args.url else proxy_url(None, args.config)
    token = _token(args)
    if token is None:
        print("fusion-tui attach: no control token: start the proxy first (it writes "
              "$XDG_STATE_HOME/fusion-tui/control.token), or set FUSION_CONTROL_TOKEN",
              file=sys.stderr)
        return EXIT_REFUSED
    keymap = theme = config = None
    if args.config:
        from fusion_tui.config import load_settings

        settings = load_settings(Path(args.config))
        keymap, theme, config = settings.keymap, settings.ui.theme, Path(args.config)
    return run_attach(url, token, keymap=keymap, theme=theme, config_file=config)


# --- statusline -----------------------------------------------------------------------------

def _get_json(url: str, token: str, timeout: float) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"x-fusion-token": token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def status_text(glance: dict[str, Any]) -> str:
    """The status line for one session's glance (`GET /fusion/sessions/{id}`)."""
    parts = [f"fusion {glance.get('tier') or '-'}"]
    if glance.get("actor"):
        parts.append(f"actor {glance['actor']}")
    if glance.get("council_last_turn"):
        parts.append("council sat")
    elif glance.get("council_enabled") is False:
        parts.append("council off")
    parts.append(f"${float(glance.get('cost_usd') or 0):.4f}")
    if glance.get("held"):
        parts.append("⏸ BRIEFING HELD (decide in the dashboard)")
    return " · ".join(parts)


def statusline(stdin: str, url: str, token: str | None,
               timeout: float = STATUSLINE_TIMEOUT_S) -> str:
    """The one line for Claude Code's status bar, never an exception."""
    try:
        data = json.loads(stdin) if stdin.strip() else {}
    except ValueError:
        data = None
    session = data.get("session_id") if isinstance(data, dict) else None
    if not isinstance(session, str) or not session:
        return "fusion: no session_id on stdin"
    if not token:
        return "fusion: no control token (is the proxy running?)"
    from urllib.parse import quote

    try:
        status, glance = _get_json(f"{url}/fusion/sessions/{quote(session, safe='')}", token,
                                   timeout)
    except (OSError, ValueError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) or "timed out" in str(exc) \
            else "down"
        return f"fusion: proxy {reason} ({url})"
    if status == 401:
        return "fusion: the proxy refused the control token"
    if status == 404:
        return "fusion: no request from this session yet"
    if status != 200 or not isinstance(glance, dict):
        return f"fusion: proxy answered HTTP {status}"
    return status_text(glance)


def cmd_statusline(args: argparse.Namespace) -> int:
    """Print the status line for the session on stdin; always exit 0."""
    try:
        url = proxy_url(args.url, args.config)
        line = statusline(sys.stdin.read(), url, _token(args), args.timeout)
    except Exception as exc:  # a status line must never show a traceback
        line = f"fusion: {type(exc).__name__}: {exc}"[:200]
    print(line)
    return 0


# --- steer ------------------------------------------------------------------------------------

def _value(text: str) -> Any:
    return {"true": True, "false": False, "null": None, "none": None}.get(text.lower(), text)


def steer_args(act: str, pairs: Sequence[str], session: str | None) -> dict[str, Any]:
    """The act's HTTP arguments from `key=value` words (true/false/null are JSON's)."""
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{pair!r}: arguments are key=value")
        args[key] = _value(value)
    if session and "session" not in args:
        args["session"] = session
    return {"act": act.replace("-", "_"), **args}


async def _steer(url: str, token: str | None, call: dict[str, Any]) -> str:
    from fusion_tui.remote.link import ProxyLink

    act = call.pop("act")
    async with ProxyLink(url, token, source="claude" if call.pop("_claude", False)
                         else "cli") as link:
        await link.steer(act, **call)
    return act


def cmd_steer(args: argparse.Namespace) -> int:
    """Apply one act; exit 1 when the proxy refuses it, 3 when it cannot be reached."""
    from fusion_tui.core.controls import SteeringError
    from fusion_tui.remote.link import ProxyUnreachable

    try:
        call = steer_args(args.act, args.args, args.session)
    except ValueError as exc:
        print(f"fusion-tui steer: {exc}", file=sys.stderr)
        return 2
    call["_claude"] = args.from_claude
    url = proxy_url(args.url, args.config)
    try:
        act = asyncio.run(_steer(url, _token(args), call))
    except ProxyUnreachable as exc:
        print(f"fusion-tui steer: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except SteeringError as exc:
        print(f"fusion-tui steer: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    shown = " ".join(f"{k}={v}" for k, v in call.items() if not k.startswith("_"))
    print(f"fusion-tui: {act} {shown} applied".replace("  ", " "))
    return 0


# --- claude install-commands --------------------------------------------------------------------

MARKER = "<!-- written by fusion-tui claude install-commands -->"
STEER = "fusion-tui steer --from-claude --session ${CLAUDE_SESSION_ID}"
COMMANDS: dict[str, tuple[str, str, str]] = {
    "council": ("Next turn at plan: the fusion-tui council sits before the actor acts", "",
                f"{STEER} set_council enabled=true && {STEER} force_tier tier=plan"),
    "solo": ("No council for this session: the actor works alone (fusion-tui)", "",
             f"{STEER} set_council enabled=false"),
    "tier": ("Route the next turn at a tier: compact, regular or plan (fusion-tui)",
             "compact|regular|plan", f"{STEER} force_tier tier=$ARGUMENTS"),
    "judge": ("Change the council's judge for this session (fusion-tui)", "<upstream id>",
              f"{STEER} set_judge judge=$ARGUMENTS"),
    "advisor": ("Seat an upstream on this session's council (fusion-tui)", "<upstream id>",
                f"{STEER} add_advisor advisor=$ARGUMENTS"),
    "fusion": ("Any fusion-tui steering act, e.g. replace_advisor advisor=a by=b",
               "<act> [key=value ...]", f"{STEER} $ARGUMENTS"),
}
"""name -> (description, argument hint, the command it runs)."""


def command_text(description: str, hint: str, command: str) -> str:
    """One slash-command file: it runs `command` and asks Claude to say only the outcome."""
    head = ["---", f"description: {description}",
            "allowed-tools: Bash(fusion-tui steer:*)"]
    if hint:
        head.append(f"argument-hint: {hint}")
    head.append("---")
    body = [f"!`{command}`", "",
            "Above is what the fusion-tui proxy answered to a steering act. Reply with one "
            "short line saying whether it was applied (or why not). Do nothing else.", "",
            MARKER, ""]
    return "\n".join([*head, "", *body])


def install_commands(folder: Path) -> list[str]:
    """Write the slash commands into `folder`; returns a line per file. A file there that
    fusion-tui did not write is left alone (and said)."""
    folder.mkdir(parents=True, exist_ok=True)
    said = []
    for name, (description, hint, command) in COMMANDS.items():
        path = folder / f"{name}.md"
        if path.exists() and MARKER not in path.read_text(encoding="utf-8", errors="replace"):
            said.append(f"kept {path} (not written by fusion-tui)")
            continue
        path.write_text(command_text(description, hint, command), encoding="utf-8")
        said.append(f"wrote {path}")
    return said


def cmd_install_commands(argv: Sequence[str]) -> int:
    """`fusion-tui claude install-commands [--user | --project [DIR]]`."""
    parser = argparse.ArgumentParser(
        prog="fusion-tui claude install-commands",
        description="write slash commands (/council, /solo, /tier, /judge, /advisor, "
                    "/fusion) that steer the proxy through `fusion-tui steer`")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="into ~/.claude/commands")
    where.add_argument("--project", metavar="DIR", nargs="?", const=".",
                       help="into DIR/.claude/commands (default: this folder)")
    args = parser.parse_args(list(argv))
    folder = (Path.home() / ".claude" / "commands" if args.user
              else Path(args.project or ".") / ".claude" / "commands")
    try:
        for line in install_commands(folder):
            print(line)
    except OSError as exc:
        print(f"fusion-tui claude install-commands: {exc}", file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    """Add `attach`, `statusline` and `steer` to the CLI's subparsers."""
    token = argparse.ArgumentParser(add_help=False)
    token.add_argument("--token-file", metavar="FILE",
                       help="the control token (default $FUSION_CONTROL_TOKEN, else "
                            "$XDG_STATE_HOME/fusion-tui/control.token)")
    where = argparse.ArgumentParser(add_help=False, parents=[token])
    choice = where.add_mutually_exclusive_group()
    choice.add_argument("--url", help=f"the proxy (default ${URL_ENV}, else {DEFAULT_URL})")
    choice.add_argument("--config", metavar="FILE", help="take the proxy's address from it")
    attach = sub.add_parser("attach", parents=[token],
                            help="the meeting room on a running proxy (serve, run)")
    attach.add_argument("url", nargs="?", help=f"the proxy (default ${URL_ENV}, else "
                                               f"{DEFAULT_URL})")
    attach.add_argument("--config", metavar="FILE",
                        help="keymap and theme from this config (and its address)")
    attach.set_defaults(func=cmd_attach)
    line = sub.add_parser("statusline", parents=[where],
                          help="one line for Claude Code's statusLine (session JSON on stdin)")
    line.add_argument("--timeout", type=float, default=STATUSLINE_TIMEOUT_S,
                      help="seconds to wait for the proxy")
    line.set_defaults(func=cmd_statusline)
    steer = sub.add_parser("steer", parents=[where], help="one steering act on a running proxy")
    steer.add_argument("--session", help="the session it applies to (absent: everywhere, "
                                         "where the act allows)")
    steer.add_argument("--from-claude", action="store_true",
                       help="say `override:claude` (the slash commands pass it)")
    steer.add_argument("act", help="force_tier, lock_tier, swap_actor, mute_advisor, "
                                   "add_advisor, replace_advisor, set_judge, set_perspective, "
                                   "set_council, set_hold, decide_briefing, drop, ...")
    steer.add_argument("args", nargs="*", metavar="key=value")
    steer.set_defaults(func=cmd_steer)
