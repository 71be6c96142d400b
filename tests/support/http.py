"""Raw HTTP calls for tests that look below the SDKs (status codes, SSE bytes, headers)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web


@dataclass
class RawReply:
    """Status, lower-cased headers and body text of one exchange."""

    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.text)


async def call(address: str, method: str, path: str, *, json_body: Any = None,
               data: bytes | None = None, headers: dict[str, str] | None = None) -> RawReply:
    """One request; the whole body is read."""
    sent_headers = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        sent_headers.setdefault("content-type", "application/json")
    async with aiohttp.ClientSession() as session, session.request(
            method, address + path, data=data, headers=sent_headers) as resp:
        text = await resp.text()
        return RawReply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, text)


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL (no /v1)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
