"""The HTTP client every networked upstream shares: one pool, the timeouts, error mapping."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.upstreams.base import ErrorKind, UpstreamError, UpstreamReply

DEPTH_HEADER = "x-fusion-depth"
OUTGOING_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("fusion_outgoing_depth",
                                                                     default=1)
"""The x-fusion-depth every upstream call of the current request carries: one more than the
request's own, so a fusion-tui behind this one never fans out again (the recursion guard).
Set per request by the handler; tasks it starts (advisors, the judge) inherit it."""


SECRET_HEADERS = frozenset({"x-api-key", "authorization", "api-key"})
"""Request headers whose values are credentials (a Bearer token without its scheme)."""


def redact_secrets(payload: bytes, headers: dict[str, str]) -> bytes:
    """`payload` with every credential sent in `headers` replaced by `[redacted]`. Some
    upstreams quote the key they were given in an error, and errors reach the client, the
    events, the recordings, the log and the screen."""
    for name, value in headers.items():
        if name.lower() not in SECRET_HEADERS:
            continue
        secret = value[7:].strip() if value[:7].lower() == "bearer " else value.strip()
        if secret:
            payload = payload.replace(secret.encode(), b"[redacted]")
    return payload


class HttpTransport:
    """POSTs JSON and hands back an `UpstreamReply`, streamed when the answer is SSE.

    `timeout_s` bounds connecting, the first byte and every idle gap between chunks of a
    stream (aiohttp's sock_connect and sock_read), never the whole answer.
    """

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def client(self) -> aiohttp.ClientSession:
        """The connection pool, made on first use."""
        if self._session is None or self._session.closed:
            t = self.settings.timeout_s
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=t, sock_read=t)
            # No cookie jar: a proxy must not carry one client's upstream cookies to another
            # (and skipping the jar is cheaper on every call).
            self._session = aiohttp.ClientSession(timeout=timeout,
                                                  cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def post(self, url: str, body: dict[str, Any], headers: dict[str, str],
                   stream: bool) -> UpstreamReply:
        """POST `body` as JSON to `url`; UpstreamError if no answer arrives."""
        sid = self.settings.id
        try:
            resp = await self.client().post(
                url, data=orjson.dumps(body),
                headers={**headers, DEPTH_HEADER: str(OUTGOING_DEPTH.get())})
        except TimeoutError as exc:
            raise UpstreamError(f"{sid}: no answer within "
                                f"{self.settings.timeout_s:g}s", kind=ErrorKind.TIMEOUT) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{sid}: {type(exc).__name__}: {exc}") from exc
        out_headers = {k.lower(): v for k, v in resp.headers.items()}
        if stream and resp.status < 400 and "text/event-stream" in out_headers.get(
                "content-type", ""):
            return UpstreamReply(resp.status, out_headers, stream=self._iter(resp),
                                 _release=resp.release)
        try:
            payload = await resp.read()
        except TimeoutError as exc:
            raise UpstreamError(f"{sid}: reply stalled for more than "
                                f"{self.settings.timeout_s:g}s", kind=ErrorKind.STALLED) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{sid}: reply cut: {exc}", kind=ErrorKind.CUT) from exc
        finally:
            resp.release()
        if resp.status >= 400:
            payload = redact_secrets(payload, headers)
        return UpstreamReply(resp.status, out_headers, body=payload)

    async def get_json(self, url: str, headers: dict[str, str]) -> Any:
        """GET `url` and parse JSON; UpstreamError on any failure."""
        try:
            async with self.client().get(url, headers=headers) as resp:
                raw = await resp.read()
                if resp.status >= 400:
                    raise UpstreamError(f"{self.settings.id}: GET {url}: HTTP {resp.status}",
                                        status=resp.status)
                return orjson.loads(raw)
        except (TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError) as exc:
            raise UpstreamError(f"{self.settings.id}: GET {url}: {exc}") from exc

    async def _iter(self, resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.content.iter_any():
                yield chunk
        except TimeoutError as exc:
            raise UpstreamError(f"{self.settings.id}: stream idle for more than "
                                f"{self.settings.timeout_s:g}s", kind=ErrorKind.STALLED) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self.settings.id}: stream broken: {exc}",
                                kind=ErrorKind.CUT) from exc
        finally:
            resp.release()

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
