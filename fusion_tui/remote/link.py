"""One proxy's control surface over HTTP: steering acts, the steering state, a session at a
glance. Every call sends the control token (server/control_auth.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from fusion_tui.core.controls import SteeringError

DEFAULT_URL = "http://127.0.0.1:8787"


class ProxyUnreachable(ConnectionError):
    """The proxy did not answer (down, wrong address, timed out); the message says which."""


class TokenRefused(SteeringError):
    """The proxy refused the control token."""


class ProxyLink:
    """Calls to the proxy at `url` with `token`. Open it as an async context manager (or
    call `close`)."""

    def __init__(self, url: str, token: str | None, timeout_s: float = 10.0,
                 source: str = "attach") -> None:
        self.url = url.rstrip("/")
        self.token = token or ""
        self.source = source
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The control token header."""
        return {"x-fusion-token": self.token}

    def http(self) -> aiohttp.ClientSession:
        """The client session (created on first use, on the running loop)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
        return self._http

    async def close(self) -> None:
        """Close the connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> ProxyLink:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        try:
            async with self.http().request(method, self.url + path, json=json) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise ProxyUnreachable(f"no proxy at {self.url} ({type(exc).__name__}: "
                                   f"{exc or 'timed out'})") from exc
        if resp.status < 400:
            return data
        message = f"HTTP {resp.status} from {self.url}{path}"
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            message = str(data["error"].get("message") or message)
        if resp.status == 401:
            raise TokenRefused(message)
        if resp.status == 404 and not path.startswith("/fusion/sessions/"):
            raise ProxyUnreachable(f"{self.url} answers 404 for {path}: not a fusion-tui "
                                   "proxy, or one too old to be steered")
        raise SteeringError(message)

    async def steer(self, act: str, **args: Any) -> None:
        """Apply one act; SteeringError with the proxy's reason when it refuses."""
        await self._call("POST", "/fusion/steer", {"act": act, "source": self.source, **args})

    async def steering(self) -> dict[str, Any]:
        """The steering state (`GET /fusion/steering`)."""
        data = await self._call("GET", "/fusion/steering")
        return data if isinstance(data, dict) else {}

    async def session(self, session_id: str) -> dict[str, Any] | None:
        """One session at a glance, None when the proxy has not seen it."""
        try:
            data = await self._call("GET", f"/fusion/sessions/{quote(session_id, safe='')}")
        except TokenRefused:
            raise
        except SteeringError:
            return None  # 404: the proxy has not seen this session
        return data if isinstance(data, dict) else None
