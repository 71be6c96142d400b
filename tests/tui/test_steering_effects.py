"""Every steering key pressed in the live dashboard against a real proxy, and its effect on
the next real HTTP request: the route it takes, who serves it, who sits on its council, what
the actor is sent. The proxy runs on 127.0.0.1 on the dashboard's own loop (as `fusion-tui
run` does), with simulated advisors and judge and a recording Anthropic-protocol actor."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from fusion_tui.config import Settings
from fusion_tui.events import BriefingHeld, CouncilConvened, Event, ResponseFinished
from fusion_tui.runtime import Runtime
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.screens.confirm import ConfirmScreen
from fusion_tui.tui.screens.edit_briefing import EditBriefingScreen
from fusion_tui.tui.screens.picker import PickerScreen
from fusion_tui.tui.status import StatusInfo
from fusion_tui.tui.widgets import RequestFeed, StatusBar
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.steering import PLAN, READ, field_of, reasons, sim
from tests.tui.conftest import WAIT_S, DashboardDriver, wait_until

SIZE = (140, 40)
SESSION = "steer-main"
OTHER = "steer-other"
@dataclass
class Reply:
    """What the client got."""

    status: int
    route: str
    body: Any


@dataclass
class Live(DashboardDriver):
    """The dashboard with a real proxy behind it, one client session, the actor's record."""

    app: FusionApp
    pilot: Pilot[Any]
    runtime: Runtime
    http: aiohttp.ClientSession
    actor: FakeAnthropic
    events: list[Event] = field(default_factory=list)

    async def send(self, tools: bool = False, session: str = SESSION,
                   headers: dict[str, str] | None = None) -> Reply:
        """One non-streaming Messages request through the proxy's HTTP surface."""
        body: dict[str, Any] = {
            "model": "claude-x", "max_tokens": 200,
            "messages": [{"role": "user", "content": "read notes.md and plan the refactor"}]}
        if tools:
            body["tools"] = [READ]
        async with self.http.post(self.runtime.address + "/v1/messages", json=body,
                                  headers={"x-fusion-session": session, **(headers or {})}
                                  ) as resp:
            return Reply(resp.status, resp.headers.get("x-fusion-route", ""),
                         await resp.json(content_type=None))

    def later(self, tools: bool = True, session: str = SESSION,
              headers: dict[str, str] | None = None) -> asyncio.Task[Reply]:
        """`send` in a task, for a request that waits on the dashboard."""
        return asyncio.ensure_future(self.send(tools, session, headers))

    def seen(self, kind: type[Event], session: str = SESSION) -> list[Any]:
        """Events of `kind` for `session`, oldest first."""
        return [e for e in self.events if isinstance(e, kind) and e.session_id == session]

    async def steered(self, text: str) -> None:
        """Wait for a `steer` feed row containing `text`."""
        feed = self.screen.query_one(RequestFeed)
        await wait_until(self.pilot, lambda: any(text in row.steering
                                                 for row in feed.rows_model.values()))

    async def held(self) -> str:
        """Wait until the selected session's council is held; its request id."""
        await wait_until(self.pilot, lambda: self.screen.held_request() is not None
                         and bool(self.runtime.state.hold_desk.pending))
        rid = self.screen.held_request()
        assert rid is not None
        return rid

    def briefing_sent(self) -> str | None:
        """The council briefing in the actor's last request (None: it got none)."""
        last = self.actor.requests[-1].body["messages"][-1]["content"]
        texts = [b.get("text", "") for b in last if isinstance(b, dict)] if isinstance(
            last, list) else [last]
        found = [t for t in texts if "<council-briefing>" in t]
        return found[-1] if found else None


@pytest.fixture
async def live(make_settings: Callable[..., Settings], fake_anthropic: tuple[FakeAnthropic, str],
               tmp_path: Path) -> AsyncIterator[Live]:
    """The dashboard running the proxy (single routing, no classifier), one session seen."""
    fake, base = fake_anthropic
    settings = make_settings(
        upstreams=[{"id": "actor", "type": "anthropic", "base_url": base, "model": "claude-up"},
                   sim("alt"), sim("spare"), sim("adv1"), sim("adv2"), sim("judge")],
        pools={"actor": ["actor", "alt"], "council": ["adv1", "adv2"], "judge": ["judge"]},
        council={"deadline_s": 5, "hold_timeout_s": 30})
    runtime = Runtime(settings)
    app = FusionApp(runtime.bus, runtime, StatusInfo.from_settings(settings),
                    state_path=tmp_path / "ui.json")
    try:
        async with app.run_test(size=SIZE) as pilot, aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=WAIT_S)) as http:
            await wait_until(pilot, lambda: bool(runtime.address))
            live = Live(app, pilot, runtime, http, fake)
            runtime.bus.listen(live.events.append)
            first = await live.send()
            assert first.status == 200, first.body
            await wait_until(pilot, lambda: live.screen.selected == SESSION
                             and live.screen.settled)
            yield live
    finally:
        await runtime.stop()


