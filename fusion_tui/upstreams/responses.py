"""The OpenAI Responses API over aiohttp: the `openai-responses` type (an API key against
`{base_url}/responses`) and the `codex` type (the ChatGPT Codex backend, signed in with the
Codex CLI's OAuth tokens). Responses clients pass through; Messages and Chat Completions
clients are served by translation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.anthropic import estimate_request_tokens
from fusion_tui.protocols.neutral import Notes
from fusion_tui.protocols.openai import error_body
from fusion_tui.protocols.responses import status_for_code
from fusion_tui.protocols.responses_stream import collect_stream
from fusion_tui.protocols.sse import MalformedEvent
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import ErrorKind, UpstreamError, UpstreamReply
from fusion_tui.upstreams.checked import checked_reply
from fusion_tui.upstreams.codex_auth import CodexAuth, CodexAuthError
from fusion_tui.upstreams.http import HttpTransport
from fusion_tui.upstreams.translated_responses import chat_via_responses, messages_via_responses

CODEX_HEADERS = {"openai-beta": "responses=experimental", "originator": "codex_cli_rs"}
"""Sent to the ChatGPT Codex backend, as the Codex CLI sends them."""
ACCOUNT_HEADER = "chatgpt-account-id"


def responses_base(settings: UpstreamSettings) -> str:
    """The prefix of /responses: base_url as given; for openai-responses a bare origin gets
    /v1 appended (the same rule as the openai type)."""
    base = (settings.base_url or "").rstrip("/")
    if settings.type != "codex" and not urlsplit(base).path:
        return f"{base}/v1"
    return base


class ResponsesUpstream:
    """Calls `{base}/responses` with the configured model; Bearer API key (openai-responses)
    or the ChatGPT access token and account id (codex)."""

    protocol = Wire.RESPONSES

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.codex = settings.type == "codex"
        self.auth = (CodexAuth(settings.codex_home, settings.oauth_token_url,
                               settings.oauth_client_id, timeout_s=min(settings.timeout_s, 60))
                     if self.codex else None)
        self.http = HttpTransport(settings, self.auth.known_secrets if self.auth else None)

    async def _headers(self, refresh: bool = False, stale: str | None = None
                       ) -> tuple[dict[str, str], str | None]:
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        token: str | None = None
        if self.auth is not None:
            try:
                token, account = await self.auth.credentials(refresh, stale)
            except CodexAuthError as exc:
                raise UpstreamError(f"{self.settings.id}: {exc}", status=exc.status) from None
            headers["authorization"] = f"Bearer {token}"
            if account:
                headers[ACCOUNT_HEADER] = account
            headers.update(CODEX_HEADERS)
        else:
            key = self.settings.api_key()
            if key:
                headers["authorization"] = f"Bearer {key}"
        headers.update(self.settings.headers)
        return headers, token

    def prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` for this upstream: its model, max_output_tokens clamped (dropped for codex,
        whose backend refuses it), reasoning.effort from reasoning_effort, store false unless
        the client asked otherwise (always false for codex, which also always streams)."""
        sent = dict(body, model=self.settings.model)
        cap = self.settings.max_output_tokens
        if self.codex:
            sent.pop("max_output_tokens", None)
            sent["store"] = False
            sent["stream"] = True
            sent.setdefault("instructions", "")
        elif cap is not None:
            current = sent.get("max_output_tokens")
            sent["max_output_tokens"] = min(current, cap) if isinstance(current, int) else cap
        if not self.codex:
            sent.setdefault("store", False)
        if self.settings.reasoning_effort is not None:
            sent["reasoning"] = {**(sent.get("reasoning") or {}),
                                 "effort": self.settings.reasoning_effort}
        return sent

    async def responses(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """POST {base}/responses. For codex a non-streaming request is streamed upstream (the
        backend only streams) and collected into one JSON answer; a 401 refreshes the token
        once and retries."""
        sent = self.prepare(body)
        url = f"{responses_base(self.settings)}/responses"
        out_headers, token = await self._headers()
        reply = await self.http.post(url, sent, out_headers, bool(sent.get("stream")))
        if self.codex and reply.status == 401:
            await reply.close()
            out_headers, _ = await self._headers(refresh=True, stale=token)
            reply = await self.http.post(url, sent, out_headers, True)
        reply = await checked_reply(reply, self.protocol, self.settings.id)
        if self.codex and not body.get("stream") and reply.ok and reply.stream is not None:
            return await self._collected(reply)
        return reply

    async def _collected(self, reply: UpstreamReply) -> UpstreamReply:
        assert reply.stream is not None
        try:
            final, error = await collect_stream(reply.stream, Notes())
        except MalformedEvent as exc:
            raise UpstreamError(f"{self.settings.id}: malformed event: {exc}",
                                kind=ErrorKind.MALFORMED) from exc
        finally:
            await reply.close()
        headers = {"content-type": "application/json"}
        if error is not None:
            status = status_for_code(error.get("code"))
            return UpstreamReply(status, headers, body=orjson.dumps(error_body(
                status, str(error.get("message") or "response failed"))))
        if final is None:
            raise UpstreamError(f"{self.settings.id}: stream ended before response.completed",
                                kind=ErrorKind.CUT)
        return UpstreamReply(200, headers, body=orjson.dumps(final))

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Serve an Anthropic Messages request by translating it to the Responses API."""
        return await messages_via_responses(self.responses, self.settings, body, headers)

    async def chat_completions(self, body: dict[str, Any],
                               headers: Mapping[str, str]) -> UpstreamReply:
        """Serve a Chat Completions request by translating it to the Responses API."""
        return await chat_via_responses(self.responses, self.settings, body, headers)

    async def count_tokens(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """An estimate (about 4 bytes a token): no counting endpoint is used."""
        count = estimate_request_tokens(body)
        return UpstreamReply(200, {"content-type": "application/json"},
                             body=orjson.dumps({"input_tokens": count}))

    async def list_models(self) -> list[str]:
        """{base}/models for openai-responses; the configured model for codex (the ChatGPT
        backend's model list is not an OpenAI models endpoint)."""
        if self.codex:
            return [self.settings.model]
        headers, _ = await self._headers()
        data = await self.http.get_json(f"{responses_base(self.settings)}/models", headers)
        return [str(m.get("id")) for m in (data.get("data") or []) if isinstance(m, dict)]

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.close()
