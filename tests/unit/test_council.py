"""Council-then-act: deliberation, deadline, quorum, judge, hold, cancellation, injection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest

from fusion_tui.config import UpstreamSettings
from fusion_tui.config.council import CouncilSettings, Price
from fusion_tui.council.costs import CostBook, cost_of
from fusion_tui.council.hold import HoldDesk
from fusion_tui.council.inject import inject_anthropic, inject_openai
from fusion_tui.council.orchestrator import Council, CouncilContext
from fusion_tui.council.prompts import BRIEFING_OPEN
from fusion_tui.events import Event
from fusion_tui.upstreams.base import UpstreamError, UpstreamReply
from fusion_tui.upstreams.simulated import SimulatedUpstream

READ = {"name": "Read", "description": "Read a file from disk.\nMore.",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}

BODY: dict[str, Any] = {
    "model": "claude", "max_tokens": 4000, "stream": True,
    "system": [{"type": "text", "text": "You are Claude Code.",
                "cache_control": {"type": "ephemeral"}}],
    "tools": [READ],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "read hello.txt and fix it"}]},
        {"role": "system", "content": "Primary working directory: /w"},
    ],
}


class Recording:
    """Wraps an upstream and keeps the bodies it was sent."""

    def __init__(self, inner: SimulatedUpstream) -> None:
        self.inner = inner
        self.settings = inner.settings
        self.protocol = inner.protocol
        self.bodies: list[dict[str, Any]] = []

    async def messages(self, body: dict[str, Any], headers: Mapping[str, str]) -> UpstreamReply:
        self.bodies.append(body)
        return await self.inner.messages(body, headers)

    async def count_tokens(self, body: dict[str, Any],
                           headers: Mapping[str, str]) -> UpstreamReply:
        return await self.inner.count_tokens(body, headers)

    async def close(self) -> None:
        pass


def sim(uid: str, first_token_ms: float = 1, **extra: Any) -> Recording:
    return Recording(SimulatedUpstream(UpstreamSettings(
        id=uid, type="simulated", model=uid, first_token_ms=first_token_ms,
        tokens_per_s=5000, **extra)))


def context(upstreams: dict[str, Recording], events: list[Event], desk: HoldDesk | None = None,
            prices: dict[str, Price] | None = None, **council: Any) -> CouncilContext:
    return CouncilContext(
        session_id="s", request_id="r1", upstreams=upstreams,  # type: ignore[arg-type]
        settings=CouncilSettings(**council), publish=events.append,
        costs=CostBook(prices or {}, events.append), hold_desk=desk, tier="plan")


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events if e.kind != "advisor_delta" and e.kind != "briefing_delta"]


async def test_council_briefs_the_actor_with_anonymised_opinions() -> None:
    ups = {"a": sim("adv-a"), "b": sim("adv-b"), "j": sim("judge")}
    events: list[Event] = []
    outcome = await Council(context(ups, events)).convene(BODY, "actor", ["a", "b"], "j")
    assert outcome.status == "briefed" and outcome.briefing is not None
    assert outcome.briefing.startswith(BRIEFING_OPEN)
    assert "## Recommended next action" in outcome.briefing
    assert "call Read with file_path set to hello.txt" in outcome.briefing
    assert kinds(events) == ["council_convened", "cost_recorded", "advisor_finished",
                             "cost_recorded", "advisor_finished", "cost_recorded",
                             "briefing_ready"]
    assert any(e.kind == "advisor_delta" for e in events)
    assert any(e.kind == "briefing_delta" for e in events)
    advisor_request = ups["a"].bodies[0]
    assert "tools" not in advisor_request
    assert "- Read: Read a file from disk." in advisor_request["system"]
    assert all(m["role"] in ("user", "assistant") for m in advisor_request["messages"])
    judge_text = json.dumps(ups["j"].bodies[0])
    assert "Advisor A" in judge_text and "Advisor B" in judge_text
    assert "adv-a" not in judge_text and "adv-b" not in judge_text


async def test_perspective_reaches_only_its_advisor() -> None:
    ups = {"a": sim("a"), "b": sim("b"), "j": sim("j")}
    events: list[Event] = []
    await Council(context(ups, events, advisors={"b": {"perspective": "adversarial reviewer"}})
                  ).convene(BODY, "x", ["a", "b"], "j")
    assert "adversarial reviewer" in ups["b"].bodies[0]["system"]
    assert "adversarial reviewer" not in ups["a"].bodies[0]["system"]


async def test_late_advisor_is_cut_and_marked_partial() -> None:
    ups = {"fast": sim("fast"), "slow": sim("slow", first_token_ms=5000), "j": sim("j")}
    events: list[Event] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await Council(context(ups, events, deadline_s=0.3)).convene(
        BODY, "x", ["fast", "slow"], "j")
    assert loop.time() - started < 2
    finished = {e.advisor: e for e in events if e.kind == "advisor_finished"}  # type: ignore[attr-defined]
    assert finished["fast"].state == "ok"
    assert finished["slow"].state == "failed"  # nothing arrived before the deadline
    assert "deadline" in finished["slow"].error
    assert outcome.status == "briefed"


async def test_partial_text_is_kept_and_labelled() -> None:
    slow = sim("slow", first_token_ms=1)
    slow.inner.settings = slow.inner.settings.model_copy(update={"tokens_per_s": 20})
    ups = {"fast": sim("fast"), "slow": slow, "j": sim("j")}
    events: list[Event] = []
    await Council(context(ups, events, deadline_s=0.4)).convene(BODY, "x", ["fast", "slow"], "j")
    finished = {e.advisor: e for e in events if e.kind == "advisor_finished"}  # type: ignore[attr-defined]
    assert finished["slow"].state == "partial" and finished["slow"].text
    assert "(cut off at the deadline; partial)" in json.dumps(ups["j"].bodies[0])


async def test_below_quorum_the_actor_goes_alone_and_it_is_said() -> None:
    ups = {"a": sim("a"), "bad": sim("bad", fault={"status": 500}), "j": sim("j")}
    events: list[Event] = []
    outcome = await Council(context(ups, events, quorum=2)).convene(BODY, "x", ["a", "bad"], "j")
    assert outcome.briefing is None and outcome.reason == "council_failed:below_quorum:1/2"
    failed = [e for e in events if e.kind == "council_failed"]
    assert failed and "below_quorum" in failed[0].reason  # type: ignore[attr-defined]
    states = {e.advisor: e.state for e in events if e.kind == "advisor_finished"}  # type: ignore[attr-defined]
    assert states == {"a": "ok", "bad": "failed"}


async def test_judge_error_means_no_briefing() -> None:
    ups = {"a": sim("a"), "j": sim("j", fault={"status": 529})}
    events: list[Event] = []
    outcome = await Council(context(ups, events)).convene(BODY, "x", ["a"], "j")
    assert outcome.reason == "council_failed:judge_error" and outcome.briefing is None


async def test_without_synthesis_the_labelled_opinions_go_raw() -> None:
    ups = {"a": sim("a"), "b": sim("b")}
    events: list[Event] = []
    outcome = await Council(context(ups, events, synthesize=False)).convene(
        BODY, "x", ["a", "b"], None)
    assert outcome.briefing is not None
    assert "### Advisor A" in outcome.briefing and "### Advisor B" in outcome.briefing


@pytest.mark.parametrize(("decision", "text", "expected"), [
    ("approve", None, "held"), ("edit", "EDITED BY A PERSON", "EDITED BY A PERSON"),
    ("skip", None, None)])
async def test_hold_approve_edit_skip(decision: str, text: str | None,
                                      expected: str | None) -> None:
    desk = HoldDesk()
    desk.attached = True
    ups = {"a": sim("a"), "j": sim("j")}
    events: list[Event] = []
    task = asyncio.create_task(Council(context(ups, events, desk, hold="plan")).convene(
        BODY, "x", ["a"], "j"))
    for _ in range(500):
        if "r1" in desk.pending:
            break
        await asyncio.sleep(0.01)
    assert desk.decide("r1", decision, text)
    outcome = await task
    decided = next(e for e in events if e.kind == "briefing_decided")
    assert decided.decision == decision  # type: ignore[attr-defined]
    if expected is None:
        assert outcome.briefing is None and outcome.status == "skipped"
    elif expected == "held":
        assert outcome.briefing is not None and "## Recommended next action" in outcome.briefing
    else:
        assert outcome.briefing is not None and expected in outcome.briefing


async def test_hold_times_out_as_configured_and_is_not_used_without_a_dashboard() -> None:
    desk = HoldDesk()
    desk.attached = True
    ups = {"a": sim("a"), "j": sim("j")}
    events: list[Event] = []
    outcome = await Council(context(ups, events, desk, hold="always", hold_timeout_s=0.05,
                                    hold_timeout_action="skip")).convene(BODY, "x", ["a"], "j")
    assert outcome.briefing is None
    assert next(e for e in events if e.kind == "briefing_decided").decision == "timeout"  # type: ignore[attr-defined]
    desk.attached = False
    events.clear()
    outcome = await Council(context(ups, events, desk, hold="always")).convene(
        BODY, "x", ["a"], "j")
    assert outcome.briefing is not None
    assert not [e for e in events if e.kind == "briefing_held"]


async def test_cancelling_the_council_cancels_every_advisor() -> None:
    ups = {"a": sim("a", first_token_ms=10_000), "b": sim("b", first_token_ms=10_000),
           "j": sim("j")}
    events: list[Event] = []
    task = asyncio.create_task(Council(context(ups, events)).convene(BODY, "x", ["a", "b"], "j"))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    leftovers = [t for t in asyncio.all_tasks() if t.get_name().startswith("advisor:")]
    assert leftovers == []


def test_injection_keeps_the_prefix_byte_identical() -> None:
    body = json.loads(json.dumps(BODY))
    body["messages"].append({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": "x",
         "cache_control": {"type": "ephemeral"}}]})
    out = inject_anthropic(body, "BRIEF")
    dumps = lambda v: json.dumps(v, sort_keys=False)  # noqa: E731
    assert dumps(out["messages"][:-1]) == dumps(body["messages"][:-1])
    assert out["messages"][-1]["content"][:-1] == body["messages"][-1]["content"]
    assert out["messages"][-1]["content"][-1] == {"type": "text", "text": "BRIEF"}
    assert dumps({k: v for k, v in out.items() if k != "messages"}) == dumps(
        {k: v for k, v in body.items() if k != "messages"})
    ends_with_system = inject_anthropic(BODY, "BRIEF")
    assert ends_with_system["messages"][:2] == BODY["messages"]
    assert ends_with_system["messages"][2]["role"] == "system"
    assert inject_openai({"messages": [{"role": "user", "content": "q"}]}, "B")["messages"][-1] == {
        "role": "system", "content": "B"}


def test_costs_and_budget() -> None:
    events: list[Event] = []
    price = Price(input=3, output=15, cache_read=0.3, cache_write=3.75)
    assert cost_of({"input_tokens": 1_000_000, "output_tokens": 1_000_000,
                    "cache_read_input_tokens": 1_000_000}, price) == pytest.approx(18.3)
    book = CostBook({"a": price}, events.append)
    book.record("s", "r", "a", "advisor", {"input_tokens": 100_000, "output_tokens": 10_000})
    assert book.budget_left("s", 1.0) and not book.budget_left("s", 0.4)
    assert book.request_total("r") == pytest.approx(0.45)
    assert events[0].kind == "cost_recorded" and events[0].session_total_usd == pytest.approx(0.45)  # type: ignore[attr-defined]


async def test_panel_gathers_anonymised_answers_and_ranks() -> None:
    from fusion_tui.config.council import PanelSettings
    from fusion_tui.council.panel import gather_answers, judge_request, pick_ranked

    ups = {"p1": sim("p1"), "p2": sim("p2"), "bad": sim("bad", fault={"status": 500})}
    events: list[Event] = []
    ctx = context(ups, events)
    body = {"model": "m", "max_tokens": 300, "stream": True, "tools": [READ],
            "messages": [{"role": "user", "content": "compare two designs for a cache"}]}
    result = await gather_answers(body, ["p1", "p2", "bad"], ctx, PanelSettings())
    assert sorted(result.labels.values()) == ["A", "B"]
    assert {a.member: a.state for a in result.answers} == {"p1": "ok", "p2": "ok",
                                                           "bad": "failed"}
    assert all("tools" not in b for b in ups["p1"].bodies)
    finished = [e for e in events if e.kind == "panel_member_finished"]
    assert len(finished) == 3
    request = judge_request(body, result, "j", "synthesize")
    assert request["stream"] is True and request["max_tokens"] == 300
    assert "### Answer A" in request["messages"][-1]["content"]
    import re
    assert re.findall(r"### Answer (\S+)", request["messages"][-1]["content"]) == ["A", "B"]
    ranked = judge_request(body, result, "j", "rank")
    assert "stream" not in ranked
    letter_b = next(a for a in result.usable if result.labels[a.member] == "B")
    assert pick_ranked(result, "B\nbecause") == (letter_b, True)
    assert pick_ranked(result, "no idea")[1] is False


async def test_text_call_fails_on_stream_data_that_is_not_an_object() -> None:
    """A broken stream makes the advisor's call fail (said, with the reason), never a crash
    and never a sound-looking answer."""
    from collections.abc import AsyncIterator

    from fusion_tui.council.calls import TextResult, stream_text
    from fusion_tui.protocols.sse import encode_sse

    class Odd:
        settings = sim("odd").settings

        async def messages(self, body: dict[str, Any], headers: Any) -> UpstreamReply:
            async def chunks() -> AsyncIterator[bytes]:
                yield encode_sse("message_start", {"type": "message_start", "message": {}})
                yield b"data: 42\n\ndata: [1, 2]\n\n"
                yield encode_sse("content_block_delta", {
                    "type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": "still here"}})
                yield encode_sse("message_stop", {"type": "message_stop"})
            return UpstreamReply(200, {}, stream=chunks())

    result = TextResult()
    with pytest.raises(UpstreamError, match=r"odd: malformed event: .*not a JSON object"):
        await stream_text(Odd(), {}, {}, result)  # type: ignore[arg-type]
    assert result.text == "" and not result.finished
