"""The spending rules in whole turns: scripted upstreams that report cache usage, a scripted
gate, and the engine's ScriptedClient (see test_engine.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from fusion_tui.core.engine import ANTHROPIC, OPENAI, serve_turn
from fusion_tui.core.engine.dialects import RESPONSES, check_responses
from fusion_tui.events import Event
from fusion_tui.upstreams import UpstreamReply
from tests.unit import test_engine
from tests.unit.test_engine import ScriptedClient, anthropic_body, arrival
from tests.unit.test_spend import conversation

proxy = test_engine.proxy  # the engine tests' fixture: a ProxyState over scripted upstreams


@dataclass
class ScriptedDecision:
    tier: str
    scores: dict[str, float] = field(default_factory=dict)
    segments: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    @property
    def reason(self) -> str:
        return f"lr:{self.tier}"

    def event_fields(self) -> dict[str, Any]:
        return {"tier": self.tier, "scores": self.scores, "reason": self.reason,
                "segments": self.segments, "latency_ms": self.latency_ms}


class ScriptedGate:
    """The gate, answering the tiers it is given in turn."""

    def __init__(self, *tiers: str) -> None:
        self.tiers = list(tiers)

    async def classify(self, body: dict[str, Any]) -> ScriptedDecision:
        return ScriptedDecision(self.tiers.pop(0))

    def learn(self, body: dict[str, Any], tier: str, session_id: str = "") -> None:
        """A person's tier override is a labelled example; the scripted gate keeps none."""


def cached_reply(fresh: int, read: int, written: int, output: int,
                 text: str = "done") -> UpstreamReply:
    return UpstreamReply(200, {"content-type": "application/json"}, body=orjson.dumps({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "usage": {"input_tokens": fresh, "output_tokens": output,
                  "cache_read_input_tokens": read, "cache_creation_input_tokens": written}}))


def sim(uid: str, price: dict[str, float]) -> dict[str, Any]:
    return {"id": uid, "type": "simulated", "model": f"model-{uid}", "price": price}


def of_kind(events: list[Event], kind: str) -> list[Any]:
    return [e for e in events if e.kind == kind]


def route_of(client: ScriptedClient) -> str:
    step = next(s for s in client.sent if s[0] in ("relay", "fail"))
    return str(step[1] if step[0] == "relay" else step[3])


EFFORT = {"compact": "low", "regular": "medium", "plan": "high"}


async def test_a_plan_turn_goes_out_at_high_effort_on_each_protocol(proxy: Any) -> None:
    """The gate says plan; each client protocol's own effort field carries `high` to the
    actor, and the route says effort=high."""
    bodies = {
        ANTHROPIC: anthropic_body(tools=True),
        OPENAI: {"model": "claude", "max_tokens": 100, "tools": [
            {"type": "function", "function": {"name": "Read", "parameters": {
                "type": "object"}}}], "messages": [{"role": "user", "content": "plan it"}]},
        RESPONSES: check_responses({"model": "claude", "input": "plan it", "tools": [
            {"type": "function", "name": "Read", "parameters": {"type": "object"}}]}),
    }
    sent = []
    for dialect, body in bodies.items():
        state, _ = proxy({"a": (cached_reply(10, 0, 0, 5),)}, routing={
            "mode": "smart", "effort": EFFORT})
        state.gate = ScriptedGate("plan")  # type: ignore[assignment]
        client = ScriptedClient()
        await serve_turn(state, dialect, body, arrival(), client)
        route = route_of(client)
        assert "tier=plan" in route and "effort=high" in route.split("; ")
        sent.append(state.upstreams["a"].bodies[0])  # type: ignore[attr-defined]
    assert sent[0]["output_config"] == {"effort": "high"}
    assert sent[1]["reasoning_effort"] == "high"
    assert sent[2]["reasoning"] == {"effort": "high"}


async def test_the_clients_effort_is_kept_unless_the_config_overrides_it(proxy: Any) -> None:
    asked = {**anthropic_body(), "output_config": {"effort": "low"}}
    for override, expected, note in ((False, "low", True), (True, "high", False)):
        state, _ = proxy({"a": (cached_reply(10, 0, 0, 5),)}, routing={
            "mode": "smart", "effort": EFFORT, "effort_override": override})
        state.gate = ScriptedGate("plan")  # type: ignore[assignment]
        client = ScriptedClient()
        await serve_turn(state, ANTHROPIC, asked, arrival(), client)
        assert state.upstreams["a"].bodies[0]["output_config"] == {  # type: ignore[attr-defined]
            "effort": expected}
        assert f"effort={expected}" in route_of(client)
        assert ("effort:client" in route_of(client)) is note


def switching(proxy: Any, small_price: dict[str, float]) -> tuple[Any, list[Event]]:
    """A session answered on `big` (regular pool) with a warm cache, then a compact turn."""
    state, events = proxy(
        {"big": (cached_reply(100, 9000, 900, 200), cached_reply(100, 9900, 0, 200)),
         "small": (cached_reply(10_000, 0, 0, 200),)},
        ids=["big", "small"],
        upstreams=[sim("big", {"input": 3, "output": 15, "cache_read": 0.3}),
                   sim("small", small_price)],
        pools={"actor": ["big"], "regular": ["big"], "compact": ["small"]},
        routing={"mode": "smart"})
    state.gate = ScriptedGate("regular", "compact")  # type: ignore[assignment]
    return state, events


