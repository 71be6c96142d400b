"""The Anthropic Messages API over aiohttp. Bodies pass through as the client sent them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.upstreams.base import UpstreamError, UpstreamReply

# Client headers that carry protocol meaning and must reach the upstream unchanged.
FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form only)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class AnthropicUpstream:
    """Calls `{base_url}/v1/messages` with the configured model and key."""

    protocol = "anthropic"

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            t = self.settings.timeout_s
            # sock_read bounds the first byte and every idle gap of a stream, not only headers.
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=t, sock_read=t)
            self._session = aiohttp.ClientSession(
                timeout=timeout, json_serialize=lambda o: orjson.dumps(o).decode())
        return self._session

    def _headers(self, client_headers: Mapping[str, str]) -> dict[str, str]:
        headers = {"content-type": "application/json",
                   "anthropic-version": "2023-06-01"}
        for name in FORWARDED_HEADERS:
            value = client_headers.get(name)
            if value:
                headers[name] = value
        key = self.settings.api_key()
        if key:
            headers["x-api-key"] = key
        headers.update(self.settings.headers)
        return headers

    async def _post(self, path: str, body: dict[str, Any],
                    client_headers: Mapping[str, str], stream: bool) -> UpstreamReply:
        url = f"{(self.settings.base_url or '').rstrip('/')}{path}"
        data = orjson.dumps(body)
        try:
            resp = await self._client().post(url, data=data,
                                              headers=self._headers(client_headers))
        except TimeoutError as exc:
            raise UpstreamError(f"{self.settings.id}: no answer within "
                                f"{self.settings.timeout_s:g}s") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self.settings.id}: {type(exc).__name__}: {exc}") from exc
        headers = {k.lower(): v for k, v in resp.headers.items()}
        if stream and resp.status < 400 and "text/event-stream" in headers.get("content-type", ""):
            return UpstreamReply(resp.status, headers, stream=self._iter(resp),
                                 _release=resp.release)
        try:
            payload = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(f"{self.settings.id}: reply cut: {exc}") from exc
        finally:
            resp.release()
        return UpstreamReply(resp.status, headers, body=payload)

    async def _iter(self, resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.content.iter_any():
                yield chunk
        except TimeoutError as exc:
            raise UpstreamError(f"{self.settings.id}: stream idle for more than "
                                f"{self.settings.timeout_s:g}s") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self.settings.id}: stream broken: {exc}") from exc
        finally:
            resp.release()

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """POST /v1/messages with `model` set to this upstream's model."""
        sent = dict(body, model=self.settings.model)
        return await self._post("/v1/messages", sent, headers, bool(sent.get("stream")))

    async def count_tokens(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """POST /v1/messages/count_tokens."""
        sent = dict(body, model=self.settings.model)
        return await self._post("/v1/messages/count_tokens", sent, headers, False)

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
