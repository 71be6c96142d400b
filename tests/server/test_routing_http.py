"""Routing through the HTTP surface: failover, breakers, pins, the gate, explain, steering."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fusion_tui.events import Event
from fusion_tui.routing.modelstore import TEST_MODEL_FILE
from tests.support.http import call

ASK = {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
READ = {"name": "Read", "input_schema": {"type": "object", "properties": {
    "file_path": {"type": "string"}}, "required": ["file_path"]}}
TOOL_ASK = {**ASK, "tools": [READ], "messages": [{"role": "user", "content": "read a.py"}]}


def sim(uid: str, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "type": "simulated", "model": uid, "first_token_ms": 1,
            "tokens_per_s": 5000, **extra}


def listen(runtime) -> list[Event]:
    seen: list[Event] = []
    runtime.bus.listen(seen.append)
    return seen


async def test_failover_to_the_next_actor_and_the_breaker_opens(make_settings, start_proxy):
    settings = make_settings(upstreams=[sim("bad", fault={"status": 529}), sim("good")],
                             pools={"actor": ["bad", "good"]},
                             routing={"failover": {"breaker_threshold": 2}})
    runtime = await start_proxy(settings)
    seen = listen(runtime)
    first = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                       headers={"x-fusion-session": "s"})
    assert first.status == 200
    assert first.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=good; reason=failover:bad")
    failed = next(e for e in seen if e.kind == "upstream_failed")
    assert (failed.upstream_id, failed.status, failed.will_retry) == (  # type: ignore[attr-defined]
        "bad", 529, True)
    pinned = next(e for e in seen if e.kind == "session_pinned")
    assert pinned.upstream_id == "good"  # type: ignore[attr-defined]
    await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    health = (await call(runtime.address, "GET", "/health")).json()
    assert health["breakers"]["bad"]["state"] == "open"
    assert "breaker_changed" in [e.kind for e in seen]
    bad = runtime.state.upstreams["bad"]
    calls_before = bad.calls  # type: ignore[attr-defined]
    third = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert third.status == 200 and bad.calls == calls_before  # type: ignore[attr-defined]
    assert third.headers["x-fusion-route"] == "mode=single; tier=-; served_by=good"


async def test_pinned_session_re_pins_on_failover_and_says_so(make_settings, start_proxy):
    settings = make_settings(upstreams=[sim("a", fault={"status": 500, "fail_first_n": 0}),
                                        sim("b")], pools={"actor": ["a", "b"]})
    runtime = await start_proxy(settings)
    seen = listen(runtime)
    runtime.state.router.pins.pin("s", "a")
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                       headers={"x-fusion-session": "s"})
    assert "served_by=b" in reply.headers["x-fusion-route"]
    repinned = next(e for e in seen if e.kind == "session_pinned")
    assert (repinned.upstream_id, repinned.previous, repinned.reason) == (  # type: ignore[attr-defined]
        "b", "a", "failover")
    assert runtime.state.router.pins.get("s") == "b"


async def test_every_actor_down_is_a_clean_error_naming_them(make_settings, start_proxy):
    settings = make_settings(upstreams=[sim("a", fault={"status": 503}),
                                        sim("b", fault={"status": 502})],
                             pools={"actor": ["a", "b"]})
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.status == 502
    assert "simulated fault on b" in reply.json()["error"]["message"]
    streamed = await call(runtime.address, "POST", "/v1/messages",
                          json_body={**ASK, "stream": True})
    assert streamed.status == 502 and streamed.json()["type"] == "error"


async def test_stream_cut_after_first_byte_is_an_error_event_not_a_failover(make_settings,
                                                                          start_proxy):
    settings = make_settings(upstreams=[sim("cut", fault={"cut_after_events": 5}), sim("b")],
                             pools={"actor": ["cut", "b"]})
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/messages",
                       json_body={**ASK, "stream": True})
    assert reply.status == 200 and "served_by=cut" in reply.headers["x-fusion-route"]
    assert "event: error" in reply.text and "event: message_stop" not in reply.text


async def test_unknown_route_override_is_a_400(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    bad = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                     headers={"x-fusion-route": "fastest"})
    assert bad.status == 400 and "x-fusion-route" in bad.json()["error"]["message"]
    panel = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                       headers={"x-fusion-route": "all", "x-fusion-panel": "nobody"})
    assert panel.status == 400 and "nobody" in panel.json()["error"]["message"]


async def test_steering_shows_in_the_next_route(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    runtime.state.controls.force_next_tier("s", "compact")
    forced = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                        headers={"x-fusion-session": "s"})
    assert forced.headers["x-fusion-route"] == (
        "mode=single; tier=compact; served_by=sim; reason=override:ui")
    after = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                       headers={"x-fusion-session": "s"})
    assert after.headers["x-fusion-route"] == "mode=single; tier=-; served_by=sim"


async def test_model_that_cannot_load_gives_503_with_the_reason(make_settings, start_proxy,
                                                                tmp_path: Path):
    settings = make_settings(routing={"mode": "smart", "embeddings": {
        "model": str(tmp_path / "no-model-here"), "offline_fallback": False, "wait_s": 5}})
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=ASK)
    assert reply.status == 503
    message = reply.json()["error"]["message"]
    assert "classifier unavailable" in message and "no-model-here" in message
    health = (await call(runtime.address, "GET", "/health")).json()
    assert health["classifier"]["ready"] is False
    assert "failed to load" in health["classifier"]["error"]
    forced = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                        headers={"x-fusion-tier": "regular"})
    assert forced.status == 200  # a forced tier needs no classifier


async def test_smart_routing_with_the_test_model(make_settings, start_proxy,
                                                 test_model_dir: Path):
    settings = make_settings(
        upstreams=[sim("actor"), sim("fast"), sim("mid")],
        pools={"actor": ["actor"], "compact": ["fast"], "regular": ["mid"]},
        routing={"mode": "smart", "embeddings": {"model": str(test_model_dir),
                                                 "file": TEST_MODEL_FILE, "wait_s": 60}})
    runtime = await start_proxy(settings)
    seen = listen(runtime)
    trivial = await call(runtime.address, "POST", "/v1/messages", json_body={
        **ASK, "messages": [{"role": "user", "content": "what does len() return in python"}]})
    route = trivial.headers["x-fusion-route"]
    assert route.startswith("mode=smart; tier=compact; served_by=fast; scores=compact:")
    gate = next(e for e in seen if e.kind == "gate_decided")
    assert gate.tier == "compact" and gate.latency_ms > 0  # type: ignore[attr-defined]
    explained = await call(runtime.address, "POST", "/fusion/route", json_body={
        "model": "gpt", "messages": [{"role": "user", "content": "what does len() return"}]})
    body = explained.json()
    assert body["protocol"] == "openai" and body["tier"] == "compact"
    assert set(body["scores"]) == {"compact", "regular", "plan"}
    assert body["route"].startswith("mode=smart; tier=compact; served_by=fast")
    health = (await call(runtime.address, "GET", "/health")).json()
    assert health["classifier"]["ready"] is True and health["classifier"]["device"] == "cpu"
    bad = await call(runtime.address, "POST", "/fusion/route", data=b"[]")
    assert bad.status == 400


def reasons(route: str) -> list[str]:
    """The reason tokens of an x-fusion-route value."""
    for part in route.split("; "):
        if part.startswith("reason="):
            return part.removeprefix("reason=").split(",")
    return []


async def test_swap_to_an_upstream_outside_the_actor_pool_serves_the_next_tool_turn(
        make_settings, start_proxy):
    settings = make_settings(upstreams=[sim("a"), sim("b"), sim("outside")],
                             pools={"actor": ["a", "b"]})
    runtime = await start_proxy(settings)
    seen = listen(runtime)
    headers = {"x-fusion-session": "s"}
    first = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                       headers=headers)
    assert "served_by=a" in first.headers["x-fusion-route"]
    runtime.state.controls.swap_actor("s", "outside")
    swapped = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                         headers=headers)
    assert swapped.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=outside; reason=override:ui")
    assert runtime.state.router.pins.get("s") == "outside"
    assert [e.reason for e in seen if e.kind == "session_pinned"] == [  # type: ignore[attr-defined]
        "first tool turn"]  # never re-pinned back to the pool
    again = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                       headers=headers)
    assert again.headers["x-fusion-route"] == "mode=single; tier=-; served_by=outside"


async def test_a_swapped_actor_that_fails_over_to_the_pool_says_so(make_settings, start_proxy):
    settings = make_settings(upstreams=[sim("a"), sim("outside", fault={"status": 500})],
                             pools={"actor": ["a"]})
    runtime = await start_proxy(settings)
    seen = listen(runtime)
    runtime.state.controls.swap_actor("s", "outside")
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                       headers={"x-fusion-session": "s"})
    assert reply.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=a; reason=override:ui,failover:outside")
    pinned = next(e for e in seen if e.kind == "session_pinned")
    assert (pinned.upstream_id, pinned.previous, pinned.reason) == (  # type: ignore[attr-defined]
        "a", "outside", "failover")


async def test_pin_and_unpin_steer_the_next_tool_turn(make_settings, start_proxy):
    runtime = await start_proxy(make_settings(upstreams=[sim("a"), sim("b")],
                                              pools={"actor": ["a", "b"]}))
    headers = {"x-fusion-session": "s"}
    runtime.state.controls.pin("s", "b")
    pinned = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                        headers=headers)
    assert pinned.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=b; reason=override:ui")
    runtime.state.controls.unpin("s")
    assert "s" not in runtime.state.router.pins
    unpinned = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_ASK,
                          headers=headers)
    assert unpinned.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=a; reason=override:ui")
    assert runtime.state.router.pins.get("s") == "a"  # pinned afresh by the pool's order


async def test_lock_tier_routes_every_request_until_unlocked(make_settings, start_proxy):
    runtime = await start_proxy(make_settings())
    headers = {"x-fusion-session": "s"}
    runtime.state.controls.lock_tier("s", "regular")
    for _ in range(2):
        locked = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                            headers=headers)
        assert locked.headers["x-fusion-route"] == (
            "mode=single; tier=regular; served_by=sim; reason=override:ui")
    runtime.state.controls.lock_tier("s", None)
    unlocked = await call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                          headers=headers)
    assert unlocked.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=sim; reason=override:ui")
    after = await call(runtime.address, "POST", "/v1/messages", json_body=ASK, headers=headers)
    assert after.headers["x-fusion-route"] == "mode=single; tier=-; served_by=sim"


async def wait_for_route(seen: list[Event]) -> str:
    """The request id of the first request whose route was chosen."""
    for _ in range(250):
        chosen = [e for e in seen if e.kind == "route_chosen"]
        if chosen:
            return chosen[0].request_id
        await asyncio.sleep(0.02)
    raise AssertionError("no route was chosen")


async def test_dropping_a_slow_request_answers_its_client_with_the_reason(make_settings,
                                                                         start_proxy):
    runtime = await start_proxy(make_settings(upstreams=[sim("slow", first_token_ms=5000)]))
    seen = listen(runtime)
    headers = {"x-fusion-session": "s"}
    task = asyncio.create_task(call(runtime.address, "POST", "/v1/messages", json_body=ASK,
                                    headers=headers))
    request_id = await wait_for_route(seen)
    runtime.state.controls.drop(request_id)
    reply = await asyncio.wait_for(task, 5)
    assert reply.status == 400  # not a 5xx: clients would retry it
    assert reply.json()["type"] == "error"
    assert reply.json()["error"]["type"] == "invalid_request_error"
    assert "dropped by a person in the fusion-tui dashboard" in reply.json()["error"]["message"]
    assert reply.headers["x-fusion-route"] == (
        "mode=single; tier=-; served_by=slow; reason=override:ui,dropped")
    finished = next(e for e in seen if e.kind == "response_finished")
    assert finished.route.endswith("reason=override:ui,dropped")  # type: ignore[attr-defined]
    assert runtime.state.controls.inflight == {}
    assert reasons(reply.headers["x-fusion-route"])[-2:] == ["override:ui", "dropped"]


async def test_dropping_a_stream_mid_relay_ends_it_with_an_error_event(make_settings,
                                                                      start_proxy):
    runtime = await start_proxy(make_settings(upstreams=[sim("slow", first_token_ms=5000)]))
    seen = listen(runtime)
    task = asyncio.create_task(call(runtime.address, "POST", "/v1/messages",
                                    json_body={**ASK, "stream": True}))
    request_id = await wait_for_route(seen)
    await asyncio.sleep(0.2)  # the upstream's message_start is relayed by now
    runtime.state.controls.drop(request_id)
    reply = await asyncio.wait_for(task, 5)
    assert reply.status == 200 and reply.text.startswith("event: message_start")
    assert "event: error" in reply.text and "dropped by a person" in reply.text
    assert '"type":"invalid_request_error"' in reply.text
    assert ": x-fusion-route: mode=single; tier=-; served_by=slow; " \
           "reason=override:ui,dropped" in reply.text
    finished = next(e for e in seen if e.kind == "response_finished")
    assert finished.route.endswith("reason=override:ui,dropped")  # type: ignore[attr-defined]
