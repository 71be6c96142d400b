"""Council variants: self-consistency seats (one upstream sampled N times), the trigger's
signals (the gate's doubt, the agent's failures) and a council without a judge; each said
in the route and the events. Sans-IO: scripted gate, simulated and scripted upstreams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fusion_tui.config import ConfigError, Settings
from fusion_tui.config.council import CouncilSettings, SelfConsistencySettings
from fusion_tui.config.tiers import Tier
from fusion_tui.core.engine import ANTHROPIC, serve_turn
from fusion_tui.council.orchestrator import Council
from fusion_tui.council.prompts import OPINIONS_PREAMBLE
from fusion_tui.council.seats import Seat, sample_seats
from fusion_tui.council.trigger import CouncilTrigger, council_trigger
from fusion_tui.events import Event
from fusion_tui.routing.gate import Decision
from tests.unit.test_council import BODY, context, sim
from tests.unit.test_engine import ScriptedClient, anthropic_body, arrival, proxy

__all__ = ["proxy"]  # the engine tests' fixture, used here too


def test_samples_are_seats_of_their_own_with_cycled_temperatures_and_perspectives() -> None:
    cfg = SelfConsistencySettings(upstream="opus", samples=4, temperatures=[0.2, 1.0],
                                  perspectives=["skeptic", "minimalist", "tester"])
    assert sample_seats("opus", cfg) == [
        Seat("opus#1", "opus", 0.2, "skeptic"), Seat("opus#2", "opus", 1.0, "minimalist"),
        Seat("opus#3", "opus", 0.2, "tester"), Seat("opus#4", "opus", 1.0, "skeptic")]
    plain = sample_seats("gpt", SelfConsistencySettings(samples=2))
    assert plain == [Seat("gpt#1", "gpt"), Seat("gpt#2", "gpt")]


SCORES_CLOSE = {"compact": 0.05, "regular": 0.5, "plan": 0.45}
SCORES_SURE = {"compact": 0.02, "regular": 0.9, "plan": 0.08}
SCORES_UNSURE = {"compact": 0.3, "regular": 0.4, "plan": 0.3}
SIGNALS = {"top_score_below": 0.45, "plan_margin_below": 0.1, "failing_tools": True}


@pytest.mark.parametrize(("trigger", "signals", "tier", "scores", "escalated", "expected"), [
    ("plan", {}, Tier.PLAN, SCORES_SURE, False, CouncilTrigger.TIER),
    ("plan", {}, Tier.REGULAR, SCORES_CLOSE, True, None),  # no signal configured
    ("always", {}, Tier.COMPACT, None, False, CouncilTrigger.ALWAYS),
    ("plan", SIGNALS, Tier.REGULAR, SCORES_SURE, False, None),
    ("plan", SIGNALS, Tier.REGULAR, SCORES_SURE, True, CouncilTrigger.FAILING_TOOLS),
    ("plan", SIGNALS, Tier.REGULAR, SCORES_CLOSE, False, CouncilTrigger.CLOSE_TO_PLAN),
    ("plan", SIGNALS, Tier.REGULAR, SCORES_UNSURE, False, CouncilTrigger.UNSURE),
    ("off", SIGNALS, Tier.REGULAR, SCORES_UNSURE, False, CouncilTrigger.UNSURE),
    ("off", SIGNALS, Tier.PLAN, SCORES_SURE, False, None),
    ("plan", SIGNALS, Tier.REGULAR, None, False, None),  # no gate scores: no doubt to read
])
def test_the_trigger_convenes_on_the_tier_or_on_a_signal(
        trigger: str, signals: dict[str, Any], tier: Tier, scores: dict[str, float] | None,
        escalated: bool, expected: CouncilTrigger | None) -> None:
    settings = CouncilSettings(trigger=trigger, signals=signals)  # type: ignore[arg-type]
    assert council_trigger(settings, tier, scores, escalated) == expected


async def test_self_consistency_seats_ask_one_upstream_at_their_own_temperatures() -> None:
    """Three seats on one upstream: each call carries its seat's temperature and
    perspective, the panes are the seats, the cost is the upstream's, the event says so."""
    ups = {"opus": sim("opus"), "j": sim("judge")}
    events: list[Event] = []
    seats = sample_seats("opus", SelfConsistencySettings(
        samples=3, temperatures=[0.0, 0.5, 1.0], perspectives=["find what breaks"]))
    outcome = await Council(context(ups, events)).convene(BODY, "opus", seats, "j")
    assert outcome.status == "briefed"
    sent = ups["opus"].bodies
    assert sorted(b["temperature"] for b in sent) == [0.0, 0.5, 1.0]
    assert all("Your perspective on this council: find what breaks" in b["system"]
               for b in sent)
    convened = next(e for e in events if e.kind == "council_convened")
    assert convened.advisors == ["opus#1", "opus#2", "opus#3"]  # type: ignore[attr-defined]
    assert convened.temperatures == {  # type: ignore[attr-defined]
        "opus#1": 0.0, "opus#2": 0.5, "opus#3": 1.0}
    assert convened.sampled == "opus"  # type: ignore[attr-defined]
    finished = sorted(e.advisor for e in events  # type: ignore[attr-defined]
                      if e.kind == "advisor_finished")
    assert finished == ["opus#1", "opus#2", "opus#3"]
    costs = [e for e in events if e.kind == "cost_recorded"]
    assert [(e.upstream_id, e.stage) for e in costs].count(  # type: ignore[attr-defined]
        ("opus", "advisor")) == 3


