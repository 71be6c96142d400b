"""The turn engine, sans-IO: scripted upstreams answer, a scripted client records what the
engine asked the HTTP layer to send, and each test reads as the story of one turn."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pytest

from fusion_tui.config import Settings
from fusion_tui.core.engine import ANTHROPIC, OPENAI, Arrival, Outcome, serve_turn
from fusion_tui.core.engine.turn import ROUTE_HEADER
from fusion_tui.core.state import ProxyState
from fusion_tui.events import Event, EventBus
from fusion_tui.routing import Router
from fusion_tui.upstreams import ErrorKind, UpstreamError, UpstreamReply, build_upstreams

READ = {"name": "Read", "description": "Read a file.",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}


def anthropic_body(stream: bool = False, tools: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "claude", "max_tokens": 100, "stream": stream,
                            "messages": [{"role": "user", "content": "read hello.txt"}]}
    if tools:
        body["tools"] = [READ]
    return body


def message_reply(text: str = "done", input_tokens: int = 10,
                  output_tokens: int = 5) -> UpstreamReply:
    return UpstreamReply(200, {"content-type": "application/json"}, body=orjson.dumps({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}))


class ScriptedUpstream:
    """An upstream that plays a script: each call takes the next reply or raises the next
    error, and keeps the bodies it was sent."""

    protocol = "anthropic"

    def __init__(self, settings: Any, *script: UpstreamReply | UpstreamError) -> None:
        self.settings = settings
        self.script = list(script)
        self.bodies: list[dict[str, Any]] = []

    async def _next(self, body: dict[str, Any]) -> UpstreamReply:
        self.bodies.append(body)
        step = self.script.pop(0)
        if isinstance(step, UpstreamError):
            raise step
        return step

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        return await self._next(body)

    async def chat_completions(self, body: dict[str, Any],
                               headers: Mapping[str, str]) -> UpstreamReply:
        return await self._next(body)

    async def responses(self, body: dict[str, Any],
                        headers: Mapping[str, str]) -> UpstreamReply:
        return await self._next(body)

    async def count_tokens(self, body: dict[str, Any],
                           headers: Mapping[str, str]) -> UpstreamReply:
        raise AssertionError("not part of a turn")

    async def list_models(self) -> list[str]:
        return []

    async def close(self) -> None:
        pass


class ScriptedClient:
    """The engine's Client, recording each thing it was asked to send, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    async def open(self, headers: dict[str, str], opening: bytes) -> None:
        self.sent.append(("open", headers[ROUTE_HEADER], opening))

    async def write(self, data: bytes) -> None:
        self.sent.append(("write", data))

    async def end(self) -> None:
        self.sent.append(("end",))

    async def relay(self, reply: UpstreamReply, headers: dict[str, str], stream: bool,
                    started: float) -> Outcome:
        raw = reply.body if reply.stream is None else b"".join(
            [chunk async for chunk in reply.stream])
        self.sent.append(("relay", headers[ROUTE_HEADER], reply.status, raw))
        usage = (orjson.loads(raw).get("usage") or {}) if reply.stream is None else {}
        return Outcome(reply.status, input_tokens=usage.get("input_tokens", 0),
                       output_tokens=usage.get("output_tokens", 0), usage=usage)

    def fail(self, status: int, message: str, headers: dict[str, str]) -> None:
        self.sent.append(("fail", status, message, headers.get(ROUTE_HEADER)))

    def add_header(self, name: str, value: str) -> None:
        self.sent.append(("header", name, value))

    def stream_started(self) -> bool:
        return any(step[0] == "open" for step in self.sent)

    async def send(self) -> None:
        self.sent.append(("send",))

    def steps(self) -> list[Any]:
        return [step[0] for step in self.sent]


@pytest.fixture
def proxy(make_settings: Callable[..., Settings]) -> Callable[..., tuple[ProxyState,
                                                                         list[Event]]]:
    """A ProxyState over simulated upstreams (the ones named in `scripts` replaced by
    scripted ones) and the list its events land in."""

    def make(scripts: Mapping[str, tuple[UpstreamReply | UpstreamError, ...]] = (
             {}), **overrides: Any) -> tuple[ProxyState, list[Event]]:
        ids = overrides.pop("ids", ["a", "b"])
        overrides.setdefault("upstreams", [
            {"id": uid, "type": "simulated", "model": uid, "first_token_ms": 1,
             "tokens_per_s": 5000, "price": {"input": 1, "output": 2}} for uid in ids])
        overrides.setdefault("pools", {"actor": ["a", "b"]})
        overrides.setdefault("routing", {"mode": "single"})
        settings = make_settings(**overrides)
        bus = EventBus()
        events: list[Event] = []
        bus.listen(events.append)
        upstreams = build_upstreams(settings)
        for uid, script in dict(scripts).items():
            upstreams[uid] = ScriptedUpstream(upstreams[uid].settings, *script)  # type: ignore[assignment]
        return ProxyState(settings, bus, upstreams, Router(settings)), events

    return make


