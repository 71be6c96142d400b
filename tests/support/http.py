"""Raw HTTP calls for tests that look below the SDKs (status codes, SSE bytes, headers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp


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