async def test_a_session_stays_on_its_model_when_switching_costs_more(proxy: Any) -> None:
    """The compact model costs 1/3 of the big one, but the big one holds 9900 cached tokens:
    staying costs 6270 micro-dollars, switching 11000, so the turn stays (stay:cache)."""
    state, events = switching(proxy, {"input": 1, "output": 5})
    await serve_turn(state, ANTHROPIC, anthropic_body(), arrival(), ScriptedClient())
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(), arrival(), client)
    route = route_of(client)
    assert "tier=compact" in route and "served_by=big" in route
    assert route.endswith("reason=lr:compact,stay:cache")
    assert state.upstreams["small"].bodies == []  # type: ignore[attr-defined]
    assert [e.upstream_id for e in of_kind(events, "turn_priced")] == ["big", "big"]


async def test_a_session_switches_when_the_cheaper_model_wins_even_cold(proxy: Any) -> None:
    """At input 0.25 / output 1.25 the cold switch costs 2750 micro-dollars, less than the
    6270 of staying: the turn goes to the compact model (switch:cheaper)."""
    state, _ = switching(proxy, {"input": 0.25, "output": 1.25})
    await serve_turn(state, ANTHROPIC, anthropic_body(), arrival(), ScriptedClient())
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(), arrival(), client)
    route = route_of(client)
    assert "served_by=small" in route and route.endswith("reason=lr:compact,switch:cheaper")


async def test_three_failures_raise_the_tier_and_a_pass_brings_it_down(proxy: Any) -> None:
    """The gate says regular each time; three failing tool results make it plan
    (escalated:3_failures, TierEscalated); a passing one after them lets it fall back."""
    state, events = proxy({"a": tuple(cached_reply(10, 0, 0, 5) for _ in range(3))},
                          routing={"mode": "smart", "effort": EFFORT})
    state.gate = ScriptedGate("regular", "regular", "regular")  # type: ignore[assignment]
    failing = ("==== 2 failed, 3 passed ====", False)
    tools = anthropic_body(tools=True)["tools"]
    two = {**conversation(("boom", True), failing), "tools": tools}
    three = {**conversation(("boom", True), failing, ("Exit code 1", False)), "tools": tools}
    passed = {**conversation(("boom", True), failing, ("Exit code 1", False),
                             ("==== 5 passed ====", False)), "tools": tools}
    routes = []
    for body in (two, three, passed):
        client = ScriptedClient()
        await serve_turn(state, ANTHROPIC, body, arrival(), client)
        routes.append(route_of(client))
    assert "tier=regular" in routes[0] and "escalated" not in routes[0]
    assert "tier=plan" in routes[1] and "effort=high" in routes[1]
    assert "escalated:3_failures" in routes[1]
    assert "tier=regular" in routes[2] and "escalated" not in routes[2]
    escalated = of_kind(events, "tier_escalated")
    assert [(e.from_tier, e.to_tier, e.failures, e.vetoed) for e in escalated] == [
        ("regular", "plan", 3, False)]


async def test_the_tier_key_vetoes_an_escalation(proxy: Any) -> None:
    state, events = proxy({"a": (cached_reply(10, 0, 0, 5),)}, routing={"mode": "smart"})
    state.gate = ScriptedGate()  # type: ignore[assignment]  (a forced tier needs no gate)
    body = {**conversation(("x", True), ("x", True), ("x", True)),
            "tools": anthropic_body(tools=True)["tools"]}
    from fusion_tui.routing import session_id_for
    state.controls.force_next_tier(session_id_for({}, body), "regular")
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, body, arrival(), client)
    route = route_of(client)
    assert "tier=regular" in route and "escalation_vetoed:ui" in route
    assert [e.vetoed for e in of_kind(events, "tier_escalated")] == [True]