async def test_without_the_judge_the_actor_gets_the_opinions_under_a_fixed_header() -> None:
    """synthesize off: no judge is called even when one is named; the briefing is the
    anonymised opinions under the header that says nobody judged them."""
    ups = {"a": sim("adv-a"), "b": sim("adv-b"), "j": sim("judge")}
    events: list[Event] = []
    outcome = await Council(context(ups, events, synthesize=False)).convene(
        BODY, "x", ["a", "b"], "j")
    assert outcome.briefing is not None
    assert outcome.briefing.splitlines()[1] == OPINIONS_PREAMBLE
    assert "### Advisor A" in outcome.briefing and "### Advisor B" in outcome.briefing
    assert "adv-a" not in outcome.briefing and "adv-b" not in outcome.briefing
    assert ups["j"].bodies == []
    ready = next(e for e in events if e.kind == "briefing_ready")
    assert (ready.judge, ready.synthesized) == (None, False)  # type: ignore[attr-defined]
    convened = next(e for e in events if e.kind == "council_convened")
    assert convened.judge is None  # type: ignore[attr-defined]


async def test_a_sitting_judge_keeps_its_truth_and_usefulness_axes() -> None:
    ups = {"a": sim("adv-a"), "j": sim("judge")}
    events: list[Event] = []
    outcome = await Council(context(ups, events)).convene(BODY, "x", ["a"], "j")
    assert outcome.briefing is not None and OPINIONS_PREAMBLE not in outcome.briefing
    judge_system = ups["j"].bodies[0]["system"]
    assert "how likely it is to be true" in judge_system
    assert "worth acting on (act/ignore)" in judge_system


def test_self_consistency_config_is_checked_against_the_upstreams(
        make_settings: Callable[..., Settings]) -> None:
    ups = [{"id": "opus", "type": "anthropic", "base_url": "http://127.0.0.1:9",
            "model": "claude"}, {"id": "gpt", "type": "simulated", "model": "gpt"}]
    with pytest.raises(ConfigError, match="neither `actor` nor an upstream id"):
        make_settings(upstreams=ups, pools={"actor": ["opus"]},
                      council={"self_consistency": {"upstream": "nope"}})
    with pytest.raises(ConfigError, match=r"1\.5 is above 1.*'opus' is an anthropic"):
        make_settings(upstreams=ups, pools={"actor": ["opus"]},
                      council={"self_consistency": {"temperatures": [0.5, 1.5]}})
    with pytest.raises(ConfigError, match=r"temperatures must lie in 0\.\.2"):
        make_settings(upstreams=ups, pools={"actor": ["gpt"]},
                      council={"self_consistency": {"upstream": "gpt", "temperatures": [3]}})
    ok = make_settings(upstreams=ups, pools={"actor": ["opus"]},
                       council={"self_consistency": {"upstream": "gpt", "samples": 5,
                                                     "temperatures": [1.5]}})
    assert ok.council.self_consistency is not None
    assert ok.council.self_consistency.samples == 5


# --- whole turns through the engine ----------------------------------------------------------


class ScriptedGate:
    """A gate that answers one decision, whatever the request."""

    def __init__(self, tier: str, scores: dict[str, float], reason: str) -> None:
        self.decision = Decision(tier, scores, reason, [], 0.1)

    async def classify(self, body: dict[str, Any]) -> Decision:
        return self.decision


def council_proxy(proxy: Any, **council: Any) -> tuple[Any, list[Event]]:
    return proxy(ids=["actor", "adv1", "adv2", "judge"],
                 pools={"actor": ["actor"], "council": ["adv1", "adv2"], "judge": ["judge"]},
                 council={"ping_interval_s": 60, **council})


