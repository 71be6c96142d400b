"""The router: modes, tiers to pools, overrides, pinning, the recursion guard."""

from __future__ import annotations

import os

import pytest

from fusion_tui.config import Settings, load_settings
from fusion_tui.routing import GateVerdict, Overrides, RouteOverrideError, Router


def settings(mode: str = "smart", **pools: list[str]) -> Settings:
    ids = ["a1", "a2", "fast", "r1", "r2"]
    base = {"actor": ["a1", "a2"], "compact": ["fast"], "regular": ["r1", "r2"]}
    upstreams = [{"id": i, "type": "simulated", "model": i} for i in ids]
    return load_settings(os.devnull, upstreams=upstreams, pools={**base, **pools},
                         routing={"mode": mode})


def verdict(tier: str) -> GateVerdict:
    return GateVerdict(tier, {"compact": 0.1, "regular": 0.2, "plan": 0.7}, f"knn:{tier}")


def test_single_mode_serves_the_first_actor_with_the_rest_as_failover() -> None:
    router = Router(settings("single"))
    plan = router.choose("s", has_tools=False)
    assert plan.candidates == ["a1", "a2"]
    assert plan.header == "mode=single; tier=-; served_by=a1"
    assert not router.needs_gate(Overrides())


def test_smart_mode_maps_tiers_to_pools() -> None:
    router = Router(settings())
    assert router.needs_gate(Overrides())
    assert router.choose("s", verdict=verdict("compact")).candidates == ["fast"]
    first = router.choose("s", verdict=verdict("regular")).candidates
    again = router.choose("s", verdict=verdict("regular")).candidates
    other = router.choose("s2", verdict=verdict("regular")).candidates
    assert first == again  # a session sticks to its member: its cache survives
    assert {first[0], other[0]} == {"r1", "r2"}  # new sessions are spread round-robin
    plan = router.choose("s", verdict=verdict("plan"))
    assert plan.candidates[0] == "a1"
    assert plan.header_for() == ("mode=smart; tier=plan; served_by=a1; actor=a1; "
                                 "scores=compact:0.10,regular:0.20,plan:0.70; reason=knn:plan")


def test_regular_round_robin_per_request_when_stickiness_is_off() -> None:
    cfg = settings()
    cfg.routing.switch.sticky_regular = False
    router = Router(cfg)
    first = router.choose("s", verdict=verdict("regular")).candidates
    second = router.choose("s", verdict=verdict("regular")).candidates
    assert {first[0], second[0]} == {"r1", "r2"}
    assert len(router.regular_pins) == 0


def test_requests_with_tools_go_to_the_pinned_actor() -> None:
    router = Router(settings())
    plan = router.choose("s1", has_tools=True, verdict=verdict("compact"))
    assert plan.candidates == ["a1", "a2"] and "tools:actor" in plan.reason
    router.pins.pin("s1", "a2")
    assert router.choose("s1", has_tools=True, verdict=verdict("plan")).candidates == ["a2", "a1"]
    assert router.choose("other", has_tools=True,
                         verdict=verdict("plan")).candidates == ["a1", "a2"]


def test_a_pin_outside_the_actor_pool_comes_first_with_the_pool_after_it() -> None:
    router = Router(settings())
    router.pins.pin("s", "r2")  # a person swapped the actor to a configured non-actor
    assert router.actor_order("s") == ["r2", "a1", "a2"]
    plan = router.choose("s", has_tools=True, verdict=verdict("plan"))
    assert plan.candidates == ["r2", "a1", "a2"] and plan.actor == "r2"
    router.pins.pin("s", "gone")  # no longer configured: ignored, never called
    assert router.actor_order("s") == ["a1", "a2"]


def test_pin_table_is_bounded_lru() -> None:
    only = [{"id": "a", "type": "simulated", "model": "a"}]
    router = Router(load_settings(os.devnull, upstreams=only, pools={"actor": ["a"]},
                                  routing={"affinity_max_sessions": 2}))
    router.pins.pin("s1", "a")
    router.pins.pin("s2", "a")
    router.pins.get("s1")
    router.pins.pin("s3", "a")
    assert "s1" in router.pins and "s3" in router.pins and "s2" not in router.pins
    assert len(router.pins) == 2


def test_overrides_from_headers_and_openai_body() -> None:
    assert Overrides.parse({"x-fusion-route": "plan"}).tier == "plan"
    assert Overrides.parse({"x-fusion-route": "single"}).mode == "single"
    assert Overrides.parse({}, {"fusion_tier": "compact"}).tier == "compact"
    parsed = Overrides.parse({"x-fusion-panel": "a+b", "x-fusion-depth": "1"})
    assert parsed.panel == ("a", "b") and parsed.depth == 1
    for bad in ({"x-fusion-route": "fastest"}, {"x-fusion-tier": "huge"},
                {"x-fusion-depth": "deep"}):
        with pytest.raises(RouteOverrideError):
            Overrides.parse(bad)


def test_forced_tier_skips_the_gate_and_says_why() -> None:
    router = Router(settings())
    overrides = Overrides.parse({"x-fusion-tier": "compact"})
    assert not router.needs_gate(overrides)
    plan = router.choose("s", overrides=overrides)
    assert plan.candidates == ["fast"] and plan.reason == "override:tier"


def test_recursion_guard_never_fans_out_twice() -> None:
    router = Router(settings("all"))
    overrides = Overrides.parse({"x-fusion-depth": "1"})
    assert not router.needs_gate(overrides)
    plan = router.choose("s", overrides=overrides)
    assert plan.mode == "single" and plan.reason == "depth_guard:1"


def test_panel_takes_tool_free_hard_requests_never_tools() -> None:
    plan = Router(settings("all", panel=["r1", "r2"])).choose("s")
    assert plan.mode == "all" and plan.panel == ["r1", "r2"]
    smart = Router(settings(panel=["r1", "r2"]))
    assert smart.choose("s", verdict=verdict("plan")).panel == ["r1", "r2"]
    assert smart.choose("s", verdict=verdict("regular")).panel == []
    assert smart.choose("s", has_tools=True, verdict=verdict("plan")).panel == []
    header_panel = Overrides.parse({"x-fusion-panel": "a1+fast"})
    assert smart.choose("s", overrides=header_panel,
                        verdict=verdict("plan")).panel == ["a1", "fast"]
