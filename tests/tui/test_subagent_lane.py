"""Sub-agent requests (a route whose reason names `kind:subagent`) get a lane of their own
under their parent session: in the room model, in the sessions list, and for steering."""

from __future__ import annotations

from fusion_tui.events import EventBus, RouteChosen
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.room import RoomModel, lane_id, route_kinds
from fusion_tui.tui.widgets.session_list import SessionList
from tests.tui.conftest import publish_all, wait_until
from tests.tui.council_factory import INFO, SESSION, Clock, council_turn, make_controls
from tests.tui.events_factory import T0, finished, received

SUB_ROUTE = ("mode=smart; tier=regular; served_by=sim-fast; "
             "reason=override:ui,kind:subagent,kind:tool_turn")


def subagent_request(n: int) -> list:
    """A sub-agent's request: it carries the parent's session id; its route says the kind."""
    return [received(n, session=SESSION),
            RouteChosen(session_id=SESSION, request_id=f"req_{n}", ts=T0 + n, mode="smart",
                        tier="regular", upstream_id="sim-fast", route=SUB_ROUTE),
            finished(n, upstream="sim-fast", session=SESSION)]


def test_route_kinds_come_from_the_reason() -> None:
    assert route_kinds(SUB_ROUTE) == {"subagent", "tool_turn"}
    assert route_kinds("mode=single; tier=-; served_by=x") == set()


def test_a_subagent_request_moves_to_its_sessions_lane() -> None:
    model = RoomModel()
    model.apply(council_turn(Clock(), 1))
    changes = model.apply(subagent_request(7))
    parent, lane = model.sessions[SESSION], model.sessions[lane_id(SESSION)]
    assert lane.parent == SESSION and lane_id(SESSION) in changes.sessions
    assert list(parent.history) == ["req_0001"] and parent.turns == 1
    assert list(lane.history) == ["req_7"] and lane.turns == 1
    assert lane.tier == "regular" and lane.actor == "sim-fast"
    assert not lane.in_flight and lane.history["req_7"].status == 200  # later events follow
    assert parent.actor == "sim-actor" and parent.tier == "plan"  # the parent is untouched


async def test_the_lane_sits_under_its_session_and_steers_the_session() -> None:
    bus = EventBus()
    controls = make_controls(bus)
    app = FusionApp(bus, info=INFO, controls=controls, clock=lambda: 0.0)
    async with app.run_test(size=(140, 40)) as pilot:
        events = [*council_turn(Clock(), 1), *finished_other(), *subagent_request(7)]
        publish_all(bus, events)
        screen = app.screen
        table = screen.query_one(SessionList)
        await wait_until(pilot, lambda: app.bridge.events == len(events) and screen.settled
                         and table.row_count == 3)
        keys = [str(k.value) for k in table.rows]
        assert keys == [SESSION, lane_id(SESSION), "other"]  # under its parent, not last
        assert "↳ sub-agents" in str(table.get_row(lane_id(SESSION))[0])
        table.move_cursor(row=1)

        def lane_shown() -> bool:
            turn = screen.current_turn()
            return (screen.selected == lane_id(SESSION) and turn is not None
                    and turn.request_id == "req_7")

        await wait_until(pilot, lane_shown)
        await pilot.press("1")  # a tier for the next turn: the parent session's
        assert controls.tier_for(SESSION)[0] == "compact"


def finished_other() -> list:
    return [received(9, session="other"), finished(9, session="other")]