async def test_savings_match_a_hand_computation(proxy: Any) -> None:
    """Two turns served by a cheap model, priced against the client's model `model-big`:
    turn 1: 1000 fresh + 0 cached in, 100 out; turn 2: 200 fresh + 1000 cache read, 100 out.
    cheap (input 1, output 2, cache_read 0.1): 1000+200 = 1200, then 200+100+200 = 500
    big   (input 10, output 20, cache_read 1): 10000+2000 = 12000, then 2000+1000+2000 = 5000
    routed 1700, baseline 17000, saved 15300 micro-dollars; cache hit 1000 / 2200."""
    state, events = proxy(
        {"cheap": (cached_reply(1000, 0, 0, 100), cached_reply(200, 1000, 0, 100))},
        ids=["big", "cheap"],
        upstreams=[sim("big", {"input": 10, "output": 20, "cache_read": 1}),
                   sim("cheap", {"input": 1, "output": 2, "cache_read": 0.1})],
        pools={"actor": ["big"], "regular": ["cheap"]}, routing={"mode": "smart"})
    state.gate = ScriptedGate("regular", "regular")  # type: ignore[assignment]
    body = {**anthropic_body(), "model": "model-big"}
    for _ in range(2):
        await serve_turn(state, ANTHROPIC, body, arrival(), ScriptedClient())
    priced = of_kind(events, "turn_priced")
    assert [round(e.cost_usd * 1e6) for e in priced] == [1200, 500]
    assert [round(e.baseline_usd * 1e6) for e in priced] == [12000, 5000]
    totals = state.spend.total.as_dict()
    assert (totals["cost_usd"], totals["baseline_usd"], totals["saved_usd"]) == (
        0.0017, 0.017, 0.0153)
    assert totals["cache_hit_rate"] == round(1000 / 2200, 4)
    assert totals["tier_shares"] == {"regular": 1.0}
    assert state.spend.as_dict()["upstreams"]["cheap"]["cache_hit_rate"] == round(
        1000 / 2200, 4)


async def test_a_budget_stops_the_council_then_the_session(proxy: Any) -> None:
    """Session budget $0.01, near at 50%: the first tool turn convenes the council and
    costs about $0.006; the second goes without it (budget:session); once $0.01 is spent
    the third is refused with a 402 in the client's protocol, no upstream called."""
    state, events = proxy(
        {"actor": (cached_reply(5000, 0, 0, 100), cached_reply(5000, 0, 0, 100))},
        ids=["actor", "adv1", "judge"],
        pools={"actor": ["actor"], "council": ["adv1"], "judge": ["judge"]},
        council={"trigger": "always", "ping_interval_s": 60},
        budget={"session_usd": 0.01, "near": 0.5})
    body = anthropic_body(tools=True)
    first = ScriptedClient()
    await serve_turn(state, ANTHROPIC, body, arrival(), first)
    assert of_kind(events, "council_convened")
    spent = state.budgets.sessions[of_kind(events, "request_received")[0].session_id]
    assert 0.005 <= spent < 0.01
    second = ScriptedClient()
    await serve_turn(state, ANTHROPIC, body, arrival(), second)
    assert len(of_kind(events, "council_convened")) == 1
    assert route_of(second).endswith("reason=budget:session")
    third = ScriptedClient()
    await serve_turn(state, ANTHROPIC, body, arrival(), third)
    assert third.steps() == ["fail"]
    _, status, message, _ = third.sent[0]
    assert status == 402 and "session budget spent" in message
    reached = [(e.budget, e.state) for e in of_kind(events, "budget_reached")]
    assert reached == [("session", "near"), ("session", "spent")]
    assert state.upstreams["actor"].bodies[2:] == []  # type: ignore[attr-defined]


async def test_near_a_budget_a_tool_free_plan_turn_skips_the_panel(proxy: Any) -> None:
    state, events = proxy({"a": (cached_reply(10, 0, 0, 5),)}, ids=["a", "p1", "p2"],
                          pools={"actor": ["a"], "panel": ["p1", "p2"]},
                          routing={"mode": "smart"}, budget={"daily_usd": 1.0})
    state.gate = ScriptedGate("plan")  # type: ignore[assignment]
    state.budgets.day_usd = 0.9  # spent earlier today: near the daily budget
    client = ScriptedClient()
    await serve_turn(state, ANTHROPIC, anthropic_body(), arrival(), client)
    route = route_of(client)
    assert "panel=" not in route and "served_by=a" in route
    assert route.endswith("reason=lr:plan,budget:daily")
    assert not of_kind(events, "panel_member_finished")
    assert [(e.budget, e.state) for e in of_kind(events, "budget_reached")] == [
        ("daily", "near")]


async def test_a_baseline_model_is_priced_once_per_process(proxy: Any, monkeypatch: Any) -> None:
    """The price of the model a client asks for is looked up on its first turn only (a
    price-table lookup costs more than the rest of the reporting); every turn is still
    priced against it."""
    from fusion_tui.core import spend

    looked_up: list[str] = []
    real = spend.model_price

    def counting(settings: Any, model: str) -> Any:
        looked_up.append(model)
        return real(settings, model)

    monkeypatch.setattr(spend, "model_price", counting)
    state, events = proxy(
        {"cheap": (cached_reply(1000, 0, 0, 100), cached_reply(200, 1000, 0, 100))},
        ids=["big", "cheap"],
        upstreams=[sim("big", {"input": 10, "output": 20, "cache_read": 1}),
                   sim("cheap", {"input": 1, "output": 2, "cache_read": 0.1})],
        pools={"actor": ["cheap"]})
    body = {**anthropic_body(), "model": "model-big"}
    for _ in range(2):
        await serve_turn(state, ANTHROPIC, body, arrival(), ScriptedClient())
    assert looked_up == ["model-big"]
    priced = of_kind(events, "turn_priced")
    assert [round(e.baseline_usd * 1e6) for e in priced] == [12000, 5000]
