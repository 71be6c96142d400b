"""The HTTP client every networked upstream shares: one pool, the timeouts, the limits,
error mapping, and the one place every upstream byte passes (where credentials are
redacted)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.upstreams.base import ErrorKind, UpstreamError, UpstreamReply, wire_bytes
from fusion_tui.upstreams.redact import (
    SECRET_HEADERS,
    StreamRedactor,
    is_secret_header,
    redact,
    secrets_in,
)

DEPTH_HEADER = "x-fusion-depth"
OUTGOING_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("fusion_outgoing_depth",
                                                                     default=1)
"""The x-fusion-depth every upstream call of the current request carries: one more than the
request's own, so a fusion-tui behind this one never fans out again (the recursion guard).
Set per request by the handler; tasks it starts (advisors, the judge) inherit it."""


__all__ = ["SECRET_HEADERS", "HttpTransport", "redact_secrets"]

MIB = 1024 * 1024
SECRETS_MEMO = 64
"""How many sets of credentials a transport remembers having looked through (a refreshed
token makes a new set; the memo starts over when full)."""
SSE_BOUNDARIES = (b"\n\n", b"\r\n\r\n", b"\r\r")


def redact_secrets(payload: bytes, headers: dict[str, str]) -> bytes:
    """`payload` with every credential sent in `headers` replaced by `[redacted]`. Some
    upstreams quote the key they were given (in an error, an echo, a stream event), and what
    they send reaches the client, the events, the recordings, the log and the screen."""
    return redact(payload, secrets_in(headers))


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL (never its user info, path or query)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an invalid URL)"
    return f"{parts.scheme}://{parts.hostname}{port}" if parts.hostname else "(no host)"


class HttpTransport:
    """POSTs JSON and hands back an `UpstreamReply`, streamed when the answer is SSE.

    `timeout_s` bounds connecting, the first byte and every idle gap between chunks of a
    stream (aiohttp's sock_connect and sock_read); `deadline_s` bounds the whole call, the
    stream included. Redirects are never followed (a 3xx is an error that says so: following
    one would carry the credentials to whatever host it names). A whole answer or a stream
    larger than `max_body_mb` after decompression, or one SSE event larger than
    `max_event_mb`, is cut with an error. Every credential sent (and every one `extra_secrets`
    names, e.g. Codex refresh tokens) is redacted from every byte that comes back.
    """

    def __init__(self, settings: UpstreamSettings,
                 extra_secrets: Callable[[], Iterable[str]] | None = None) -> None:
        self.settings = settings
        self.extra_secrets = extra_secrets
        self._session: aiohttp.ClientSession | None = None
        self._secrets_memo: dict[tuple[tuple[tuple[str, str], ...], tuple[str, ...]],
                                 list[bytes]] = {}

    def _secrets(self, headers: dict[str, str]) -> list[bytes]:
        extra = list(self.extra_secrets()) if self.extra_secrets else []
        key = self.settings.api_key()
        if key:
            extra.append(key)
        sent = {**self.settings.headers, **headers}
        # The same few credentials go with every call: found once, not on every request.
        memo_key = (tuple((k, v) for k, v in sent.items() if is_secret_header(k)),
                    tuple(extra))
        found = self._secrets_memo.get(memo_key)
        if found is None:
            if len(self._secrets_memo) >= SECRETS_MEMO:
                self._secrets_memo.clear()
            found = self._secrets_memo[memo_key] = secrets_in(sent, extra)
        return found

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.settings.deadline_s

    def _late(self, deadline: float) -> bool:
        return asyncio.get_running_loop().time() >= deadline

    def _deadline_error(self) -> UpstreamError:
        return UpstreamError(f"{self.settings.id}: no complete answer within the "
                             f"{self.settings.deadline_s:g}s deadline (upstream deadline_s)",
                             kind=ErrorKind.TIMEOUT)

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
        deadline = self._deadline()
        secrets = self._secrets(headers)
        try:
            async with asyncio.timeout_at(deadline):
                resp = await self.client().post(
                    url, data=wire_bytes(body), allow_redirects=False,
                    headers={**headers, DEPTH_HEADER: str(OUTGOING_DEPTH.get())})
        except TimeoutError as exc:
            if self._late(deadline):
                raise self._deadline_error() from exc
            raise UpstreamError(f"{sid}: no answer within "
                                f"{self.settings.timeout_s:g}s", kind=ErrorKind.TIMEOUT) from exc
        except aiohttp.ClientError as exc:
            message = redact(f"{sid}: {type(exc).__name__}: {exc}".encode(), secrets)
            raise UpstreamError(message.decode(errors="replace")) from exc
        out_headers = {k.lower(): v for k, v in resp.headers.items()}
        if 300 <= resp.status < 400:
            resp.release()
            where = _origin(out_headers.get("location", ""))
            raise UpstreamError(f"{sid}: answered HTTP {resp.status} (a redirect to {where}); "
                                "redirects are not followed, so the credentials never go to "
                                "another host: fix the upstream's base_url",
                                kind=ErrorKind.MALFORMED)
        if stream and resp.status < 400 and "text/event-stream" in out_headers.get(
                "content-type", ""):
            return UpstreamReply(resp.status, out_headers,
                                 stream=self._iter(resp, deadline, secrets),
                                 _release=resp.release)
        try:
            payload = await self._read_capped(resp, deadline)
        except TimeoutError as exc:
            if self._late(deadline):
                raise self._deadline_error() from exc
            raise UpstreamError(f"{sid}: reply stalled for more than "
                                f"{self.settings.timeout_s:g}s", kind=ErrorKind.STALLED) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{sid}: reply cut: {exc}", kind=ErrorKind.CUT) from exc
        finally:
            resp.release()
        return UpstreamReply(resp.status, out_headers, body=redact(payload, secrets))

    def _too_large(self) -> UpstreamError:
        return UpstreamError(f"{self.settings.id}: answer larger than "
                             f"{self.settings.max_body_mb:g} MiB after decompression (upstream "
                             "max_body_mb); cut", kind=ErrorKind.MALFORMED)

    async def _read_capped(self, resp: aiohttp.ClientResponse, deadline: float) -> bytes:
        cap = int(self.settings.max_body_mb * MIB)
        content = resp.content
        if content.is_eof():
            # The whole answer arrived with its headers (a usual small one): taken as it is,
            # without arming a timer that could not fire.
            whole = content.read_nowait()
            if len(whole) > cap:
                raise self._too_large()
            return whole
        parts: list[bytes] = []
        size = 0
        async with asyncio.timeout_at(deadline):
            while chunk := await resp.content.readany():
                size += len(chunk)
                if size > cap:
                    raise self._too_large()
                parts.append(chunk)
        return b"".join(parts)

    async def get_json(self, url: str, headers: dict[str, str]) -> Any:
        """GET `url` and parse JSON; UpstreamError on any failure."""
        try:
            async with asyncio.timeout(self.settings.deadline_s), self.client().get(
                    url, headers=headers, allow_redirects=False) as resp:
                raw = await self._read_capped(resp, self._deadline())
                if resp.status >= 300:
                    raise UpstreamError(f"{self.settings.id}: GET {url}: HTTP {resp.status}",
                                        status=resp.status)
                return orjson.loads(raw)
        except (TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError) as exc:
            raise UpstreamError(f"{self.settings.id}: GET {url}: {exc}") from exc

    async def _iter(self, resp: aiohttp.ClientResponse, deadline: float,
                    secrets: list[bytes]) -> AsyncIterator[bytes]:
        sid = self.settings.id
        body_cap = int(self.settings.max_body_mb * MIB)
        event_cap = int(self.settings.max_event_mb * MIB)
        redactor = StreamRedactor(secrets)
        content = resp.content
        loop = asyncio.get_running_loop()
        total = since_boundary = 0
        tail = b""
        try:
            while True:
                if loop.time() >= deadline:
                    raise self._deadline_error()
                # What has arrived is taken at once (all of it: one write to the client for
                # a burst of events); a timer is armed only when the stream must be waited on.
                chunk = content.read_nowait()
                if not chunk and not content.at_eof():
                    try:
                        async with asyncio.timeout_at(deadline):
                            chunk = await content.readany()
                    except TimeoutError as exc:
                        if self._late(deadline):
                            raise self._deadline_error() from exc
                        raise UpstreamError(f"{sid}: stream idle for more than "
                                            f"{self.settings.timeout_s:g}s",
                                            kind=ErrorKind.STALLED) from exc
                if not chunk:
                    break
                total += len(chunk)
                if total > body_cap:
                    raise UpstreamError(f"{sid}: stream larger than "
                                        f"{self.settings.max_body_mb:g} MiB (upstream "
                                        "max_body_mb); cut", kind=ErrorKind.MALFORMED)
                if chunk[-2:] == b"\n\n":  # the usual chunk: whole events
                    since_boundary = 0
                else:
                    window = tail + chunk
                    end = max((window.rfind(b) + len(b) for b in SSE_BOUNDARIES
                               if b in window), default=-1)
                    since_boundary = (len(window) - end if end >= 0
                                      else since_boundary + len(chunk))
                    if since_boundary > event_cap:
                        raise UpstreamError(f"{sid}: one stream event larger than "
                                            f"{self.settings.max_event_mb:g} MiB (upstream "
                                            "max_event_mb); cut", kind=ErrorKind.MALFORMED)
                tail = chunk[-3:] if len(chunk) >= 3 else (tail + chunk)[-3:]
                out = redactor.feed(chunk)
                if out:
                    yield out
            rest = redactor.flush()
            if rest:
                yield rest
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{sid}: stream broken: {exc}", kind=ErrorKind.CUT) from exc
        finally:
            resp.release()

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