def arrival(**headers: str) -> Arrival:
    return Arrival(headers=headers, path="/v1/messages", client="test", body_bytes=100)


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


async def test_a_plain_turn_is_relayed_from_the_actor_with_its_route_and_cost(
        proxy: Any) -> None:
    """The actor answers; the client gets its body with the route and the cost; the turn
    is reported once the answer is sent."""
    state, events = proxy({"a": (message_reply("hello", 1000, 500),)})
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(), arrival(), client)
    assert client.steps() == ["relay", "header", "send"]
    _, route, status, raw = client.sent[0]
    assert status == 200 and b"hello" in raw
    assert route.startswith("mode=single; tier=-; served_by=a")
    assert client.sent[1] == ("header", "x-fusion-cost", "0.002000")
    assert kinds(events)[0] == "request_received"
    finished = events[-1]
    assert finished.kind == "response_finished"
    assert (finished.status, finished.upstream_id, finished.input_tokens) == (200, "a", 1000)


async def test_an_overloaded_actor_fails_over_and_the_session_is_repinned(proxy: Any) -> None:
    """The first actor is overloaded; the second serves; the route says failover and the
    tool session is pinned to whoever answered."""
    overloaded = UpstreamError("a: busy", status=529)
    assert overloaded.kind == ErrorKind.OVERLOADED
    state, events = proxy({"a": (overloaded,), "b": (message_reply(),)})
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True), arrival(), client)
    route = client.sent[0][1]
    assert "served_by=b" in route and route.endswith("reason=failover:a")
    failed = [e for e in events if e.kind == "upstream_failed"]
    assert [(e.upstream_id, e.status) for e in failed] == [("a", 529)]
    pinned = [e for e in events if e.kind == "session_pinned"]
    assert [e.upstream_id for e in pinned] == ["b"]


async def test_when_every_upstream_times_out_the_client_gets_a_504_naming_them(
        proxy: Any) -> None:
    """A timeout is recognised by its kind, not its words."""
    timeout = UpstreamError("no answer", kind=ErrorKind.TIMEOUT)
    refused = UpstreamError("connection refused")
    state, events = proxy({"a": (refused,), "b": (timeout,)})
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(), arrival(), client)
    assert client.steps() == ["fail", "send"]
    _, status, message, route = client.sent[0]
    assert status == 504
    assert message.startswith("every upstream failed (tried a, b)")
    assert "served_by=b" in route
    assert events[-1].kind == "response_finished" and events[-1].status == 504


async def test_a_bad_override_is_refused_before_any_upstream_is_called(proxy: Any) -> None:
    state, events = proxy({"a": (), "b": ()})
    client = ScriptedClient()
    await serve_turn(state, OPENAI, {**anthropic_body(), "fusion_tier": "huge"}, arrival(),
                     client)
    assert client.steps() == ["fail"]
    assert client.sent[0][1] == 400 and "x-fusion-tier" in client.sent[0][2]
    assert "route_chosen" not in kinds(events)
    assert events[-1].kind == "response_finished" and events[-1].status == 400


async def test_a_council_sits_inside_an_opened_stream_then_the_briefed_actor_answers(
        proxy: Any) -> None:
    """A streaming tool turn: the stream opens before any advisor speaks, the council
    deliberates, the judge briefs, the route is written into the stream as a comment, and
    the actor (sent the briefing) is relayed into that stream."""

    async def actor_stream() -> Any:
        yield b'event: message_stop\ndata: {"type":"message_stop"}\n\n'

    state, events = proxy(
        {"actor": (UpstreamReply(200, {"content-type": "text/event-stream"},
                                 stream=actor_stream()),)},
        ids=["actor", "adv1", "adv2", "judge"],
        pools={"actor": ["actor"], "council": ["adv1", "adv2"], "judge": ["judge"]},
        council={"trigger": "always", "ping_interval_s": 60})
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(stream=True, tools=True), arrival(),
                     client)
    assert client.steps() == ["open", "write", "relay", "send"]
    opened_route, opening = client.sent[0][1], client.sent[0][2]
    assert "council=adv1+adv2" in opened_route and b"message_start" in opening
    comment = client.sent[1][1]
    assert comment.startswith(b": x-fusion-route: ") and b"served_by=actor" in comment
    sent_to_actor = state.upstreams["actor"].bodies[0]  # type: ignore[attr-defined]
    assert len(sent_to_actor["messages"][-1]["content"]) == 2  # the briefing was added
    order = [k for k in kinds(events) if k in ("council_convened", "briefing_ready",
                                               "actor_started", "response_finished")]
    assert order == ["council_convened", "briefing_ready", "actor_started",
                     "response_finished"]