@pytest.mark.parametrize(("key", "tier"), [("1", "compact"), ("2", "regular"), ("3", "plan")])
async def test_tier_keys_route_the_next_request(live: Live, key: str, tier: str) -> None:
    await live.press(key)
    reply = await live.send()
    assert reply.status == 200, reply.body
    assert field_of(reply.route, "tier") == tier and "override:ui" in reasons(reply.route)
    await live.steered(f"force_tier {SESSION} {tier}")
    after = await live.send()
    assert field_of(after.route, "tier") == "-"  # one turn only
    assert "override:ui" not in reasons(after.route)


async def test_lock_holds_two_requests_then_zero_goes_back_to_auto(live: Live) -> None:
    await live.press("l")
    assert isinstance(live.app.screen, PickerScreen)
    await live.press("down", "enter")  # compact, [regular], plan
    for _ in range(2):
        reply = await live.send()
        assert field_of(reply.route, "tier") == "regular"
        assert "override:ui" in reasons(reply.route)
    await live.steered(f"lock_tier {SESSION} regular")
    await live.press("0")
    reply = await live.send()
    assert field_of(reply.route, "tier") == "-"
    assert "override:ui" in reasons(reply.route)
    await live.steered(f"auto_tier {SESSION} auto")


async def test_swap_actor_serves_the_next_tool_request(live: Live) -> None:
    await live.press("a")
    picker = live.app.screen
    assert isinstance(picker, PickerScreen)
    ids = [oid for oid, _ in picker.options]
    assert ids[:2] == ["actor", "alt"]  # the actor pool first
    await live.press(*["down"] * ids.index("spare"), "enter")  # in no pool at all
    reply = await live.send(tools=True)
    assert reply.status == 200, reply.body
    assert field_of(reply.route, "served_by") == "spare"
    assert "override:ui" in reasons(reply.route)
    await live.steered(f"swap_actor {SESSION} spare")


async def test_mute_in_the_session_leaves_the_advisor_out_of_its_next_council(
        live: Live) -> None:
    await live.press("v")
    assert isinstance(live.app.screen, PickerScreen)
    await live.press("enter")  # [mute adv1 in this session], mute adv1 everywhere, ...
    reply = await live.send(tools=True, headers=PLAN)
    assert field_of(reply.route, "council") == "adv2"
    assert "override:ui" in reasons(reply.route)
    assert live.seen(CouncilConvened)[-1].advisors == ["adv2"]
    other = await live.send(tools=True, session=OTHER, headers=PLAN)
    assert field_of(other.route, "council") == "adv1+adv2"  # other sessions keep it
    await live.steered(f"mute_advisor adv1 {SESSION}")


async def test_mute_everywhere_leaves_the_advisor_out_of_every_next_council(
        live: Live) -> None:
    await live.press("v")
    await live.press("down", "enter")  # mute adv1 [everywhere]
    for session in (SESSION, OTHER):
        reply = await live.send(tools=True, session=session, headers=PLAN)
        assert field_of(reply.route, "council") == "adv2"
        assert "override:ui" in reasons(reply.route), session
        assert live.seen(CouncilConvened, session)[-1].advisors == ["adv2"]
    await live.steered("mute_advisor adv1 global")


async def test_council_off_for_the_session_then_everywhere(live: Live) -> None:
    status = live.screen.query_one(StatusBar)
    await live.press("c")
    reply = await live.send(tools=True, headers=PLAN)
    assert reply.status == 200 and field_of(reply.route, "council") == ""
    assert {"council_off", "override:ui"} <= set(reasons(reply.route))
    await live.steered(f"council {SESSION} off")
    await wait_until(live.pilot, lambda: "council off (session; all on)"
                     in status.render().plain)
    other = await live.send(tools=True, session=OTHER, headers=PLAN)
    assert field_of(other.route, "council") == "adv1+adv2"  # only this session's is off

    await live.press("C")  # everywhere, while a session is selected
    other = await live.send(tools=True, session=OTHER, headers=PLAN)
    assert field_of(other.route, "council") == ""
    assert {"council_off", "override:ui"} <= set(reasons(other.route))
    await live.steered("council global off")
    await wait_until(live.pilot, lambda: "council off (session; all off)"
                     in status.render().plain)


