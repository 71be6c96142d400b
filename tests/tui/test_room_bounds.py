"""What points at turns is bounded with the turns: held briefings of evicted sessions or turns
are forgotten, and the hold countdown's start lives on the (bounded) turn."""

from __future__ import annotations

from textual.app import App, ComposeResult

from fusion_tui.events import BriefingDecided, BriefingHeld, Event, GateDecided
from fusion_tui.tui.room import MAX_TURNS, RoomModel
from fusion_tui.tui.widgets.council_room import BriefingPane, CouncilRoom


def held(session: str, request: str) -> Event:
    return BriefingHeld(session_id=session, request_id=request, text="plan", timeout_s=60)


def gated(session: str, request: str) -> Event:
    return GateDecided(session_id=session, request_id=request, tier="plan", scores={},
                       reason="test")


def test_held_briefings_of_evicted_sessions_are_forgotten() -> None:
    model = RoomModel(max_sessions=2)
    model.apply([held("a", "a1"), held("b", "b1")])
    assert model.held == {"a1": "a", "b1": "b"}
    model.apply([gated("c", "c1")])  # "a" is the oldest session: it goes
    assert "a" not in model.sessions
    assert model.held == {"b1": "b"}


def test_a_held_turn_pushed_out_of_its_history_is_forgotten() -> None:
    model = RoomModel()
    model.apply([held("a", "r0")])
    model.apply([gated("a", f"r{n}") for n in range(1, MAX_TURNS)])
    assert model.held == {"r0": "a"}  # still in the history (exactly MAX_TURNS turns)
    model.apply([gated("a", f"r{MAX_TURNS}")])
    assert model.turn("a", "r0") is None and model.held == {}


def test_many_held_sessions_stay_bounded() -> None:
    model = RoomModel(max_sessions=5)
    model.apply([held(f"s{n}", f"r{n}") for n in range(100)])
    assert len(model.sessions) == 5 and set(model.held) == {f"r{n}" for n in range(95, 100)}


class RoomApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.now = 100.0

    def compose(self) -> ComposeResult:
        yield CouncilRoom(lambda: self.now)


async def test_the_countdown_starts_when_shown_and_is_kept_on_the_turn() -> None:
    app = RoomApp()
    async with app.run_test(size=(120, 40)) as pilot:
        model = RoomModel()
        model.apply([held("a", "r1")])
        turn = model.turn("a", "r1")
        assert turn is not None and turn.held_at is None
        room = app.query_one(CouncilRoom)
        await room.show(turn)
        await pilot.pause()
        assert turn.held_at == 100.0
        assert app.query_one(BriefingPane).held_until == 160.0
        app.now = 130.0
        await room.show(turn)  # shown again: the countdown does not restart
        assert turn.held_at == 100.0
        assert app.query_one(BriefingPane).remaining() == 30
        model.apply([BriefingDecided(session_id="a", request_id="r1", decision="approve",
                                     text="plan"), held("a", "r1")])
        assert turn.held_at is None  # held anew: its countdown starts when it is shown
        await room.show(turn)
        assert turn.held_at == 130.0
