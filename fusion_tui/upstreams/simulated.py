"""The simulated upstream: speaks the Anthropic protocol in-process, paced like a real model,
with fault knobs for reliability tests. Everything it writes is labelled simulated."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from fusion_tui.config import UpstreamSettings
from fusion_tui.protocols.anthropic import error_body, estimate_request_tokens, estimate_tokens
from fusion_tui.protocols.sse import encode_sse
from fusion_tui.protocols.wire import Wire
from fusion_tui.upstreams.base import UpstreamReply
from fusion_tui.upstreams.simulated_brain import Answer, decide
from fusion_tui.upstreams.translated import chat_via_messages
from fusion_tui.upstreams.translated_responses import responses_via_messages

SIMULATED_HEADER = "x-fusion-simulated"


def _chunks(text: str) -> list[str]:
    """Split text into word-sized pieces that join back to the same text."""
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == " " and i > start:
            pieces.append(text[start:i])
            start = i
    pieces.append(text[start:])
    return [p for p in pieces if p]


class SimulatedUpstream:
    """A deterministic built-in model. See `simulated_brain.decide` for what it answers."""

    protocol = Wire.ANTHROPIC

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.calls = 0

    def _fault_active(self) -> bool:
        fault = self.settings.fault
        return fault.fail_first_n == 0 or self.calls <= fault.fail_first_n

    def _headers(self, content_type: str) -> dict[str, str]:
        return {"content-type": content_type, SIMULATED_HEADER: "true"}

    def _error_reply(self, status: int) -> UpstreamReply:
        headers = self._headers("application/json")
        if self.settings.fault.retry_after_s is not None:
            headers["retry-after"] = f"{self.settings.fault.retry_after_s:g}"
        body = error_body(status, f"simulated fault on {self.settings.id}: HTTP {status}")
        return UpstreamReply(status, headers, body=orjson.dumps(body))

    def _message_id(self, body: dict[str, Any]) -> str:
        digest = hashlib.sha256(orjson.dumps(body.get("messages", []))).hexdigest()[:20]
        return f"msg_sim_{digest}"

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Answer a Messages request, streamed or whole, or fail as the fault knobs say."""
        self.calls += 1
        fault = self.settings.fault
        if fault.status is not None and self._fault_active():
            return self._error_reply(fault.status)
        answer = decide(body, self.settings.model)
        usage_in = estimate_tokens(body.get("messages", [])) + estimate_tokens(
            body.get("system", ""))
        if body.get("stream"):
            cut = fault.cut_after_events if self._fault_active() else None
            return UpstreamReply(200, self._headers("text/event-stream"),
                                 stream=self._stream(body, answer, usage_in, cut))
        await asyncio.sleep(self._duration_s(answer))
        message = {
            "id": self._message_id(body), "type": "message", "role": "assistant",
            "model": self.settings.model, "content": answer.content,
            "stop_reason": answer.stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": usage_in, "output_tokens": self._output_tokens(answer)},
        }
        return UpstreamReply(200, self._headers("application/json"), body=orjson.dumps(message))

    def _output_tokens(self, answer: Answer) -> int:
        return sum(estimate_tokens(orjson.dumps(b)) for b in answer.content)

    def _duration_s(self, answer: Answer) -> float:
        pieces = sum(len(_chunks(b.get("text", ""))) or 3 for b in answer.content)
        return self.settings.first_token_ms / 1000 + pieces / self.settings.tokens_per_s

    def _events(self, body: dict[str, Any], answer: Answer,
                usage_in: int) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = [("message_start", {
            "type": "message_start",
            "message": {"id": self._message_id(body), "type": "message", "role": "assistant",
                        "model": self.settings.model, "content": [], "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": usage_in, "output_tokens": 1}}}),
            ("ping", {"type": "ping"})]
        for index, block in enumerate(answer.content):
            if block["type"] == "text":
                events.append(("content_block_start", {"type": "content_block_start",
                               "index": index, "content_block": {"type": "text", "text": ""}}))
                for piece in _chunks(block["text"]):
                    events.append(("content_block_delta", {
                        "type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": piece}}))
            else:
                start = {k: v for k, v in block.items() if k != "input"}
                events.append(("content_block_start", {"type": "content_block_start",
                               "index": index, "content_block": {**start, "input": {}}}))
                raw = orjson.dumps(block["input"]).decode()
                third = max(1, len(raw) // 3)
                for i in range(0, len(raw), third):
                    events.append(("content_block_delta", {
                        "type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": raw[i:i + third]}}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        events.append(("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": answer.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": self._output_tokens(answer)}}))
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    async def _stream(self, body: dict[str, Any], answer: Answer, usage_in: int,
                      cut_after: int | None) -> AsyncIterator[bytes]:
        gap = 1.0 / self.settings.tokens_per_s
        first_content = True
        for n, (name, payload) in enumerate(self._events(body, answer, usage_in), start=1):
            if cut_after is not None and n > cut_after:
                return
            if name == "content_block_delta":
                await asyncio.sleep(self.settings.first_token_ms / 1000 if first_content else gap)
                first_content = False
            yield encode_sse(name, payload)

    async def chat_completions(self, body: dict[str, Any],
                               headers: Mapping[str, str]) -> UpstreamReply:
        """Serve a Chat Completions request by translation to the Messages answer."""
        return await chat_via_messages(self.messages, self.settings, body, headers)

    async def responses(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """Serve a Responses request by translation to the Messages answer."""
        return await responses_via_messages(self.messages, self.settings, body, headers)

    async def list_models(self) -> list[str]:
        """The one simulated model."""
        return [self.settings.model]

    async def count_tokens(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        """An estimate of the request's input tokens."""
        count = estimate_request_tokens(body)
        return UpstreamReply(200, self._headers("application/json"),
                             body=orjson.dumps({"input_tokens": count}))

    async def close(self) -> None:
        """Nothing to release."""
