"""OpenAI Chat Completions over aiohttp: the openai, openai-compatible and ollama types.
Bodies from OpenAI clients pass through (model replaced, limits applied); Anthropic clients
are served by translation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.anthropic import estimate_request_tokens
from fusion_tui.protocols.openai_codec import TokenField
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import UpstreamReply
from fusion_tui.upstreams.checked import checked_reply
from fusion_tui.upstreams.http import HttpTransport
from fusion_tui.upstreams.translated import messages_via_chat
from fusion_tui.upstreams.translated_responses import responses_via_chat

TOKEN_FIELDS: tuple[TokenField, ...] = ("max_tokens", "max_completion_tokens")


def api_base(settings: UpstreamSettings) -> str:
    """The prefix of /chat/completions: ollama's root + /v1; for the others base_url as
    given, with /v1 appended to a bare origin (no path)."""
    base = (settings.base_url or "").rstrip("/")
    if settings.type == "ollama" or not urlsplit(base).path:
        return f"{base}/v1"
    return base


class OpenAIUpstream:
    """Calls `{api_base}/chat/completions` with the configured model and Bearer key."""

    protocol = Wire.OPENAI

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.http = HttpTransport(settings)
        # OpenAI's own API wants max_completion_tokens (reasoning models refuse max_tokens);
        # compatible servers and ollama know max_tokens.
        self.token_field: TokenField = ("max_completion_tokens" if settings.type == "openai"
                                        else "max_tokens")

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        key = self.settings.api_key()
        if key:
            headers["authorization"] = f"Bearer {key}"
        headers.update(self.settings.headers)
        return headers

    def prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` for this upstream: its model, token limits clamped to max_output_tokens,
        reasoning_effort set if configured. Other keys are untouched; `body` itself when
        nothing changes (so a client's body passes through as the bytes it sent)."""
        cap = self.settings.max_output_tokens
        present = [f for f in TOKEN_FIELDS if isinstance(body.get(f), int)]
        if (body.get("model") == self.settings.model and self.settings.reasoning_effort is None
                and (cap is None or (present and all(body[f] <= cap for f in present)))):
            return body
        sent = dict(body, model=self.settings.model)
        if cap is not None:
            present = [f for f in TOKEN_FIELDS if isinstance(sent.get(f), int)]
            for name in present:
                sent[name] = min(sent[name], cap)
            if not present:
                sent[self.token_field] = cap
        if self.settings.reasoning_effort is not None:
            sent["reasoning_effort"] = self.settings.reasoning_effort
        return sent

    async def chat_completions(self, body: dict[str, Any],
                               headers: Mapping[str, str]) -> UpstreamReply:
        """POST {api_base}/chat/completions."""
        sent = self.prepare(body)
        reply = await self.http.post(f"{api_base(self.settings)}/chat/completions", sent,
                                     self._headers(), bool(sent.get("stream")))
        return await checked_reply(reply, self.protocol, self.settings.id)

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Serve an Anthropic Messages request by translating it to Chat Completions."""
        return await messages_via_chat(self.chat_completions, self.settings, self.token_field,
                                       body, headers)

    async def responses(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Serve a Responses request by translating it to Chat Completions and back."""
        return await responses_via_chat(self.chat_completions, self.settings, self.token_field,
                                        body, headers)

    async def count_tokens(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """An estimate (Chat Completions has no counting endpoint): about 4 bytes a token."""
        count = estimate_request_tokens(body)
        return UpstreamReply(200, {"content-type": "application/json"},
                             body=orjson.dumps({"input_tokens": count}))

    async def list_models(self) -> list[str]:
        """Model names: ollama's /api/tags, else {api_base}/models."""
        if self.settings.type == "ollama":
            root = (self.settings.base_url or "").rstrip("/")
            data = await self.http.get_json(f"{root}/api/tags", self._headers())
            return [str(m.get("name")) for m in (data.get("models") or [])
                    if isinstance(m, dict)]
        data = await self.http.get_json(f"{api_base(self.settings)}/models", self._headers())
        return [str(m.get("id")) for m in (data.get("data") or []) if isinstance(m, dict)]

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.close()
