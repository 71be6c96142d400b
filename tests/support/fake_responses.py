"""A local server that speaks the OpenAI Responses API (POST /v1/responses, and the ChatGPT
Codex backend's /backend-api/codex/responses), plus a fake OAuth token endpoint, for upstream
tests.

It records every request and answers from a script: text, function calls, reasoning, an
error status, a `response.failed` or a cut in the middle of a stream. Streams follow OpenAI's
event sequence. With `require_bearer` set it answers 401 unless the Authorization header
carries that token (the codex tests rotate it through the token endpoint).
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.fake_anthropic import Recorded
from tests.support.http import serving


def make_jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT with these claims (the proxy only reads exp and the account id)."""
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


def access_token(n: int, expires_in: float = 3600, account: str = "acct-fake") -> str:
    """Access token number `n`, expiring in `expires_in` seconds."""
    return make_jwt({"exp": int(time.time() + expires_in), "n": n,
                     "https://api.openai.com/auth": {"chatgpt_account_id": account}})


@dataclass
class Turn:
    """One scripted answer. Each call: {"name", "arguments" (dict or str), "call_id"?}."""

    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str | None = None


Responder = Callable[[dict[str, Any]], Turn]


@dataclass
class FakeResponses:
    """Scripted behaviour; `script` entries (a Turn or a function of the body) go first."""

    text: str = "hello from the fake responses upstream"
    script: list[Turn | Responder] = field(default_factory=list)
    error_status: int | None = None
    error_message: str = "fake responses upstream refused"
    fail_after_events: int | None = None
    cut_after_events: int | None = None
    require_bearer: str | None = None
    empty_final_output: bool = False
    """Leave response.completed's output empty (as the ChatGPT backend does)."""
    usage: dict[str, Any] = field(default_factory=lambda: {
        "input_tokens": 30, "input_tokens_details": {"cached_tokens": 10}, "output_tokens": 7,
        "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 37})
    requests: list[Recorded] = field(default_factory=list)
    # The OAuth side: refresh tokens it accepts, and what it hands out.
    refresh_tokens: set[str] = field(default_factory=lambda: {"rt-1"})
    issued: int = 1
    token_requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/backend-api/codex/responses", self._responses)
        app.router.add_post("/oauth/token", self._token)
        app.router.add_get("/v1/models", self._models)
        return app

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": "gpt-resp", "object": "model", "created": 0, "owned_by": "fake"}]})

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            form: dict[str, Any] = await request.json()
        else:
            form = dict(await request.post())
        self.token_requests.append(form)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return web.json_response({"error": {"code": "refresh_token_reused",
                                                    "message": "already used"}}, status=401)
            self.refresh_tokens.discard(str(form["refresh_token"]))
        elif form.get("grant_type") != "authorization_code" or not form.get("code_verifier"):
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.issued += 1
        new_refresh = f"rt-{self.issued}"
        self.refresh_tokens.add(new_refresh)
        token = access_token(self.issued)
        self.require_bearer = token if self.require_bearer else None
        return web.json_response({
            "access_token": token, "refresh_token": new_refresh, "expires_in": 3600,
            "id_token": make_jwt({"https://api.openai.com/auth":
                                  {"chatgpt_account_id": "acct-fake"}})})

    def _turn(self, body: dict[str, Any]) -> Turn:
        if self.script:
            entry = self.script.pop(0)
            return entry if isinstance(entry, Turn) else entry(body)
        return Turn(self.text)

    def _output(self, turn: Turn) -> list[dict[str, Any]]:
        output: list[dict[str, Any]] = []
        if turn.reasoning:
            output.append({"type": "reasoning", "id": "rs_fake", "summary": [
                {"type": "summary_text", "text": turn.reasoning}]})
        if turn.text:
            output.append({"type": "message", "id": "msg_fake", "status": "completed",
                           "role": "assistant", "content": [
                               {"type": "output_text", "text": turn.text, "annotations": []}]})
        for i, call in enumerate(turn.calls):
            args = call["arguments"]
            output.append({"type": "function_call", "id": f"fc_fake{i}",
                           "call_id": call.get("call_id", f"call_fake{i}"),
                           "name": call["name"], "status": "completed",
                           "arguments": args if isinstance(args, str) else json.dumps(args)})
        return output

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        rec = Recorded(request.path, request.query_string,
                       {k.lower(): v for k, v in request.headers.items()}, await request.read())
        self.requests.append(rec)
        if self.require_bearer and request.headers.get(
                "authorization") != f"Bearer {self.require_bearer}":
            return web.json_response({"detail": "Unauthorized"}, status=401)
        if self.error_status:
            return web.json_response({"error": {
                "message": self.error_message, "type": "invalid_request_error"
                if self.error_status < 500 else "server_error", "param": None, "code": None}},
                status=self.error_status)
        body = rec.body
        turn = self._turn(body)
        output = self._output(turn)
        final = {"id": "resp_fake1", "object": "response", "created_at": 1700000000,
                 "status": "completed", "model": body["model"], "output": output,
                 "usage": self.usage, "error": None, "incomplete_details": None}
        if not body.get("stream"):
            return web.json_response(final)
        return await self._stream(request, final)

    async def _stream(self, request: web.Request, final: dict[str, Any]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        shell = {**final, "status": "in_progress", "output": [], "usage": None}
        events: list[dict[str, Any]] = [{"type": "response.created", "response": shell},
                                        {"type": "response.in_progress", "response": shell}]
        for index, item in enumerate(final["output"]):
            if item["type"] == "message":
                text = item["content"][0]["text"]
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "status": "in_progress", "content": []}})
                events.append({"type": "response.content_part.added", "output_index": index,
                               "item_id": item["id"], "content_index": 0,
                               "part": {"type": "output_text", "text": "", "annotations": []}})
                words = text.split(" ")
                for i, word in enumerate(words):
                    events.append({"type": "response.output_text.delta", "output_index": index,
                                   "item_id": item["id"], "content_index": 0,
                                   "delta": word + (" " if i < len(words) - 1 else "")})
                events.append({"type": "response.output_text.done", "output_index": index,
                               "item_id": item["id"], "content_index": 0, "text": text})
            elif item["type"] == "reasoning":
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "summary": []}})
                events.append({"type": "response.reasoning_summary_text.delta",
                               "output_index": index, "item_id": item["id"],
                               "summary_index": 0, "delta": item["summary"][0]["text"]})
            else:
                args = item["arguments"]
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "arguments": "", "status": "in_progress"}})
                for piece in (args[: len(args) // 2], args[len(args) // 2:]):
                    events.append({"type": "response.function_call_arguments.delta",
                                   "output_index": index, "item_id": item["id"],
                                   "delta": piece})
                events.append({"type": "response.function_call_arguments.done",
                               "output_index": index, "item_id": item["id"], "arguments": args})
            events.append({"type": "response.output_item.done", "output_index": index,
                           "item": item})
        done = {**final, "output": [] if self.empty_final_output else final["output"]}
        events.append({"type": "response.completed", "response": done})
        for n, event in enumerate(events):
            if self.fail_after_events is not None and n == self.fail_after_events:
                event = {"type": "response.failed", "response": {
                    **shell, "status": "failed",
                    "error": {"code": "server_error", "message": self.error_message}}}
                await resp.write(_frame(event, n))
                await resp.write_eof()
                return resp
            if self.cut_after_events is not None and n == self.cut_after_events:
                await resp.write_eof()
                return resp
            await resp.write(_frame(event, n))
        await resp.write_eof()
        return resp


def _frame(event: dict[str, Any], sequence: int) -> bytes:
    payload = {**event, "sequence_number": sequence}
    return (f"event: {event['type']}\n".encode() + b"data: " + json.dumps(payload).encode()
            + b"\n\n")


@contextlib.asynccontextmanager
async def running(fake: FakeResponses) -> AsyncIterator[str]:
    """Serve `fake` on a free local port; yields its base URL (no /v1)."""
    async with serving(fake.app()) as base:
        yield base
