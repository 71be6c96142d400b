"""Council variants over HTTP with the official SDK: a self-consistency council that samples
the (real-protocol) actor at its own temperatures, without a judge, so the actor's request
carries the anonymised opinions under the fixed header; the route says all of it; the
recording keeps the seats."""

from __future__ import annotations

import anthropic

from fusion_tui.council.prompts import OPINIONS_PREAMBLE
from fusion_tui.sessions.replay import read_recording
from tests.server.test_council_http import TOOL_TURN, events_of, sim


async def test_self_consistency_without_a_judge_through_the_anthropic_sdk(
        make_settings, start_proxy, fake_anthropic):
    fake, base = fake_anthropic
    fake.text = "read notes.md first, then split the module"
    actor = {"id": "real", "type": "anthropic", "base_url": base, "model": "claude-up"}
    settings = make_settings(
        upstreams=[actor, sim("judge")],
        pools={"actor": ["real"], "judge": ["judge"]},
        council={"deadline_s": 5, "synthesize": False, "self_consistency": {
            "upstream": "actor", "samples": 3, "temperatures": [0.2, 0.6, 1.0]}})
    runtime = await start_proxy(settings)
    seen = events_of(runtime)
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        raw = await client.messages.with_raw_response.create(
            **TOOL_TURN, extra_headers={"x-fusion-tier": "plan",
                                        "x-fusion-session": "variants"})
    message = await raw.parse()
    assert message.content[0].text == fake.text  # type: ignore[union-attr]
    route = raw.headers["x-fusion-route"]
    assert "council=real#1+real#2+real#3" in route
    assert route.endswith("reason=override:tier,self_consistency:real,judge:skipped,council")
    advisor_calls, actor_calls = fake.requests[:3], fake.requests[3:]
    assert sorted(r.body["temperature"] for r in advisor_calls) == [0.2, 0.6, 1.0]
    assert all(r.body["stream"] is True and "tools" not in r.body for r in advisor_calls)
    assert len(actor_calls) == 1
    briefing = actor_calls[0].body["messages"][-1]["content"][-1]["text"]
    assert OPINIONS_PREAMBLE in briefing
    assert [f"### Advisor {x}" in briefing for x in "ABC"] == [True] * 3
    assert briefing.count(fake.text) == 3
    assert "judge" not in {e.upstream_id for e in seen if e.kind == "cost_recorded"}
    await runtime.stop()
    recording = read_recording(runtime.settings.sessions.path / "variants.jsonl")
    convened = next(e for e in recording.events if e.kind == "council_convened")
    assert convened.advisors == ["real#1", "real#2", "real#3"]  # type: ignore[attr-defined]
    assert convened.sampled == "real" and convened.judge is None  # type: ignore[attr-defined]
    assert convened.temperatures == {  # type: ignore[attr-defined]
        "real#1": 0.2, "real#2": 0.6, "real#3": 1.0}
