"""A local server that speaks OpenAI Chat Completions, for upstream tests.

It records every request (headers and raw body) and answers from a script: text, tool calls,
reasoning, an error status, an error chunk or a cut in the middle of a stream, and delays
before the first byte or between chunks. Streams follow OpenAI's shape: a role chunk, content
and tool-call deltas, a finish chunk, a usage chunk when `stream_options.include_usage`, then
`data: [DONE]`. It also answers GET /v1/models and ollama's GET /api/tags.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.fake_anthropic import Recorded
from tests.support.http import serving


@dataclass
class Turn:
    """One scripted answer. Each tool call: {"name", "arguments" (dict or str), "id"?}."""

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str | None = None
    finish_reason: str | None = None


Responder = Callable[[dict[str, Any]], Turn]


@dataclass
class FakeOpenAI:
    """Scripted behaviour; change the fields between requests. `script` entries (a Turn or a
    function of the request body) are used one per request before the fixed fields."""

    text: str = "hello from the fake openai upstream"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str | None = None
    script: list[Turn | Responder] = field(default_factory=list)
    error_status: int | None = None
    error_message: str = "fake openai upstream refused"
    retry_after: str | None = None
    error_after_chunks: int | None = None
    cut_after_chunks: int | None = None
    first_byte_delay_s: float = 0.0
    chunk_gap_s: float = 0.0
    usage: dict[str, Any] = field(default_factory=lambda: {
        "prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 5},
        "completion_tokens_details": {"reasoning_tokens": 0}})
    models: list[str] = field(default_factory=lambda: ["gpt-fake", "gpt-fake-mini"])
    requests: list[Recorded] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/api/tags", self._tags)
        return app

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]})

    async def _tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": m, "model": m} for m in self.models]})

    def _turn(self, body: dict[str, Any]) -> Turn:
        if self.script:
            entry = self.script.pop(0)
            return entry if isinstance(entry, Turn) else entry(body)
        return Turn(self.text, list(self.tool_calls), self.reasoning)

    @staticmethod
    def _calls(turn: Turn) -> list[dict[str, Any]]:
        calls = []
        for i, call in enumerate(turn.tool_calls):
            args = call["arguments"]
            calls.append({"id": call.get("id", f"call_fake{i}"), "type": "function",
                          "function": {"name": call["name"], "arguments": args if isinstance(
                              args, str) else json.dumps(args)}})
        return calls

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        rec = Recorded(request.path, request.query_string,
                       {k.lower(): v for k, v in request.headers.items()}, await request.read())
        self.requests.append(rec)
        if self.first_byte_delay_s:
            await asyncio.sleep(self.first_byte_delay_s)
        if self.error_status:
            headers = {"retry-after": self.retry_after} if self.retry_after else None
            return web.json_response({"error": {
                "message": self.error_message, "type": "invalid_request_error"
                if self.error_status < 500 else "server_error", "param": None, "code": None}},
                status=self.error_status, headers=headers)
        body = rec.body
        turn = self._turn(body)
        calls = self._calls(turn)
        finish = turn.finish_reason or ("tool_calls" if calls else "stop")
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": turn.text or None,
                                       "refusal": None}
            if turn.reasoning:
                message["reasoning_content"] = turn.reasoning
            if calls:
                message["tool_calls"] = calls
            return web.json_response({
                "id": "chatcmpl-fake1", "object": "chat.completion", "created": 1700000000,
                "model": body["model"], "choices": [{"index": 0, "message": message,
                                                     "logprobs": None, "finish_reason": finish}],
                "usage": self.usage})
        return await self._stream(request, body, turn, calls, finish)

    async def _stream(self, request: web.Request, body: dict[str, Any], turn: Turn,
                      calls: list[dict[str, Any]], finish: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        base = {"id": "chatcmpl-fake1", "object": "chat.completion.chunk",
                "created": 1700000000, "model": body["model"]}
        chunks: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if turn.reasoning:
            chunks += [{"reasoning_content": w + " "} for w in turn.reasoning.split(" ")]
        if turn.text:
            words = turn.text.split(" ")
            chunks += [{"content": w + (" " if i < len(words) - 1 else "")}
                       for i, w in enumerate(words)]
        for i, call in enumerate(calls):
            args = call["function"]["arguments"]
            chunks.append({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                           "function": {"name": call["function"]["name"],
                                                        "arguments": ""}}]})
            for piece in (args[: len(args) // 2], args[len(args) // 2:]):
                chunks.append({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
        frames = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
                  for d in chunks]
        frames.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append({**base, "choices": [], "usage": self.usage})
        for n, frame in enumerate(frames):
            if self.error_after_chunks is not None and n == self.error_after_chunks:
                await resp.write(b"data: " + json.dumps({"error": {
                    "message": self.error_message, "type": "server_error", "param": None,
                    "code": None}}).encode() + b"\n\n")
                await resp.write_eof()
                return resp
            if self.cut_after_chunks is not None and n == self.cut_after_chunks:
                await resp.write_eof()
                return resp
            if n and self.chunk_gap_s:
                await asyncio.sleep(self.chunk_gap_s)
            await resp.write(b"data: " + json.dumps(frame).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


@contextlib.asynccontextmanager
async def running(fake: FakeOpenAI) -> AsyncIterator[str]:
    """Serve `fake` on a free local port; yields its base URL (no /v1)."""
    async with serving(fake.app()) as base:
        yield base