async def test_a_self_consistency_council_samples_the_actor_and_says_so(proxy: Any) -> None:
    state, events = council_proxy(proxy, trigger="always", self_consistency={
        "upstream": "actor", "samples": 3, "temperatures": [0.3, 0.9]})
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True), arrival(), client)
    route = client.sent[0][1]
    assert "council=actor#1+actor#2+actor#3" in route
    assert route.endswith("reason=self_consistency:actor,council")
    convened = next(e for e in events if e.kind == "council_convened")
    assert (convened.sampled, convened.trigger) == ("actor", "always")  # type: ignore[attr-defined]
    assert convened.temperatures == {  # type: ignore[attr-defined]
        "actor#1": 0.3, "actor#2": 0.9, "actor#3": 0.3}
    asked = {e.upstream_id for e in events  # type: ignore[attr-defined]
             if e.kind == "cost_recorded" and e.stage == "advisor"}
    assert asked == {"actor"}


async def test_the_gates_doubt_convenes_a_council_below_plan_and_the_route_says_why(
        proxy: Any) -> None:
    state, events = council_proxy(proxy, signals={"plan_margin_below": 0.1})
    state.router.settings.routing.mode = "smart"
    state.gate = ScriptedGate("regular", SCORES_CLOSE, "lr:regular")
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True), arrival(), client)
    route = client.sent[0][1]
    assert "tier=regular" in route and "council=adv1+adv2" in route
    assert route.endswith("reason=lr:regular,tools:actor,council_signal:close_to_plan,council")
    convened = next(e for e in events if e.kind == "council_convened")
    assert convened.trigger == "close_to_plan"  # type: ignore[attr-defined]


async def test_a_sure_gate_below_plan_convenes_nobody(proxy: Any) -> None:
    state, events = council_proxy(proxy, signals={"plan_margin_below": 0.1,
                                                  "top_score_below": 0.5})
    state.router.settings.routing.mode = "smart"
    state.gate = ScriptedGate("regular", SCORES_SURE, "lr:regular")
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True), arrival(), client)
    assert "council=" not in client.sent[0][1]
    assert "council_convened" not in [e.kind for e in events]


async def test_an_escalated_route_convenes_on_failing_tools(proxy: Any) -> None:
    """The escalation rule (routing.escalation) writes `escalated:<n>_failures` into the
    gate's reason; with signals.failing_tools that convenes a council at any tier."""
    state, _ = council_proxy(proxy, signals={"failing_tools": True})
    state.router.settings.routing.mode = "smart"
    state.gate = ScriptedGate("regular", SCORES_SURE, "lr:compact,escalated:3_failures")
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True), arrival(), client)
    route = client.sent[0][1]
    assert "council=adv1+adv2" in route
    assert "escalated:3_failures,tools:actor,council_signal:failing_tools,council" in route


async def test_a_council_without_its_judge_says_so_and_briefs_with_the_opinions(
        proxy: Any) -> None:
    state, events = council_proxy(proxy, trigger="always", synthesize=False)
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True), arrival(), client)
    route = client.sent[0][1]
    assert route.endswith("reason=judge:skipped,council")
    assert "judge" not in {e.upstream_id for e in events  # type: ignore[attr-defined]
                           if e.kind == "cost_recorded"}
    ready = next(e for e in events if e.kind == "briefing_ready")
    assert ready.synthesized is False  # type: ignore[attr-defined]


async def test_no_judge_in_the_pool_is_said_not_silently_skipped(proxy: Any) -> None:
    state, _ = proxy(ids=["actor", "adv1"],
                          pools={"actor": ["actor"], "council": ["adv1"]},
                          council={"trigger": "always", "ping_interval_s": 60})
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True), arrival(), client)
    assert client.sent[0][1].endswith("reason=judge:unavailable,council")


async def test_muting_the_sampled_upstream_mutes_every_seat_it_fills(proxy: Any) -> None:
    state, events = council_proxy(proxy, trigger="always",
                                  self_consistency={"upstream": "adv1", "samples": 2})
    state.controls.mute_advisor("adv1", session_id="s-muted")
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True),
                     arrival(**{"x-fusion-session": "s-muted"}), client)
    assert client.sent[0][1].endswith("reason=override:ui,council_skipped:no_advisors")
    skipped = next(e for e in events if e.kind == "council_skipped")
    assert skipped.reason == "no_advisors"  # type: ignore[attr-defined]
    other = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(tools=True),
                     arrival(**{"x-fusion-session": "s-other"}), other)
    assert "council=adv1#1+adv1#2" in other.sent[0][1]
