"""A local server that speaks the Anthropic Messages protocol, for upstream tests.

It records every request (headers and raw body) and answers from a script: a fixed text, a
tool_use, or an error with a given status. Streaming follows the documented event order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    """One request the fake received."""

    path: str
    query: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.raw)


@dataclass
class FakeAnthropic:
    """Scripted behaviour; change the fields between requests."""

    text: str = "hello from the fake upstream"
    tool_use: dict[str, Any] | None = None
    error_status: int | None = None
    error_message: str = "fake upstream refused"
    retry_after: str | None = None
    requests: list[Recorded] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count)
        return app

    def _content(self) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [{"type": "text", "text": self.text}]
        if self.tool_use:
            content.append({"type": "tool_use", "id": "toolu_fake1", **self.tool_use})
        return content

    async def _record(self, request: web.Request) -> Recorded:
        rec = Recorded(request.path, request.query_string,
                       {k.lower(): v for k, v in request.headers.items()}, await request.read())
        self.requests.append(rec)
        return rec

    async def _count(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response({"input_tokens": 42})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        rec = await self._record(request)
        if self.error_status:
            headers = {"retry-after": self.retry_after} if self.retry_after else None
            return web.json_response(
                {"type": "error", "error": {"type": "invalid_request_error"
                                            if self.error_status < 500 else "api_error",
                                            "message": self.error_message}},
                status=self.error_status, headers=headers)
        body = rec.body
        stop = "tool_use" if self.tool_use else "end_turn"
        message = {"id": "msg_fake1", "type": "message", "role": "assistant",
                   "model": body["model"], "content": self._content(), "stop_reason": stop,
                   "stop_sequence": None,
                   "usage": {"input_tokens": 11, "output_tokens": 7,
                             "cache_read_input_tokens": 3}}
        if not body.get("stream"):
            return web.json_response(message)
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)

        async def send(name: str, data: dict[str, Any]) -> None:
            await resp.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        await send("message_start", {"type": "message_start", "message": {
            **message, "content": [], "stop_reason": None,
            "usage": {"input_tokens": 11, "output_tokens": 1}}})
        for index, block in enumerate(self._content()):
            if block["type"] == "text":
                await send("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}})
                for word in block["text"].split(" "):
                    await send("content_block_delta", {
                        "type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": word + " "}})
            else:
                await send("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {**block, "input": {}}})
                raw = json.dumps(block["input"])
                for part in (raw[: len(raw) // 2], raw[len(raw) // 2:]):
                    await send("content_block_delta", {
                        "type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": part}})
            await send("content_block_stop", {"type": "content_block_stop", "index": index})
        await send("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": stop, "stop_sequence": None},
                                     "usage": {"output_tokens": 7}})
        await send("message_stop", {"type": "message_stop"})
        await resp.write_eof()
        return resp
