"""A deterministic local upstream for benchmarks: Anthropic Messages (`/v1/messages`) and
OpenAI Chat Completions (`/v1/chat/completions`), whole or streamed, answering every request
with the same text of `--tokens` words, optionally paced. Needs only aiohttp.

Run: `python bench/fake_upstream.py --port 9100 [--tokens 64] [--first-token-ms 0]
[--token-ms 0]` (or `python -m bench.fake_upstream ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import web

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


class FakeUpstream:
    """The answers; `tokens` words each, one word per streamed delta."""

    def __init__(self, tokens: int, first_token_ms: float, token_ms: float) -> None:
        self.pieces = [f"{WORDS[i % len(WORDS)]} " for i in range(tokens)]
        self.first_token_s = first_token_ms / 1000
        self.token_s = token_ms / 1000
        self.ids = itertools.count(1)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/messages", self.messages)
        app.router.add_post("/v1/chat/completions", self.chat)
        return app

    async def _pace(self, first: bool) -> None:
        delay = self.first_token_s if first else self.token_s
        if delay:
            await asyncio.sleep(delay)

    @staticmethod
    def _input_tokens(body: dict[str, Any]) -> int:
        return max(1, len(json.dumps(body.get("messages", []))) // 4)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        """POST /v1/messages."""
        body = await request.json()
        mid = f"msg_fake_{next(self.ids)}"
        model = str(body.get("model", "fake-model"))
        usage_in = self._input_tokens(body)
        if not body.get("stream"):
            await self._pace(True)
            return web.json_response({
                "id": mid, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "".join(self.pieces)}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": usage_in, "output_tokens": len(self.pieces)}})
        response = await self._open(request)

        async def send(name: str, data: dict[str, Any]) -> None:
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        await send("message_start", {"type": "message_start", "message": {
            "id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": usage_in, "output_tokens": 1}}})
        await send("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}})
        for n, piece in enumerate(self.pieces):
            await self._pace(n == 0)
            await send("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": piece}})
        await send("content_block_stop", {"type": "content_block_stop", "index": 0})
        await send("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": len(self.pieces)}})
        await send("message_stop", {"type": "message_stop"})
        await response.write_eof()
        return response

    async def chat(self, request: web.Request) -> web.StreamResponse:
        """POST /v1/chat/completions."""
        body = await request.json()
        cid = f"chatcmpl-fake-{next(self.ids)}"
        model = str(body.get("model", "fake-model"))
        created = int(time.time())
        usage = {"prompt_tokens": self._input_tokens(body),
                 "completion_tokens": len(self.pieces)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not body.get("stream"):
            await self._pace(True)
            return web.json_response({
                "id": cid, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": "".join(self.pieces)}}],
                "usage": usage})
        response = await self._open(request)

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {"id": cid, "object": "chat.completion.chunk", "created": created,
                     "model": model, "choices": [{"index": 0, "delta": delta,
                                                  "finish_reason": finish}]}
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")

        await send({"role": "assistant", "content": ""})
        for n, piece in enumerate(self.pieces):
            await self._pace(n == 0)
            await send({"content": piece})
        await send({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {"id": cid, "object": "chat.completion.chunk", "created": created,
                    "model": model, "choices": [], "usage": usage}
            await response.write(b"data: " + json.dumps(tail).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    @staticmethod
    async def _open(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream",
                                               "cache-control": "no-cache"})
        await response.prepare(request)
        return response


def main() -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--tokens", type=int, default=64, help="words per answer")
    parser.add_argument("--first-token-ms", type=float, default=0.0)
    parser.add_argument("--token-ms", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeUpstream(args.tokens, args.first_token_ms, args.token_ms)
    web.run_app(fake.app(), host="127.0.0.1", port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
