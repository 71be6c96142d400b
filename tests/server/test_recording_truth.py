"""The recording is the truth: an answer the middleware turned into a 500 is recorded as a
500 with its error, and a Responses request is recorded as the client sent it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fusion_tui.core.engine import turn as engine_turn
from fusion_tui.sessions.export import export_markdown
from fusion_tui.sessions.replay import read_recording
from tests.support.http import call

ANTHROPIC = {"model": "m", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
RESPONSES = {"model": "m", "input": [{"role": "user", "content": [
    {"type": "input_text", "text": "hello responses"}]}], "store": False}
SURFACES = {"anthropic": ("/v1/messages", ANTHROPIC), "openai": ("/v1/chat/completions", CHAT),
            "responses": ("/v1/responses", RESPONSES)}


def recorded(runtime: Any, session: str) -> list[dict[str, Any]]:
    runtime.recorder.flush()
    path = runtime.state.settings.sessions.path / f"{session}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


@pytest.mark.parametrize("surface", list(SURFACES))
async def test_a_500_is_recorded_as_a_500_with_its_error(surface, make_settings, start_proxy,
                                                          monkeypatch):
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine_turn, "plan_route", broken)
    runtime = await start_proxy(make_settings())
    path, body = SURFACES[surface]
    reply = await call(runtime.address, "POST", path, json_body=body,
                       headers={"x-fusion-session": "s500"})
    assert reply.status == 500
    [finished] = [e for e in recorded(runtime, "s500") if e["kind"] == "response_finished"]
    assert finished["status"] == 500
    assert "RuntimeError" in finished["error"]


async def test_a_responses_request_is_recorded_as_sent(make_settings, start_proxy):
    settings = make_settings()
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/responses", json_body=RESPONSES,
                       headers={"x-fusion-session": "resp"})
    assert reply.status == 200, reply.text
    [received] = [e for e in recorded(runtime, "resp") if e["kind"] == "request_received"]
    assert received["body"] == RESPONSES  # no `messages` the client never sent
    recording = read_recording(settings.sessions.path / "resp.jsonl")
    assert "hello responses" in export_markdown(recording)
