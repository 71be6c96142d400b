"""Council-then-act and the panel through the HTTP surface, with simulated advisors and a
local Anthropic-protocol actor that records what it was sent."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import anthropic
import openai

from fusion_tui.events import Event
from tests.support.http import call

READ = {"name": "Read", "description": "Read a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                         "required": ["file_path"]}}

TOOL_TURN: dict[str, Any] = {
    "model": "claude-x", "max_tokens": 400,
    "system": [{"type": "text", "text": "You are a coding agent.",
                "cache_control": {"type": "ephemeral"}}],
    "tools": [READ],
    "messages": [
        {"role": "user", "content": "read notes.md and plan the refactor"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read",
                                           "input": {"file_path": "notes.md"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": "TODO: split the module",
                                      "cache_control": {"type": "ephemeral"}}]},
    ],
}


def sim(uid: str, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "type": "simulated", "model": uid, "first_token_ms": 1,
            "tokens_per_s": 5000, **extra}


def council_settings(make_settings, actor: dict[str, Any] | None = None, **council: Any):
    actor = actor or sim("actor")
    upstreams = [actor, sim("adv1"), sim("adv2", first_token_ms=5), sim("judge")]
    return make_settings(
        upstreams=upstreams,
        pools={"actor": [actor["id"]], "council": ["adv1", "adv2", actor["id"]],
               "judge": ["judge"], "panel": ["adv1", "adv2"]},
        council={"deadline_s": 5, **council})


def events_of(runtime) -> list[Event]:
    seen: list[Event] = []
    runtime.bus.listen(seen.append)
    return seen


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


async def test_plan_tool_turn_convenes_and_the_actor_gets_the_briefing_after_the_prefix(
        make_settings, start_proxy, fake_anthropic):
    fake, base = fake_anthropic
    actor = {"id": "real", "type": "anthropic", "base_url": base, "model": "claude-up"}
    runtime = await start_proxy(council_settings(make_settings, actor))
    seen = events_of(runtime)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                       headers={"x-fusion-tier": "plan", "x-fusion-session": "s1"})
    assert reply.status == 200, reply.text
    route = reply.headers["x-fusion-route"]
    assert "council=adv1+adv2" in route and "served_by=real" in route
    assert route.endswith("reason=override:tier,council")
    assert float(reply.headers["x-fusion-cost"]) == 0.0
    sent = fake.requests[-1].body
    # Everything up to the client's last cache breakpoint is byte-identical.
    for key in ("system", "tools", "max_tokens"):
        assert json.dumps(sent[key]) == json.dumps(TOOL_TURN[key])
    assert json.dumps(sent["messages"][:-1]) == json.dumps(TOOL_TURN["messages"][:-1])
    last = sent["messages"][-1]["content"]
    assert json.dumps(last[:-1]) == json.dumps(TOOL_TURN["messages"][-1]["content"])
    assert last[-1]["type"] == "text" and "<council-briefing>" in last[-1]["text"]
    assert "## Recommended next action" in last[-1]["text"]
    order = kinds(seen)
    assert order.index("council_convened") < order.index("briefing_ready") < order.index(
        "actor_started")
    finished = [e for e in seen if e.kind == "advisor_finished"]
    assert sorted(e.advisor for e in finished) == ["adv1", "adv2"]  # type: ignore[attr-defined]
    started = next(e for e in seen if e.kind == "actor_started")
    assert started.briefed  # type: ignore[attr-defined]


async def test_no_council_below_the_trigger_and_none_without_tools(make_settings, start_proxy):
    runtime = await start_proxy(council_settings(make_settings))
    seen = events_of(runtime)
    for tier in ("compact", "regular"):
        reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                           headers={"x-fusion-tier": tier})
        assert reply.status == 200 and "council=" not in reply.headers["x-fusion-route"]
    assert "council_convened" not in kinds(seen)


async def test_streaming_client_gets_its_stream_open_and_pinged_while_the_council_sits(
        make_settings, start_proxy):
    settings = council_settings(make_settings, ping_interval_s=0.05)
    settings.upstreams[2].first_token_ms = 600  # a slow advisor
    runtime = await start_proxy(settings)
    async with aiohttp.ClientSession() as session, session.post(
            runtime.address + "/v1/messages", json={**TOOL_TURN, "stream": True},
            headers={"x-fusion-tier": "plan"}) as resp:
        first = await resp.content.readline()
        text = first.decode() + (await resp.read()).decode()
    assert first.startswith(b"event: message_start")
    assert text.count("event: ping") >= 3
    assert text.count("event: message_start") == 1
    assert ": x-fusion-route: " in text and "council=adv1+adv2" in text
    assert text.rstrip().endswith('data: {"type":"message_stop"}')
    async with anthropic.AsyncAnthropic(base_url=runtime.address, api_key="t",
                                        max_retries=0) as client:
        async with client.messages.stream(**TOOL_TURN,
                                          extra_headers={"x-fusion-tier": "plan"}) as stream:
            final = await stream.get_final_message()
    assert final.stop_reason == "end_turn" and "TODO: split the module" in final.content[0].text
    assert final.usage.input_tokens > 0  # carried from the actor into message_delta


async def test_failed_council_lets_the_actor_go_alone_and_says_so(make_settings, start_proxy):
    settings = council_settings(make_settings, quorum=2)
    settings.upstreams[1].fault.status = 500
    runtime = await start_proxy(settings)
    seen = events_of(runtime)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                       headers={"x-fusion-tier": "plan"})
    assert reply.status == 200
    assert reply.headers["x-fusion-route"].endswith(
        "reason=override:tier,council_failed:below_quorum:1/2")
    assert "council_failed" in kinds(seen)
    assert not next(e for e in seen if e.kind == "actor_started").briefed  # type: ignore[attr-defined]


async def test_client_hanging_up_mid_council_cancels_everything(make_settings, start_proxy):
    settings = council_settings(make_settings)
    settings.upstreams[1].first_token_ms = 5000
    settings.upstreams[2].first_token_ms = 5000
    runtime = await start_proxy(settings)
    seen = events_of(runtime)
    timeout = aiohttp.ClientTimeout(total=0.3)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            async with session.post(runtime.address + "/v1/messages", json=TOOL_TURN,
                                    headers={"x-fusion-tier": "plan"}) as resp:
                await resp.read()
        except TimeoutError:
            pass
    for _ in range(100):
        if "request_cancelled" in kinds(seen):
            break
        await asyncio.sleep(0.02)
    assert "request_cancelled" in kinds(seen)
    await asyncio.sleep(0.05)
    left = [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(
        ("advisor:", "panel:"))]
    assert left == []
    assert runtime.state.controls.inflight == {}
    finished = next(e for e in seen if e.kind == "response_finished")
    assert finished.status == 499  # type: ignore[attr-defined]


async def test_budget_stops_councils_once_spent(make_settings, start_proxy):
    settings = council_settings(make_settings, budget_usd=0.000001)
    for upstream in settings.upstreams:
        upstream.price = type(upstream).model_fields["price"].annotation.__args__[0](
            input=100, output=100)
    runtime = await start_proxy(settings)
    seen = events_of(runtime)
    headers = {"x-fusion-tier": "plan", "x-fusion-session": "spender"}
    first = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                       headers=headers)
    second = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                        headers=headers)
    assert "council=" in first.headers["x-fusion-route"]
    assert float(first.headers["x-fusion-cost"]) > 0
    assert "council_skipped:budget_spent" in second.headers["x-fusion-route"]
    assert kinds(seen).count("council_convened") == 1
    assert "council_skipped" in kinds(seen)


async def test_held_briefing_edited_by_a_person_is_what_the_actor_gets(
        make_settings, start_proxy, fake_anthropic):
    fake, base = fake_anthropic
    actor = {"id": "real", "type": "anthropic", "base_url": base, "model": "claude-up"}
    runtime = await start_proxy(council_settings(make_settings, actor, hold="plan"))
    runtime.state.hold_desk.attached = True
    seen = events_of(runtime)
    task = asyncio.create_task(call(runtime.address, "POST", "/v1/messages",
                                    json_body=TOOL_TURN, headers={"x-fusion-tier": "plan"}))
    for _ in range(200):
        if runtime.state.hold_desk.pending:
            break
        await asyncio.sleep(0.02)
    [request_id] = runtime.state.hold_desk.pending
    runtime.state.controls.decide_briefing(request_id, "edit", "ONLY READ, NEVER WRITE")
    reply = await task
    assert reply.status == 200
    assert reply.headers["x-fusion-route"].endswith("reason=override:tier,briefing:edited_ui")
    assert "ONLY READ, NEVER WRITE" in fake.requests[-1].body["messages"][-1]["content"][-1][
        "text"]
    assert [e.kind for e in seen if e.kind.startswith("briefing_")][-2:] == [
        "briefing_held", "briefing_decided"]


async def test_panel_synthesize_and_rank(make_settings, start_proxy):
    question = {"model": "m", "max_tokens": 300,
                "messages": [{"role": "user", "content": "compare two cache designs"}]}
    runtime = await start_proxy(council_settings(make_settings))
    seen = events_of(runtime)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=question,
                       headers={"x-fusion-route": "all"})
    assert reply.status == 200
    route = reply.headers["x-fusion-route"]
    assert "panel=adv1+adv2" in route and "served_by=judge" in route
    assert reply.json()["content"][0]["text"].startswith("[simulated judge] Combining the 2")
    assert kinds(seen).count("panel_member_finished") == 2

    ranked = await start_proxy(council_settings(make_settings) .model_copy(
        update={"panel": type(runtime.settings.panel)(method="rank")}))
    async with anthropic.AsyncAnthropic(base_url=ranked.address, api_key="t",
                                        max_retries=0) as client:
        raw = await client.messages.with_raw_response.create(
            **question, extra_headers={"x-fusion-route": "all"})
        message = await raw.parse()
        async with client.messages.stream(**question,
                                          extra_headers={"x-fusion-route": "all"}) as stream:
            streamed = await stream.get_final_message()
    served = raw.headers["x-fusion-route"].split("served_by=")[1].split(";")[0]
    assert served in ("adv1", "adv2")
    assert raw.headers["x-fusion-route"].endswith("reason=override:route,panel:rank")
    assert message.content[0].text.startswith(f"[simulated {served}]")
    # Each request shuffles the answers anew; either member's answer comes back whole.
    assert streamed.content[0].text.startswith("[simulated adv")
    assert streamed.content[0].text.split("] ", 1)[1] == message.content[0].text.split("] ", 1)[1]


async def test_openai_client_through_a_council(make_settings, start_proxy):
    runtime = await start_proxy(council_settings(make_settings))
    seen = events_of(runtime)
    tools = [{"type": "function", "function": {"name": "Read", "parameters": READ[
        "input_schema"]}}]
    async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t",
                                  max_retries=0) as client:
        completion = await client.chat.completions.create(
            model="m", tools=tools, extra_headers={"x-fusion-tier": "plan"},
            messages=[{"role": "user", "content": "read config.toml please"}])
        stream = await client.chat.completions.create(
            model="m", tools=tools, stream=True, extra_headers={"x-fusion-tier": "plan"},
            messages=[{"role": "user", "content": "read config.toml please"}])
        names = [tc.function.name async for chunk in stream for tc in
                 (chunk.choices[0].delta.tool_calls or []) if chunk.choices and
                 tc.function and tc.function.name]
    assert completion.choices[0].message.tool_calls[0].function.name == "Read"
    assert names == ["Read"]
    assert kinds(seen).count("council_convened") == 2


async def test_trigger_always_convenes_on_every_tool_turn_and_off_is_said(make_settings,
                                                                          start_proxy):
    runtime = await start_proxy(council_settings(make_settings, trigger="always"))
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN)
    assert "council=adv1+adv2" in reply.headers["x-fusion-route"]
    runtime.state.controls.set_council(False)
    off = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN)
    assert off.headers["x-fusion-route"].endswith("reason=override:ui,council_off")
    again = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN)
    assert again.headers["x-fusion-route"].endswith("reason=council_off")  # told once
    plain = await call(runtime.address, "POST", "/v1/messages", json_body={
        k: v for k, v in TOOL_TURN.items() if k != "tools"} | {"messages": [
            {"role": "user", "content": "hi"}]})
    assert "council" not in plain.headers["x-fusion-route"]


async def test_actor_failing_after_the_council_opened_the_stream_is_a_clean_error(
        make_settings, start_proxy):
    settings = council_settings(make_settings)
    settings.upstreams[0].fault.status = 500  # the actor
    runtime = await start_proxy(settings)
    reply = await call(runtime.address, "POST", "/v1/messages",
                       json_body={**TOOL_TURN, "stream": True},
                       headers={"x-fusion-tier": "plan"})
    assert reply.status == 200 and reply.text.startswith("event: message_start")
    assert "event: error" in reply.text
    assert '"message":"upstream actor: simulated fault on actor: HTTP 500"' in reply.text
    assert "event: message_stop" not in reply.text
    assert reply.text.count(": x-fusion-route:") == 1
    assert "failover" not in reply.text
    async with openai.AsyncOpenAI(base_url=runtime.address + "/v1", api_key="t",
                                  max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", stream=True, extra_headers={"x-fusion-tier": "plan"},
            tools=[{"type": "function", "function": {"name": "Read",
                                                     "parameters": READ["input_schema"]}}],
            messages=[{"role": "user", "content": "read a.py"}])
        failed = False
        try:
            async for _ in stream:
                pass
        except openai.APIError as exc:
            failed = "simulated fault on actor" in str(exc)
    assert failed


def reasons(route: str) -> list[str]:
    """The reason tokens of an x-fusion-route value."""
    for part in route.split("; "):
        if part.startswith("reason="):
            return part.removeprefix("reason=").split(",")
    return []


async def plan_turn(runtime, session: str = "s1") -> Any:
    """One non-streamed tool turn at the plan tier in `session`."""
    return await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                      headers={"x-fusion-tier": "plan", "x-fusion-session": session})


def convened(seen: list[Event], session: str) -> list[list[str]]:
    """The advisors of each council that convened for `session`."""
    return [e.advisors for e in seen  # type: ignore[attr-defined]
            if e.kind == "council_convened" and e.session_id == session]


async def test_muting_an_advisor_in_one_session_leaves_it_out_of_that_sessions_council(
        make_settings, start_proxy):
    runtime = await start_proxy(council_settings(make_settings))
    seen = events_of(runtime)
    runtime.state.controls.mute_advisor("adv1", session_id="s1")
    muted = await plan_turn(runtime, "s1")
    assert "council=adv2;" in muted.headers["x-fusion-route"]
    assert reasons(muted.headers["x-fusion-route"]) == ["override:tier", "override:ui", "council"]
    other = await plan_turn(runtime, "s2")
    assert "council=adv1+adv2;" in other.headers["x-fusion-route"]
    assert "override:ui" not in reasons(other.headers["x-fusion-route"])
    assert convened(seen, "s1") == [["adv2"]] and convened(seen, "s2") == [["adv1", "adv2"]]
    again = await plan_turn(runtime, "s1")
    assert "council=adv2;" in again.headers["x-fusion-route"]
    assert "override:ui" not in reasons(again.headers["x-fusion-route"])


async def test_muting_an_advisor_everywhere_leaves_it_out_of_every_council(make_settings,
                                                                          start_proxy):
    runtime = await start_proxy(council_settings(make_settings))
    seen = events_of(runtime)
    await plan_turn(runtime, "s1")
    runtime.state.controls.mute_advisor("adv2")
    for session in ("s1", "s2"):
        reply = await plan_turn(runtime, session)
        assert "council=adv1;" in reply.headers["x-fusion-route"]
        assert "override:ui" in reasons(reply.headers["x-fusion-route"]), session
        assert convened(seen, session)[-1] == ["adv1"]
    later = await plan_turn(runtime, "s1")
    assert "override:ui" not in reasons(later.headers["x-fusion-route"])


async def test_council_off_for_one_session(make_settings, start_proxy):
    runtime = await start_proxy(council_settings(make_settings))
    seen = events_of(runtime)
    runtime.state.controls.set_council(False, session_id="s1")
    off = await plan_turn(runtime, "s1")
    assert "council=" not in off.headers["x-fusion-route"]
    assert reasons(off.headers["x-fusion-route"]) == ["override:tier", "override:ui",
                                                      "council_off"]
    on = await plan_turn(runtime, "s2")
    assert "council=adv1+adv2;" in on.headers["x-fusion-route"]
    assert convened(seen, "s1") == [] and len(convened(seen, "s2")) == 1


async def test_council_off_everywhere_reaches_every_sessions_next_turn(make_settings,
                                                                      start_proxy):
    runtime = await start_proxy(council_settings(make_settings))
    runtime.state.controls.set_council(False)
    for session in ("s1", "s2"):
        off = await plan_turn(runtime, session)
        assert "council=" not in off.headers["x-fusion-route"]
        assert reasons(off.headers["x-fusion-route"]) == ["override:tier", "override:ui",
                                                          "council_off"]
    runtime.state.controls.set_council(None)
    back = await plan_turn(runtime, "s1")
    assert "council=adv1+adv2;" in back.headers["x-fusion-route"]
    assert "override:ui" in reasons(back.headers["x-fusion-route"])


async def test_forcing_plan_convenes_the_council_and_says_who_asked(make_settings,
                                                                    start_proxy):
    runtime = await start_proxy(council_settings(make_settings))
    runtime.state.controls.force_next_tier("s1", "plan")
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                       headers={"x-fusion-session": "s1"})
    assert reply.headers["x-fusion-route"] == (
        "mode=single; tier=plan; served_by=actor; actor=actor; council=adv1+adv2; "
        "reason=override:ui,council")
    after = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                       headers={"x-fusion-session": "s1"})
    assert after.headers["x-fusion-route"] == "mode=single; tier=-; served_by=actor"


async def held_turn(runtime, session: str = "s1") -> tuple[asyncio.Task[Any], str]:
    """A tool turn (no tier forced) that waits on the hold desk; its request id."""
    task = asyncio.create_task(call(runtime.address, "POST", "/v1/messages",
                                    json_body=TOOL_TURN, headers={"x-fusion-session": session}))
    for _ in range(250):
        if runtime.state.hold_desk.pending:
            break
        await asyncio.sleep(0.02)
    [request_id] = runtime.state.hold_desk.pending
    return task, request_id


async def test_hold_always_holds_the_next_council_and_each_decision_names_itself(
        make_settings, start_proxy):
    runtime = await start_proxy(council_settings(make_settings, trigger="always"))
    runtime.state.hold_desk.attached = True
    seen = events_of(runtime)
    runtime.state.controls.set_hold("always")
    task, request_id = await held_turn(runtime)
    runtime.state.controls.decide_briefing(request_id, "approve")
    approved = await task
    assert approved.status == 200
    assert reasons(approved.headers["x-fusion-route"]) == ["override:ui", "briefing:approved_ui"]
    task, request_id = await held_turn(runtime)
    runtime.state.controls.decide_briefing(request_id, "skip", source="script")
    skipped = await task
    # The decision is said in the held request's own route, and left for no later one.
    assert reasons(skipped.headers["x-fusion-route"]) == ["briefing:skipped_script"]
    started = [e for e in seen if e.kind == "actor_started"]
    assert [e.briefed for e in started] == [True, False]  # type: ignore[attr-defined]
    runtime.state.controls.set_hold("off")
    plain = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN,
                       headers={"x-fusion-session": "s1"})
    assert reasons(plain.headers["x-fusion-route"]) == ["override:ui", "council"]
    assert kinds(seen).count("briefing_held") == 2


async def test_a_held_briefing_that_times_out_says_so(make_settings, start_proxy):
    runtime = await start_proxy(council_settings(make_settings, trigger="always", hold="always",
                                                 hold_timeout_s=0.2,
                                                 hold_timeout_action="skip"))
    runtime.state.hold_desk.attached = True
    seen = events_of(runtime)
    reply = await call(runtime.address, "POST", "/v1/messages", json_body=TOOL_TURN)
    assert reply.status == 200
    assert reasons(reply.headers["x-fusion-route"]) == ["briefing:timeout"]
    assert not next(e for e in seen if e.kind == "actor_started").briefed  # type: ignore[attr-defined]
