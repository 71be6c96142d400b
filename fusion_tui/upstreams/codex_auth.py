"""ChatGPT sign-in for the `codex` upstream: the OAuth tokens the Codex CLI keeps in
`$CODEX_HOME/auth.json` (default ~/.codex/auth.json), read, refreshed and written back in the
same format, and the browser sign-in (`fusion-tui auth codex`) for people without the CLI.

auth.json, as the Codex CLI writes it::

    {"OPENAI_API_KEY": null,
     "tokens": {"id_token": "<JWT>", "access_token": "<JWT>", "refresh_token": "<opaque>",
                "account_id": "<ChatGPT account id>"},
     "last_refresh": "<RFC 3339 time>"}

Keys we do not know are kept as they are when the file is written back. A token never
appears in a log line, an event, an error message or on screen: messages name the file only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from aiohttp import web

ISSUER = "https://auth.openai.com"
"""OpenAI's sign-in service, the one the Codex CLI uses."""
TOKEN_URL = f"{ISSUER}/oauth/token"
"""Where refresh tokens (and sign-in codes) are exchanged for access tokens."""
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
"""The Codex CLI's public OAuth client id (a PKCE client: there is no secret)."""
LOGIN_PORT = 1455
"""The loopback port the Codex CLI's sign-in listens on; the client's registered redirect is
http://localhost:1455/auth/callback, so the browser sign-in must use it too."""
SCOPE = "openid profile email offline_access"
REFRESH_MARGIN_S = 120.0
"""Refresh an access token this long before its JWT `exp`."""
AUTH_CLAIM = "https://api.openai.com/auth"


TOKEN_ANSWER_MAX = 1024 * 1024
"""The most of a token endpoint's answer read (a real one is a few KB)."""


async def _read_at_most(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The answer's body, refused past `cap` bytes."""
    parts: list[bytes] = []
    size = 0
    while chunk := await resp.content.readany():
        size += len(chunk)
        if size > cap:
            raise CodexAuthError(f"codex: the token endpoint's answer is larger than {cap} "
                                 "bytes", status=502)
        parts.append(chunk)
    return b"".join(parts)


class CodexAuthError(Exception):
    """Signing in or refreshing failed; the message says what to do and holds no token."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def codex_home(configured: str | None = None) -> Path:
    """The folder holding auth.json: the configured one, else $CODEX_HOME, else ~/.codex."""
    raw = configured or os.environ.get("CODEX_HOME") or "~/.codex"
    return Path(raw).expanduser()


def jwt_claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified (we only read `exp` and the account id)."""
    try:
        payload = token.split(".")[1]
        value = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def account_id_from(tokens: dict[str, Any]) -> str | None:
    """`tokens.account_id`, else the ChatGPT account id claim of the id token."""
    if tokens.get("account_id"):
        return str(tokens["account_id"])
    for name in ("id_token", "access_token"):
        claim = jwt_claims(str(tokens.get(name) or "")).get(AUTH_CLAIM) or {}
        if isinstance(claim, dict) and claim.get("chatgpt_account_id"):
            return str(claim["chatgpt_account_id"])
    return None


def _now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def write_auth_file(path: Path, data: dict[str, Any]) -> None:
    """Write auth.json atomically (a temp file in the same folder, then rename), keeping the
    old file's permissions, or 0600 for a new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    fd, temp = tempfile.mkstemp(prefix=".auth.json.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


class CodexAuth:
    """The access token and account id for calls to the ChatGPT Codex backend, refreshed
    when its JWT is about to expire (or after a 401) and written back for the Codex CLI."""

    def __init__(self, home: str | None = None, token_url: str | None = None,
                 client_id: str | None = None, timeout_s: float = 30.0) -> None:
        self.path = codex_home(home) / "auth.json"
        self.token_url = token_url or TOKEN_URL
        self.client_id = client_id or CLIENT_ID
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self.refreshes = 0
        self._known: set[str] = set()

    def known_secrets(self) -> list[str]:
        """Every token read or received so far (access, refresh, id): redacted from whatever
        the backend or the token endpoint sends back."""
        return list(self._known)

    def _read(self) -> dict[str, Any]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            raise CodexAuthError(f"codex: no sign-in at {self.path}: run `codex login` or "
                                 "`fusion-tui auth codex`") from None
        except (OSError, orjson.JSONDecodeError) as exc:
            raise CodexAuthError(f"codex: cannot read {self.path}: "
                                 f"{type(exc).__name__}") from None
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, dict) or not tokens.get("access_token"):
            raise CodexAuthError(f"codex: {self.path} holds no ChatGPT tokens (an API-key "
                                 "sign-in?): run `codex login` or `fusion-tui auth codex`")
        self._known.update(str(tokens[k]) for k in ("access_token", "refresh_token",
                                                    "id_token") if tokens.get(k))
        return data

    @staticmethod
    def _fresh(tokens: dict[str, Any]) -> bool:
        exp = jwt_claims(str(tokens.get("access_token") or "")).get("exp")
        if not isinstance(exp, int | float):
            return True  # not a JWT we can read: let the backend judge it
        return exp - time.time() > REFRESH_MARGIN_S

    async def credentials(self, force_refresh: bool = False,
                          stale: str | None = None) -> tuple[str, str | None]:
        """(access token, account id), refreshed first if expired or `force_refresh`.
        `stale` is the token a 401 came back for: if the file already holds another one
        (the Codex CLI refreshed it meanwhile), that one is used without refreshing."""
        async with self._lock:
            data = self._read()
            tokens = data["tokens"]
            moved_on = stale is not None and tokens.get("access_token") != stale
            if (force_refresh and not moved_on) or not self._fresh(tokens):
                data = await self._refresh(data)
                tokens = data["tokens"]
            return str(tokens["access_token"]), account_id_from(tokens)

    async def _refresh(self, data: dict[str, Any]) -> dict[str, Any]:
        tokens = data["tokens"]
        refresh_token = tokens.get("refresh_token")
        if not refresh_token:
            raise CodexAuthError(f"codex: the access token in {self.path} expired and there "
                                 "is no refresh token: sign in again")
        payload = {"client_id": self.client_id, "grant_type": "refresh_token",
                   "refresh_token": refresh_token, "scope": "openid profile email"}
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
                    self.token_url, json=payload, allow_redirects=False) as resp:
                raw = await _read_at_most(resp, TOKEN_ANSWER_MAX)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise CodexAuthError(f"codex: token refresh at {self.token_url} failed: "
                                 f"{type(exc).__name__}", status=502) from None
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError:
            answer = None
        if status >= 400 or not isinstance(answer, dict) or not answer.get("access_token"):
            reason = ""
            if isinstance(answer, dict):
                error = answer.get("error")
                reason = str(error.get("code") or error.get("message") if isinstance(
                    error, dict) else error or answer.get("error_description") or "")
            for secret in (refresh_token, *self._known):
                reason = reason.replace(str(secret), "[redacted]")
            raise CodexAuthError(f"codex: token refresh refused (HTTP {status}"
                                 f"{': ' + reason[:120] if reason else ''}): sign in again "
                                 "with `codex login` or `fusion-tui auth codex`")
        new_tokens = dict(tokens)
        for key in ("id_token", "access_token", "refresh_token"):
            if answer.get(key):
                new_tokens[key] = answer[key]
                self._known.add(str(answer[key]))
        if not new_tokens.get("account_id"):
            account = account_id_from(new_tokens)
            if account:
                new_tokens["account_id"] = account
        updated = {**data, "tokens": new_tokens, "last_refresh": _now_rfc3339()}
        write_auth_file(self.path, updated)
        self.refreshes += 1
        return updated


# ---- the browser sign-in ------------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    """(code verifier, S256 code challenge)."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_url(issuer: str, client_id: str, redirect_uri: str, challenge: str,
                  state: str) -> str:
    """The URL a person opens to sign in (the same parameters the Codex CLI sends)."""
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": SCOPE, "code_challenge": challenge, "code_challenge_method": "S256",
        "id_token_add_organizations": "true", "codex_cli_simplified_flow": "true",
        "state": state, "originator": "codex_cli_rs"})
    return f"{issuer.rstrip('/')}/oauth/authorize?{query}"


