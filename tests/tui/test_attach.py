"""`fusion-tui attach`: the meeting room in another process than the proxy, fed by its
`/fusion/events` stream and steering it over HTTP. The proxy runs on 127.0.0.1 as `serve`
would (no dashboard of its own); the attached app talks to it only through HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from textual.pilot import Pilot

from fusion_tui.config import Settings
from fusion_tui.core.controls import SteeringError
from fusion_tui.events import Event, EventBus
from fusion_tui.events.council import CouncilConvened
from fusion_tui.remote.events import LinkState
from fusion_tui.runtime import Runtime
from fusion_tui.tui.attach import AttachedApp, connect
from fusion_tui.tui.room import RoomModel
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from tests.support.steering import PLAN, READ, field_of, reasons, sim
from tests.tui.conftest import WAIT_S, DashboardDriver, wait_until

SIZE = (140, 40)
SESSION = "attach-main"
@dataclass
class Attached(DashboardDriver):
    """A headless proxy, and a dashboard attached to it over HTTP."""

    app: AttachedApp
    pilot: Pilot[Any]
    runtime: Runtime
    http: aiohttp.ClientSession
    events: list[Event] = field(default_factory=list)

    async def send(self, tools: bool = False, session: str = SESSION,
                   headers: dict[str, str] | None = None) -> tuple[int, str]:
        body: dict[str, Any] = {"model": "m", "max_tokens": 100, "messages": [
            {"role": "user", "content": "read notes.md and plan the refactor"}]}
        if tools:
            body["tools"] = [READ]
        async with self.http.post(self.runtime.address + "/v1/messages", json=body,
                                  headers={"x-fusion-session": session, **(headers or {})}
                                  ) as resp:
            await resp.read()
            return resp.status, resp.headers.get("x-fusion-route", "")

    def later(self, **kwargs: Any) -> asyncio.Task[tuple[int, str]]:
        return asyncio.ensure_future(self.send(**kwargs))


def settings_for(make_settings: Callable[..., Settings], port: int = 0) -> Settings:
    return make_settings(
        server={"host": "127.0.0.1", "port": port},
        upstreams=[sim("actor"), sim("alt"), sim("spare"), sim("adv1"), sim("adv2"),
                   sim("judge")],
        pools={"actor": ["actor", "alt"], "council": ["adv1", "adv2"], "judge": ["judge"]},
        council={"deadline_s": 5, "hold_timeout_s": 30})


@pytest.fixture
async def attached(make_settings: Callable[..., Settings],
                   tmp_path: Path) -> AsyncIterator[Attached]:
    runtime = Runtime(settings_for(make_settings))
    await runtime.start()
    link, controls, info = await connect(runtime.address, runtime.state.control_token)
    bus = EventBus()
    bus.listen(controls.observe)
    app = AttachedApp(link, bus, controls, info, state_path=tmp_path / "ui.json")
    try:
        async with app.run_test(size=SIZE) as pilot, aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=WAIT_S)) as http:
            driver = Attached(app, pilot, runtime, http)
            runtime.bus.listen(driver.events.append)
            await wait_until(pilot, lambda: app.stream.status.state is LinkState.LIVE)
            status, _ = await driver.send()
            assert status == 200
            await wait_until(pilot, lambda: driver.screen.selected == SESSION
                             and driver.screen.settled)
            yield driver
    finally:
        await link.close()
        await runtime.stop()


def room_of(events: list[Event]) -> RoomModel:
    model = RoomModel()
    model.apply(events)
    return model


def turns(model: RoomModel) -> dict[str, list[dict[str, Any]]]:
    """What the room shows per session (held_at is the screen's own clock)."""
    return {sid: [{**dataclasses.asdict(t), "held_at": None} for t in view.history.values()]
            for sid, view in model.sessions.items()}


async def test_attach_shows_what_the_proxy_published(attached: Attached) -> None:
    # one reader of the local bus: a second bridge posted batches out of order, and a
    # briefing delta landed after its BriefingReady
    assert [w.name for w in attached.app.workers].count("event-bridge") == 1
    status, _ = await attached.send(tools=True, headers=PLAN)
    assert status == 200
    await wait_until(attached.pilot, lambda: attached.screen.settled and any(
        t.council and t.finished for t in attached.screen.model.sessions[SESSION]
        .history.values()))
    # the room as `run` would fold it from the proxy's own bus, and as attach folded it
    # from the stream: the same sessions, councils, advisors' texts, briefings and actors
    assert turns(attached.screen.model) == turns(room_of(attached.events))
    turn = attached.screen.current_turn()
    assert turn is not None and turn.council and turn.briefing
    assert set(turn.advisors) == {"adv1", "adv2"}
    feed = attached.screen.query_one(RequestFeed)
    rids = {e.request_id for e in attached.events if e.request_id}
    await wait_until(attached.pilot, lambda: rids <= set(feed.rows_model))
    assert attached.screen.query_one(StatusBar).address == \
        f"attached to {attached.runtime.address}"
    assert attached.app.stream.duplicates == 0


async def test_steering_keys_change_the_next_request_over_http(attached: Attached) -> None:
    await attached.press("3")
    await wait_until(attached.pilot, lambda: any(
        "force_tier" in r.steering for r in attached.screen.query_one(RequestFeed)
        .rows_model.values()))
    status, route = await attached.send()
    assert status == 200
    assert field_of(route, "tier") == "plan" and "override:attach" in reasons(route)
    await attached.press("c")  # council off for the session, over HTTP
    await wait_until(attached.pilot, lambda: attached.app.remote_controls.sessions.get(
        SESSION) is not None and attached.app.remote_controls.sessions[SESSION].council is False)
    status, route = await attached.send(tools=True, headers=PLAN)
    assert "council_off" in reasons(route)
    assert not [e for e in attached.events if isinstance(e, CouncilConvened)]


async def test_a_held_briefing_is_approved_from_the_attached_dashboard(
        attached: Attached) -> None:
    await attached.press("h")  # off -> plan
    await wait_until(attached.pilot, lambda: attached.runtime.state.controls.hold_mode == "plan")
    assert attached.runtime.state.hold_desk.attached  # the stream counts as a person
    task = attached.later(tools=True, headers=PLAN)
    await wait_until(attached.pilot, lambda: attached.screen.held_request() is not None
                     and bool(attached.app.remote_controls.hold_desk.pending))
    await attached.press("enter")
    status, route = await asyncio.wait_for(task, WAIT_S)
    assert status == 200 and "briefing:approved_attach" in reasons(route)


async def test_a_refused_act_is_said_with_the_proxys_reason(attached: Attached) -> None:
    with pytest.raises(SteeringError, match="not in flight"):
        await attached.app.remote_controls.drop("req_nothing")
    controls = attached.app.remote_controls
    assert attached.screen._steer(lambda: controls.drop("req_gone"), "dropped")
    await wait_until(attached.pilot, lambda: any(
        "req_gone is not in flight" in str(n.message) for n in attached.app._notifications))


async def test_quitting_leaves_the_proxy_running(attached: Attached) -> None:
    await attached.press("q")
    await wait_until(attached.pilot, lambda: not attached.app.is_running)
    status, _ = await attached.send()
    assert status == 200


async def test_a_proxy_restart_is_survived_with_a_visible_reconnect(
        attached: Attached, make_settings: Callable[..., Settings]) -> None:
    port = int(attached.runtime.address.rsplit(":", 1)[1])
    token = attached.runtime.state.control_token
    await asyncio.wait_for(attached.runtime.stop(), WAIT_S)  # an open stream does not delay it
    bar = attached.screen.query_one(StatusBar)
    await wait_until(attached.pilot, lambda: bar.address.startswith("reconnecting to"))
    restarted = Runtime(settings_for(make_settings, port))
    restarted.state.control_token = token  # the token file keeps it across restarts
    await restarted.start()
    attached.runtime = restarted
    try:
        await wait_until(attached.pilot, lambda: bar.address.startswith("attached to"))
        assert attached.app.stream.connects == 2
        status, _ = await attached.send(session="after-restart")
        assert status == 200
        await wait_until(attached.pilot,
                         lambda: "after-restart" in attached.screen.model.sessions)
    finally:
        await restarted.stop()


async def test_composing_the_council_from_the_attached_dashboard(attached: Attached) -> None:
    """V: replace adv1 with spare in this session, then give adv2 a perspective everywhere;
    the next council sits as composed and its route says so."""
    await attached.press("V")
    await attached.press("down", "enter")  # add, [replace], ...
    await attached.press("enter")  # [in this session], everywhere
    await attached.press("enter")  # [adv1], adv2
    options = [oid for oid, _ in attached.app.screen.options]  # type: ignore[attr-defined]
    await attached.press(*["down"] * options.index("spare"), "enter")
    await wait_until(attached.pilot, lambda: any(
        e.action == "replace_advisor" for e in attached.events
        if e.kind == "steering_applied"))
    await attached.press("V", *["down"] * 3, "enter")  # perspective
    await attached.press("down", "enter")  # everywhere
    await attached.press("down", "enter")  # adv2
    await attached.press("enter")  # the first perspective
    await wait_until(attached.pilot, lambda: any(
        e.action == "set_perspective" for e in attached.events
        if e.kind == "steering_applied"))
    status, route = await attached.send(tools=True, headers=PLAN)
    assert status == 200
    council = [e for e in attached.events if isinstance(e, CouncilConvened)][-1]
    assert council.advisors == ["spare", "adv2"]
    assert council.perspectives == {"adv2": "adversarial reviewer: find what will break"}
    assert "council_steered:replaced+perspective" in reasons(route)
    status, route = await attached.send(tools=True, session="other", headers=PLAN)
    council = [e for e in attached.events if isinstance(e, CouncilConvened)][-1]
    assert council.advisors == ["adv1", "adv2"]  # the replacement was this session's only
    assert "council_steered:perspective" in reasons(route)
