"""Watching and steering a proxy over HTTP: the control token, the event stream (replay,
resume, gaps, restarts), each steering act's effect on the next real request (tier, actor,
council composition, held briefings, drops), the session glance and the status line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from fusion_tui import cli_remote
from fusion_tui.config import Settings
from fusion_tui.events import Event, RequestReceived, ResponseFinished, SteeringApplied
from fusion_tui.events.council import CouncilConvened
from fusion_tui.runtime import Runtime
from fusion_tui.server import events_stream
from fusion_tui.server.events_stream import EventLog
from tests.support.steering import READ, field_of, reasons, sim

ASK = {"model": "m", "max_tokens": 50,
       "messages": [{"role": "user", "content": "read notes.md and plan the refactor"}]}
SESSION = "http-steer"


class Proxy:
    """A running proxy, its token and what it published."""

    def __init__(self, runtime: Runtime, http: aiohttp.ClientSession) -> None:
        self.runtime = runtime
        self.http = http
        self.url = runtime.address
        self.token = runtime.state.control_token
        self.events: list[Event] = []
        runtime.bus.listen(self.events.append)

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    async def send(self, tools: bool = False, session: str = SESSION,
                   headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
        body: dict[str, Any] = dict(ASK)
        if tools:
            body["tools"] = [READ]
        async with self.http.post(self.url + "/v1/messages", json=body,
                                  headers={"x-fusion-session": session, **(headers or {})}
                                  ) as resp:
            return (resp.status, resp.headers.get("x-fusion-route", ""),
                    await resp.json(content_type=None))

    async def steer(self, act: str, **args: Any) -> tuple[int, Any]:
        async with self.http.post(self.url + "/fusion/steer", json={"act": act, **args},
                                  headers=self.auth) as resp:
            return resp.status, await resp.json(content_type=None)

    def councils(self, session: str = SESSION) -> list[CouncilConvened]:
        return [e for e in self.events if isinstance(e, CouncilConvened)
                and e.session_id == session]


SETTINGS = dict(
    upstreams=[sim("actor"), sim("alt"), sim("spare"), sim("adv1"), sim("adv2"),
               sim("judge"), sim("judge2")],
    pools={"actor": ["actor", "alt"], "council": ["adv1", "adv2"], "judge": ["judge"]},
    council={"deadline_s": 5, "hold_timeout_s": 30})


@pytest.fixture
async def proxy(make_settings: Callable[..., Settings]) -> AsyncIterator[Proxy]:
    runtime = Runtime(make_settings(**SETTINGS))
    await runtime.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
            yield Proxy(runtime, http)
    finally:
        await runtime.stop()


async def read_sse(resp: aiohttp.ClientResponse, until: Callable[[list[dict[str, Any]]], bool],
                   limit_s: float = 10) -> list[dict[str, Any]]:
    """Frames ({id, event, data}) until `until(frames)` holds."""
    frames: list[dict[str, Any]] = []
    buffer = b""

    async def read() -> None:
        nonlocal buffer
        async for chunk in resp.content.iter_any():
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                frame: dict[str, Any] = {}
                for line in block.decode().split("\n"):
                    key, _, value = line.partition(": ")
                    if key in ("id", "event", "data"):
                        frame[key] = json.loads(value) if key == "data" else value
                if frame:
                    frames.append(frame)
            if until(frames):
                return

    await asyncio.wait_for(read(), limit_s)
    return frames


# --- the control token ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/fusion/events", "/fusion/steering", "/fusion/sessions/x"])
async def test_watching_needs_the_control_token(proxy: Proxy, path: str) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"x-api-key": "wrong"}):
        async with proxy.http.get(proxy.url + path, headers=headers) as resp:
            assert resp.status == 401
            body = await resp.json()
            assert body["error"]["type"] == "authentication_error"
            assert proxy.token not in json.dumps(body)
    async with proxy.http.post(proxy.url + "/fusion/steer", json={"act": "set_hold",
                                                                   "mode": "always"}) as resp:
        assert resp.status == 401
    assert proxy.runtime.state.controls.hold_mode == "off"


async def test_the_token_file_is_private_and_reused(tmp_path, make_settings) -> None:
    token_file = tmp_path / "state" / "fusion-tui" / "control.token"
    first = Runtime(make_settings(**SETTINGS), token_file=token_file)
    await first.start()
    await first.stop()
    assert token_file.stat().st_mode & 0o777 == 0o600
    second = Runtime(make_settings(**SETTINGS), token_file=token_file)
    await second.start()
    await second.stop()
    assert first.state.control_token == second.state.control_token \
        == token_file.read_text().strip()


async def test_a_client_key_does_not_open_steering(make_settings, monkeypatch) -> None:
    monkeypatch.setenv("PROXY_KEY", "client-secret")
    runtime = Runtime(make_settings(**SETTINGS, server={"host": "127.0.0.1", "port": 0,
                                                         "auth_key_env": "PROXY_KEY"}))
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(runtime.address + "/fusion/steering",
                                headers={"x-api-key": "client-secret"}) as resp:
                assert resp.status == 401
            async with http.get(runtime.address + "/fusion/steering", headers={
                    "x-fusion-token": runtime.state.control_token}) as resp:
                assert resp.status == 200
            async with http.post(runtime.address + "/v1/messages", json=ASK, headers={
                    "x-fusion-token": runtime.state.control_token}) as resp:
                assert resp.status == 401  # the token is not a client key either
    finally:
        await runtime.stop()


# --- the event stream ---------------------------------------------------------------------------

async def test_stream_replays_then_follows_live_and_resumes_after_a_sequence(
        proxy: Proxy) -> None:
    status, _, _ = await proxy.send()
    assert status == 200
    async with proxy.http.get(proxy.url + "/fusion/events", headers=proxy.auth) as resp:
        assert resp.headers["content-type"] == "text/event-stream"
        frames = await read_sse(resp, lambda f: any(
            x.get("event") == "response_finished" for x in f))
        assert frames[0]["event"] == "hello" and frames[0]["data"]["boot"]
        first = [f for f in frames if "id" in f]
        assert [f["event"] for f in first][:1] == ["request_received"]
        # ids are stream positions: 1, 2, 3, ... in the order the bus published the events
        assert [int(f["id"]) for f in first] == list(range(1, len(first) + 1))
        assert [f["data"]["seq"] for f in first] == [e.seq for e in proxy.events[:len(first)]]
        assert first[0]["data"]["body"] is None  # bodies stay in the proxy
        last_seq = int(first[-1]["id"])
        live = asyncio.ensure_future(read_sse(resp, lambda f: any(
            x.get("event") == "response_finished" for x in f)))
        await asyncio.sleep(0.05)
        await proxy.send(session="other")
        later = await live
        assert [int(f["id"]) for f in later if "id" in f][:1] == [last_seq + 1]
        assert {f["data"]["session_id"] for f in later if "id" in f} == {"other"}
    # resume: Last-Event-ID, and the same by query
    for how in ({"headers": {**proxy.auth, "Last-Event-ID": str(last_seq)}},
                {"headers": proxy.auth, "params": {"after": str(last_seq)}}):
        async with proxy.http.get(proxy.url + "/fusion/events", **how) as resp:
            frames = await read_sse(resp, lambda f: any(
                x.get("event") == "response_finished" for x in f))
            ids = [int(f["id"]) for f in frames if "id" in f]
            assert ids == list(range(last_seq + 1, last_seq + 1 + len(ids)))
            assert not any(f.get("event") == "gap" for f in frames)


async def test_a_resume_older_than_the_buffer_says_what_was_missed(
        make_settings, monkeypatch) -> None:
    monkeypatch.setattr(events_stream, "REPLAY_EVENTS", 5)
    runtime = Runtime(make_settings(**SETTINGS))
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            proxy = Proxy(runtime, http)
            for n in range(4):  # each request publishes several events: > 2 x 5
                await proxy.send(session=f"s{n}")
            log = runtime._runner.app[events_stream.EVENT_LOG]  # type: ignore[union-attr]
            assert log.evicted_upto > 1
            async with http.get(runtime.address + "/fusion/events", headers=proxy.auth,
                                params={"after": "1"}) as resp:
                frames = await read_sse(resp, lambda f: any("id" in x for x in f))
            gap = next(f for f in frames if f.get("event") == "gap")
            assert gap["data"]["reason"] == "older than the replay buffer"
            assert gap["data"]["missed_upto"] == log.evicted_upto
            assert min(int(f["id"]) for f in frames if "id" in f) > log.evicted_upto
    finally:
        await runtime.stop()


async def test_a_resume_from_another_boot_is_a_restart(proxy: Proxy) -> None:
    await proxy.send()
    async with proxy.http.get(proxy.url + "/fusion/events", headers=proxy.auth,
                              params={"after": "5", "boot": "an-older-proxy"}) as resp:
        frames = await read_sse(resp, lambda f: any("id" in x for x in f))
    assert frames[1]["event"] == "gap"
    assert frames[1]["data"]["reason"] == "the proxy restarted"
    assert min(int(f["id"]) for f in frames if "id" in f) == 1


async def test_bad_resume_points_are_400(proxy: Proxy) -> None:
    for after in ("x", "-1"):
        async with proxy.http.get(proxy.url + "/fusion/events", headers=proxy.auth,
                                  params={"after": after}) as resp:
            assert resp.status == 400
            assert "sequence number" in (await resp.json())["error"]["message"] or \
                "negative" in (await resp.json())["error"]["message"]


def test_event_log_keeps_a_bounded_buffer() -> None:
    log = EventLog(capacity=10)
    events = [SteeringApplied(action="hold") for _ in range(35)]
    for event in events:
        log(event)
    assert 10 <= len(log.after(0)) <= 20
    assert log.evicted_upto == log.oldest - 1
    assert log.latest == 35
    assert log.after(33) == [(34, events[-2]), (35, events[-1])]


# --- steering acts and their effect on the next request -------------------------------------

async def test_force_tier_over_http_routes_the_next_request(proxy: Proxy) -> None:
    await proxy.send()
    status, body = await proxy.steer("force_tier", session=SESSION, tier="plan")
    assert (status, body) == (200, {"ok": True, "act": "force_tier"})
    _, route, _ = await proxy.send()
    assert field_of(route, "tier") == "plan"
    assert "override:attach" in reasons(route)
    _, route, _ = await proxy.send()
    assert field_of(route, "tier") == "-"


async def test_swap_actor_and_refusals(proxy: Proxy) -> None:
    status, body = await proxy.steer("swap_actor", session=SESSION, upstream="spare")
    assert status == 200
    _, route, _ = await proxy.send(tools=True)
    assert field_of(route, "served_by") == "spare"
    status, body = await proxy.steer("swap_actor", session=SESSION, upstream="nobody")
    assert status == 409 and "no upstream 'nobody'" in body["error"]["message"]
    status, body = await proxy.steer("teleport")
    assert status == 400 and "act must be one of" in body["error"]["message"]
    status, body = await proxy.steer("force_tier", session=SESSION)
    assert status == 400 and "tier is required" in body["error"]["message"]
    status, body = await proxy.steer("set_council", enabled="yes")
    assert status == 400
    async with proxy.http.post(proxy.url + "/fusion/steer", data=b"[1]",
                               headers=proxy.auth) as resp:
        assert resp.status == 400


async def test_composing_the_council_changes_the_next_council(proxy: Proxy) -> None:
    _, route, _ = await proxy.send(tools=True, headers={"x-fusion-tier": "plan"})
    assert proxy.councils()[-1].advisors == ["adv1", "adv2"]
    assert proxy.councils()[-1].judge == "judge"
    assert (await proxy.steer("add_advisor", advisor="spare", session=SESSION))[0] == 200
    assert (await proxy.steer("replace_advisor", advisor="adv1", by="alt",
                              session=SESSION))[0] == 200
    assert (await proxy.steer("set_judge", judge="judge2", session=SESSION))[0] == 200
    assert (await proxy.steer("set_perspective", advisor="adv2",
                              perspective="adversarial: what breaks?",
                              session=SESSION))[0] == 200
    status, route, _ = await proxy.send(tools=True, headers={"x-fusion-tier": "plan"})
    assert status == 200
    council = proxy.councils()[-1]
    assert council.advisors == ["alt", "adv2", "spare"]
    assert council.judge == "judge2"
    assert council.perspectives == {"adv2": "adversarial: what breaks?"}
    assert field_of(route, "council") == "alt+adv2+spare"
    assert "council_steered:added+replaced+judge+perspective" in reasons(route)
    assert "override:attach" in reasons(route)
    # another session is untouched
    await proxy.send(tools=True, session="bystander", headers={"x-fusion-tier": "plan"})
    assert proxy.councils("bystander")[-1].advisors == ["adv1", "adv2"]
    # everywhere: the bystander's next council has the added advisor
    assert (await proxy.steer("add_advisor", advisor="spare"))[0] == 200
    await proxy.send(tools=True, session="bystander", headers={"x-fusion-tier": "plan"})
    assert proxy.councils("bystander")[-1].advisors == ["adv1", "adv2", "spare"]
    # undo the session's addition and replacement
    assert (await proxy.steer("remove_advisor", advisor="alt", session=SESSION))[0] == 200
    assert (await proxy.steer("set_judge", judge=None, session=SESSION))[0] == 200
    await proxy.send(tools=True, headers={"x-fusion-tier": "plan"})
    assert proxy.councils()[-1].advisors == ["adv1", "adv2", "spare"]
    assert proxy.councils()[-1].judge == "judge"
    acts = [e.action for e in proxy.events if isinstance(e, SteeringApplied)]
    assert acts[:4] == ["add_advisor", "replace_advisor", "set_judge", "set_perspective"]


async def test_a_held_briefing_is_decided_over_http_while_a_stream_watches(
        proxy: Proxy) -> None:
    assert (await proxy.steer("set_hold", mode="always"))[0] == 200
    async with proxy.http.get(proxy.url + "/fusion/events", headers=proxy.auth) as stream:
        await read_sse(stream, lambda f: bool(f))
        assert proxy.runtime.state.hold_desk.attached  # a person watches: holds wait
        task = asyncio.ensure_future(proxy.send(tools=True, headers={"x-fusion-tier": "plan"}))
        frames = await read_sse(stream, lambda f: any(
            x.get("event") == "briefing_held" for x in f))
        held = next(f for f in frames if f.get("event") == "briefing_held")["data"]
        async with proxy.http.get(proxy.url + f"/fusion/sessions/{SESSION}",
                                  headers=proxy.auth) as resp:
            glance = await resp.json()
        assert glance["held"] == held["request_id"]
        assert cli_remote.status_text(glance).endswith("BRIEFING HELD (decide in the dashboard)")
        status, _ = await proxy.steer("decide_briefing", request=held["request_id"],
                                      decision="approve")
        assert status == 200
        status, route, _ = await asyncio.wait_for(task, 10)
    assert status == 200 and "briefing:approved_attach" in reasons(route)
    for _ in range(500):  # the server sees the hang-up on its next write
        if not proxy.runtime.state.hold_desk.attached:
            break
        await asyncio.sleep(0.02)
    assert not proxy.runtime.state.hold_desk.attached  # nobody watches any more
    status, body = await proxy.steer("decide_briefing", request=held["request_id"],
                                     decision="approve")
    assert status == 409 and "no briefing is held" in body["error"]["message"]


# --- the drop that sticks --------------------------------------------------------------------

async def _drop_first_request(proxy: Proxy) -> None:
    for _ in range(500):
        if proxy.runtime.state.controls.inflight:
            break
        await asyncio.sleep(0.01)
    rid = next(iter(proxy.runtime.state.controls.inflight))
    status, _ = await proxy.steer("drop", request=rid)
    assert status == 200


@pytest.mark.parametrize("stream", [False, True])
async def test_a_dropped_request_is_not_retried_by_the_anthropic_sdk(
        make_settings, stream: bool) -> None:
    runtime = Runtime(make_settings(upstreams=[sim("slow", first_token_ms=5000)]))
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            proxy = Proxy(runtime, http)
            client = anthropic.AsyncAnthropic(base_url=runtime.address, api_key="test",
                                              max_retries=3)

            async def ask() -> None:
                if stream:
                    async with client.messages.stream(**ASK) as events:
                        async for _ in events:
                            pass
                else:
                    await client.messages.create(**ASK)

            task = asyncio.ensure_future(ask())
            await _drop_first_request(proxy)
            with pytest.raises((anthropic.BadRequestError, anthropic.APIStatusError)) as info:
                await asyncio.wait_for(task, 10)
            assert "dropped by a person in the fusion-tui dashboard" in str(info.value)
            if not stream:
                assert isinstance(info.value, anthropic.BadRequestError)
            await asyncio.sleep(0.3)  # a retry would have arrived by now
            received = [e for e in proxy.events if isinstance(e, RequestReceived)]
            assert len(received) == 1
            await client.close()
    finally:
        await runtime.stop()


async def test_a_dropped_request_is_not_retried_by_the_openai_sdk(make_settings) -> None:
    runtime = Runtime(make_settings(upstreams=[sim("slow", first_token_ms=5000)]))
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            proxy = Proxy(runtime, http)
            client = openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="test",
                                        max_retries=3)
            task = asyncio.ensure_future(client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]))
            await _drop_first_request(proxy)
            with pytest.raises(openai.BadRequestError) as info:
                await asyncio.wait_for(task, 10)
            assert "dropped by a person" in str(info.value)
            await asyncio.sleep(0.3)
            assert len([e for e in proxy.events if isinstance(e, RequestReceived)]) == 1
            finished = [e for e in proxy.events if isinstance(e, ResponseFinished)]
            assert finished[-1].status == 400
            assert finished[-1].route.endswith("override:attach,dropped")
            await client.close()
    finally:
        await runtime.stop()


# --- the session glance and the status line -----------------------------------------------------

async def test_the_status_line_for_a_session(proxy: Proxy) -> None:
    await proxy.send(tools=True, headers={"x-fusion-tier": "plan"})
    stdin = json.dumps({"session_id": SESSION, "model": {"display_name": "Opus"}})
    line = await asyncio.to_thread(cli_remote.statusline, stdin, proxy.url, proxy.token)
    assert line.startswith("fusion plan · actor actor · council sat · $")
    assert "HELD" not in line
    await proxy.send(session=SESSION)  # a turn without tools: no council
    line = await asyncio.to_thread(cli_remote.statusline, stdin, proxy.url, proxy.token)
    assert "council sat" not in line
    await proxy.steer("set_council", enabled=False, session=SESSION)
    line = await asyncio.to_thread(cli_remote.statusline, stdin, proxy.url, proxy.token)
    assert "council off" in line
    unknown = json.dumps({"session_id": "never-seen"})
    assert await asyncio.to_thread(cli_remote.statusline, unknown, proxy.url, proxy.token) \
        == "fusion: no request from this session yet"
    assert await asyncio.to_thread(cli_remote.statusline, stdin, proxy.url, "wrong") \
        == "fusion: the proxy refused the control token"


def test_the_status_line_without_a_proxy_or_a_session() -> None:
    down = cli_remote.statusline('{"session_id": "s"}', "http://127.0.0.1:9", "t", 0.5)
    assert down == "fusion: proxy down (http://127.0.0.1:9)"
    assert cli_remote.statusline("not json", "http://127.0.0.1:9", "t") \
        == "fusion: no session_id on stdin"
    assert cli_remote.statusline("", "http://127.0.0.1:9", "t") \
        == "fusion: no session_id on stdin"
    assert cli_remote.statusline('{"session_id": "s"}', "http://127.0.0.1:9", None) \
        == "fusion: no control token (is the proxy running?)"


async def test_fusion_tui_steer_applies_an_act(proxy: Proxy, monkeypatch, capsys) -> None:
    from fusion_tui import cli

    monkeypatch.setenv("FUSION_CONTROL_TOKEN", proxy.token)
    await proxy.send()
    code = await asyncio.to_thread(cli.main, ["steer", "--url", proxy.url, "--session",
                                              SESSION, "--from-claude", "force_tier",
                                              "tier=regular"])
    assert code == 0
    _, route, _ = await proxy.send()
    assert field_of(route, "tier") == "regular" and "override:claude" in reasons(route)
    code = await asyncio.to_thread(cli.main, ["steer", "--url", proxy.url, "swap_actor",
                                              f"session={SESSION}", "upstream=ghost"])
    assert code == cli_remote.EXIT_REFUSED
    assert "refused: swap_actor refused: no upstream 'ghost'" in capsys.readouterr().err


async def test_a_dropped_conversation_stays_dropped_when_it_comes_back(make_settings) -> None:
    """Claude Code answers a failed stream by sending the same conversation again without
    streaming: that retry is refused as the original was; the next conversation is served."""
    runtime = Runtime(make_settings(upstreams=[sim("slow", first_token_ms=1000)]))
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            proxy = Proxy(runtime, http)
            body = {**ASK, "stream": True}
            task = asyncio.ensure_future(http.post(
                runtime.address + "/v1/messages", json=body,
                headers={"x-fusion-session": SESSION}))
            await _drop_first_request(proxy)
            (await task).close()
            again = {**ASK, "stream": False, "max_tokens": 20}
            async with http.post(runtime.address + "/v1/messages", json=again,
                                 headers={"x-fusion-session": SESSION}) as resp:
                assert resp.status == 400
                assert "dropped by a person" in (await resp.json())["error"]["message"]
                assert resp.headers["x-fusion-route"].endswith("override:attach,dropped")
            retry = [e for e in proxy.events if isinstance(e, RequestReceived)][-1]
            assert not [e for e in proxy.events if e.kind == "route_chosen"
                        and e.request_id == retry.request_id]  # no upstream was asked
            moved_on = {**ASK, "messages": [{"role": "user", "content": "something else"}]}
            async with http.post(runtime.address + "/v1/messages", json=moved_on,
                                 headers={"x-fusion-session": SESSION}) as resp:
                assert resp.status == 200
            async with http.post(runtime.address + "/v1/messages", json=again,
                                 headers={"x-fusion-session": SESSION}) as resp:
                assert resp.status == 200  # the drop was forgotten once the client moved on
    finally:
        await runtime.stop()


async def test_several_dashboards_watch_one_proxy(proxy: Proxy) -> None:
    async with proxy.http.get(proxy.url + "/fusion/events", headers=proxy.auth) as one:
        await read_sse(one, bool)
        async with proxy.http.get(proxy.url + "/fusion/events", headers=proxy.auth) as two:
            await read_sse(two, bool)
            sent = asyncio.ensure_future(proxy.send(session="both"))
            done = [x for x in await asyncio.gather(*(read_sse(r, lambda f: any(
                x.get("event") == "response_finished" for x in f)) for r in (one, two)))]
            await sent
            ids = [[f["id"] for f in frames if "id" in f] for frames in done]
            assert ids[0] == ids[1] and ids[0]
        # the second one closed: the first still follows, and the proxy still watches
        assert proxy.runtime.state.hold_desk.attached
        sent = asyncio.ensure_future(proxy.send(session="after"))
        frames = await read_sse(one, lambda f: any(
            x.get("event") == "response_finished" for x in f))
        await sent
        assert {f["data"]["session_id"] for f in frames if "id" in f} == {"after"}
