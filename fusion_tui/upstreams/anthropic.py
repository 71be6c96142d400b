"""The Anthropic Messages API over aiohttp. Bodies pass through as the client sent them;
OpenAI clients are served by translation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.errors import parse_retry_after
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import UpstreamReply
from fusion_tui.upstreams.checked import checked_reply
from fusion_tui.upstreams.http import HttpTransport
from fusion_tui.upstreams.translated import chat_via_messages
from fusion_tui.upstreams.translated_responses import responses_via_messages

__all__ = ["AnthropicUpstream", "apply_limits", "parse_retry_after"]

# Client headers that carry protocol meaning and must reach the upstream unchanged.
FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta")


def apply_limits(body: dict[str, Any], settings: UpstreamSettings) -> dict[str, Any]:
    """`body` for this upstream: its model, max_tokens clamped to max_output_tokens, and
    output_config.effort set from reasoning_effort. Other keys are untouched; `body` itself
    when nothing changes (so a client's body passes through as the bytes it sent)."""
    cap = settings.max_output_tokens
    tokens = body.get("max_tokens")
    clamp = cap is not None and isinstance(tokens, int) and tokens > cap
    if body.get("model") == settings.model and not clamp and settings.reasoning_effort is None:
        return body
    sent = dict(body, model=settings.model)
    if clamp:
        sent["max_tokens"] = cap
    if settings.reasoning_effort is not None:
        sent["output_config"] = {**(sent.get("output_config") or {}),
                                 "effort": settings.reasoning_effort}
    return sent


class AnthropicUpstream:
    """Calls `{base_url}/v1/messages` with the configured model and key."""

    protocol = Wire.ANTHROPIC

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.http = HttpTransport(settings)

    def _headers(self, client_headers: Mapping[str, str]) -> dict[str, str]:
        headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
        for name in FORWARDED_HEADERS:
            value = client_headers.get(name)
            if value:
                headers[name] = value
        key = self.settings.api_key()
        if key:
            headers["x-api-key"] = key
        headers.update(self.settings.headers)
        return headers

    def _url(self, path: str) -> str:
        return f"{(self.settings.base_url or '').rstrip('/')}{path}"

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """POST /v1/messages with `model` set to this upstream's model."""
        sent = apply_limits(body, self.settings)
        reply = await self.http.post(self._url("/v1/messages"), sent, self._headers(headers),
                                     bool(sent.get("stream")))
        return await checked_reply(reply, self.protocol, self.settings.id)

    async def chat_completions(self, body: dict[str, Any],
                               headers: Mapping[str, str]) -> UpstreamReply:
        """Serve a Chat Completions request by translating it to /v1/messages and back."""
        return await chat_via_messages(self.messages, self.settings, body, headers)

    async def responses(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Serve a Responses request by translating it to /v1/messages and back."""
        return await responses_via_messages(self.messages, self.settings, body, headers)

    async def count_tokens(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """POST /v1/messages/count_tokens."""
        sent = dict(body, model=self.settings.model)
        return await self.http.post(self._url("/v1/messages/count_tokens"), sent,
                                    self._headers(headers), False)

    async def list_models(self) -> list[str]:
        """GET /v1/models (ids)."""
        data = await self.http.get_json(self._url("/v1/models?limit=1000"), self._headers({}))
        return [str(m.get("id")) for m in (data.get("data") or []) if isinstance(m, dict)]

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.close()