async def hold_plan(live: Live) -> tuple[asyncio.Task[Reply], str]:
    """Hold on (plan), then a plan tool turn that waits on the dashboard."""
    await live.press("h")
    assert live.runtime.state.controls.hold_mode == "plan"
    await live.steered("hold global plan")
    task = live.later(headers=PLAN)
    rid = await live.held()
    assert [e.request_id for e in live.seen(BriefingHeld)] == [rid]
    return task, rid


async def test_hold_then_enter_approves_and_the_actor_gets_the_briefing(live: Live) -> None:
    task, rid = await hold_plan(live)
    assert not task.done()
    await live.press("enter")
    reply = await asyncio.wait_for(task, WAIT_S)
    assert reply.status == 200, reply.body
    assert "briefing:approved_ui" in reasons(reply.route)
    held_text = live.seen(BriefingHeld)[-1].text
    sent = live.briefing_sent()
    assert sent is not None and held_text.strip() in sent
    await live.steered(f"briefing_approve {rid}")


async def test_hold_then_e_edits_and_the_actor_gets_the_edit(live: Live) -> None:
    task, rid = await hold_plan(live)
    await live.press("e")
    assert isinstance(live.app.screen, EditBriefingScreen)
    live.app.screen.query_one(TextArea).text = "EDITED: only touch notes.md, nothing else"
    await live.press("ctrl+s")
    reply = await asyncio.wait_for(task, WAIT_S)
    assert reply.status == 200, reply.body
    assert "briefing:edited_ui" in reasons(reply.route)
    sent = live.briefing_sent()
    assert sent is not None and "EDITED: only touch notes.md, nothing else" in sent
    assert live.seen(BriefingHeld)[-1].text.strip() not in sent
    await live.steered(f"briefing_edit {rid}")


async def test_hold_then_s_skips_and_the_actor_goes_without(live: Live) -> None:
    task, rid = await hold_plan(live)
    await live.press("s")
    reply = await asyncio.wait_for(task, WAIT_S)
    assert reply.status == 200, reply.body
    assert "briefing:skipped_ui" in reasons(reply.route)
    assert live.briefing_sent() is None
    assert json.dumps(live.actor.requests[-1].body["messages"]).count("council") == 0
    await live.steered(f"briefing_skip {rid}")


async def test_pin_then_unpin(live: Live) -> None:
    controls = live.runtime.state.controls
    await live.press("a")
    picker = live.app.screen
    assert isinstance(picker, PickerScreen)
    await live.press("down", "enter")  # actor, [alt]: the pool's second actor
    first = await live.send(tools=True)
    assert field_of(first.route, "served_by") == "alt"
    await wait_until(live.pilot, lambda: live.screen.model.sessions[SESSION].actor == "alt")
    await live.press("p")  # pinned by the swap: unpin
    assert controls.pins.get(SESSION) is None
    await live.press("p")  # pin to the session's current actor
    assert controls.pins.get(SESSION) == "alt"
    await live.steered(f"pin {SESSION} alt")
    reply = await live.send(tools=True)
    assert field_of(reply.route, "served_by") == "alt"  # not the pool's first
    assert "override:ui" in reasons(reply.route)
    await live.press("p")
    await live.steered(f"unpin {SESSION}")
    reply = await live.send(tools=True)
    assert field_of(reply.route, "served_by") == "actor"  # the pool's order again
    assert "override:ui" in reasons(reply.route)


async def test_drop_asks_then_the_in_flight_request_ends_as_dropped(live: Live) -> None:
    task, rid = await hold_plan(live)
    await live.press("x")
    assert isinstance(live.app.screen, ConfirmScreen)
    await live.press("n")
    await live.pilot.pause(0.1)
    assert not task.done()
    await live.press("x", "y")
    reply = await asyncio.wait_for(task, WAIT_S)
    assert reply.status == 400
    assert "dropped by a person in the fusion-tui dashboard" in json.dumps(reply.body)
    assert {"override:ui", "dropped"} <= set(reasons(reply.route))
    await wait_until(live.pilot, lambda: any(e.request_id == rid and e.status == 400
                                             for e in live.seen(ResponseFinished)))
    await live.steered(f"drop {rid}")
    assert not live.runtime.state.controls.inflight
    assert live.runtime.state.hold_desk.pending == {}
