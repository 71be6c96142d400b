"""A scripted upstream for fuzzing what upstreams send: every request to /v1/messages,
/v1/chat/completions or /v1/responses gets the next `Answer` (status, content type, a
whole body or a list of stream chunks). Also builds valid answers of each protocol, to be
mutated."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Answer:
    """One scripted answer."""

    status: int = 200
    content_type: str = "application/json"
    body: bytes = b""
    chunks: list[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HostileUpstream:
    """Answers whatever `answer` says; counts requests."""

    answer: Answer = field(default_factory=Answer)
    requests: int = 0
    received: list[Any] = field(default_factory=list)
    """The request bodies, parsed, in order."""

    def app(self) -> web.Application:
        """The application (every protocol's path)."""
        app = web.Application()
        for path in ("/v1/messages", "/v1/chat/completions", "/v1/responses"):
            app.router.add_post(path, self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append(json.loads(await request.read()))
        self.requests += 1
        answer = self.answer
        if answer.chunks is None:
            return web.Response(status=answer.status, body=answer.body,
                                headers={"content-type": answer.content_type,
                                         **answer.headers})
        response = web.StreamResponse(status=answer.status, headers={
            "content-type": answer.content_type, **answer.headers})
        await response.prepare(request)
        for chunk in answer.chunks:
            await response.write(chunk)
        await response.write_eof()
        return response


def sse(event: str | None, data: Any) -> bytes:
    """One SSE frame."""
    head = f"event: {event}\n" if event else ""
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {payload}\n\n".encode()


def whole_answer(protocol: str, text: str) -> dict[str, Any]:
    """A valid non-streamed answer of `protocol` saying `text`."""
    if protocol == "anthropic":
        return {"id": "msg_h", "type": "message", "role": "assistant", "model": "x",
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 2}}
    if protocol == "openai":
        return {"id": "c_h", "object": "chat.completion", "created": 1, "model": "x",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
    return {"id": "resp_h", "object": "response", "created_at": 1, "status": "completed",
            "model": "x", "error": None, "incomplete_details": None,
            "output": [{"type": "message", "id": "m_h", "status": "completed",
                        "role": "assistant", "content": [
                            {"type": "output_text", "text": text, "annotations": []}]}],
            "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}}


def stream_events(protocol: str, text: str) -> list[tuple[str | None, Any]]:
    """A valid stream of `protocol` saying `text`, as (event name, data) pairs."""
    if protocol == "anthropic":
        return [
            ("message_start", {"type": "message_start", "message": {
                "id": "msg_h", "type": "message", "role": "assistant", "model": "x",
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 1}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "text_delta", "text": text}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {
                "stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 2}}),
            ("message_stop", {"type": "message_stop"})]
    if protocol == "openai":
        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {"id": "c_h", "object": "chat.completion.chunk", "created": 1,
                    "model": "x", "choices": [{"index": 0, "delta": delta,
                                               "finish_reason": finish}]}
        return [(None, chunk({"role": "assistant", "content": ""}, None)),
                (None, chunk({"content": text}, None)), (None, chunk({}, "stop")),
                (None, "[DONE]")]
    final = whole_answer("responses", text)
    shell = {**final, "status": "in_progress", "output": [], "usage": None}
    item = final["output"][0]
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": shell},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {**item, "status": "in_progress", "content": []}},
        {"type": "response.output_text.delta", "output_index": 0, "item_id": "m_h",
         "content_index": 0, "delta": text},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": final}]
    return [(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(events)]