_DONE_PAGE = (b"<!doctype html><title>fusion-tui</title><p>Signed in. You can close this tab "
              b"and go back to the terminal.</p>")


async def login(home: str | None = None, *, issuer: str = ISSUER, client_id: str = CLIENT_ID,
                port: int = LOGIN_PORT, announce: Callable[[str], None] = print,
                timeout_s: float = 600.0) -> Path:
    """Sign in with a browser (PKCE, a loopback redirect server on 127.0.0.1:`port`) and
    store the tokens in auth.json in the Codex CLI's format. Returns the file's path."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(32)
    result: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        if query.get("state") != state:
            return web.Response(status=400, text="state mismatch: start the sign-in again")
        if query.get("error"):
            if not result.done():
                result.set_exception(CodexAuthError(
                    f"sign-in refused: {query.get('error')} "
                    f"{query.get('error_description', '')}".strip()))
            return web.Response(status=400, text="sign-in refused")
        code = query.get("code")
        if not code:
            return web.Response(status=400, text="no code in the redirect")
        if not result.done():
            result.set_result(code)
        return web.Response(body=_DONE_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/auth/callback", callback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    redirect_uri = f"http://localhost:{bound}/auth/callback"
    try:
        announce(authorize_url(issuer, client_id, redirect_uri, challenge, state))
        code = await asyncio.wait_for(result, timeout_s)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": client_id, "code_verifier": verifier}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session, \
                session.post(f"{issuer.rstrip('/')}/oauth/token", data=form,
                             allow_redirects=False) as resp:
            raw = await _read_at_most(resp, TOKEN_ANSWER_MAX)
            if resp.status >= 400:
                raise CodexAuthError(f"code exchange refused (HTTP {resp.status})")
        answer = orjson.loads(raw)
    finally:
        await runner.cleanup()
    tokens = {"id_token": answer.get("id_token", ""), "access_token": answer["access_token"],
              "refresh_token": answer.get("refresh_token", "")}
    account = account_id_from(tokens)
    if account:
        tokens["account_id"] = account
    path = codex_home(home) / "auth.json"
    try:
        old = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        old = {}
    data = {**(old if isinstance(old, dict) else {}), "OPENAI_API_KEY": None,
            "tokens": tokens, "last_refresh": _now_rfc3339()}
    write_auth_file(path, data)
    return path
