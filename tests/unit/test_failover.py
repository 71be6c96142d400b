"""Failover order, Retry-After, breakers, and no failover once a stream has produced bytes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from fusion_tui.routing.failover import Attempt, CircuitBreakers, call_with_failover
from fusion_tui.upstreams.base import UpstreamError, UpstreamReply
from tests.support.streams import ScriptedStream


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def scripted(script: dict[str, list[object]]):
    calls: list[str] = []

    async def call(upstream_id: str) -> UpstreamReply:
        calls.append(upstream_id)
        outcome = script[upstream_id].pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, UpstreamReply)
        return outcome

    return call, calls


def ok() -> UpstreamReply:
    return UpstreamReply(200, {}, body=b"{}")


def status(code: int, retry_after: str | None = None) -> UpstreamReply:
    headers = {"retry-after": retry_after} if retry_after else {}
    return UpstreamReply(code, headers, body=b'{"type":"error"}')


async def test_transport_error_and_5xx_move_to_the_next_member() -> None:
    call, calls = scripted({"a": [UpstreamError("refused")], "b": [status(503)], "c": [ok()]})
    failures: list[tuple[Attempt, bool]] = []
    result = await call_with_failover(["a", "b", "c"], call, CircuitBreakers(),
                                      on_failure=lambda a, r: failures.append((a, r)))
    assert result.upstream_id == "c" and result.reply is not None and result.reply.ok
    assert calls == ["a", "b", "c"]
    assert [(f.upstream_id, f.status, retry) for f, retry in failures] == [
        ("a", 0, True), ("b", 503, True)]
    assert result.failed_over


async def test_client_errors_are_relayed_without_failover() -> None:
    call, calls = scripted({"a": [status(400)], "b": [ok()]})
    result = await call_with_failover(["a", "b"], call, CircuitBreakers())
    assert calls == ["a"] and result.reply is not None and result.reply.status == 400


async def test_auth_errors_try_another_member_but_are_relayed_when_last() -> None:
    call, calls = scripted({"a": [status(401)], "b": [status(403)]})
    result = await call_with_failover(["a", "b"], call, CircuitBreakers())
    assert calls == ["a", "b"]
    assert result.reply is not None and result.reply.status == 403


async def test_retry_after_on_the_last_member_is_waited_out_once() -> None:
    call, calls = scripted({"a": [status(429, "0.01"), ok()]})
    result = await call_with_failover(["a"], call, CircuitBreakers(), max_retry_wait_s=1)
    assert calls == ["a", "a"] and result.reply is not None and result.reply.ok


async def test_long_retry_after_is_not_waited_and_the_429_is_relayed() -> None:
    call, calls = scripted({"a": [status(429, "60")]})
    result = await call_with_failover(["a"], call, CircuitBreakers(), max_retry_wait_s=1)
    assert calls == ["a"] and result.reply is not None and result.reply.status == 429


async def test_every_member_failing_returns_the_last_error() -> None:
    call, _ = scripted({"a": [UpstreamError("down a")], "b": [UpstreamError("down b")]})
    result = await call_with_failover(["a", "b"], call, CircuitBreakers())
    assert result.reply is None and str(result.error) == "down b"
    assert [a.upstream_id for a in result.attempts] == ["a", "b"]


async def test_stream_that_dies_before_its_first_byte_fails_over() -> None:
    async def dead() -> AsyncIterator[bytes]:
        raise UpstreamError("cut at once")
        yield b""  # pragma: no cover

    async def fine() -> AsyncIterator[bytes]:
        yield b"event: a\ndata: {}\n\n"
        yield b"event: b\ndata: {}\n\n"

    call, _ = scripted({"a": [UpstreamReply(200, {}, stream=dead())],
                        "b": [UpstreamReply(200, {}, stream=fine())]})
    result = await call_with_failover(["a", "b"], call, CircuitBreakers())
    assert result.upstream_id == "b" and result.reply is not None
    assert result.reply.stream is not None
    assert [c async for c in result.reply.stream] == [b"event: a\ndata: {}\n\n",
                                                      b"event: b\ndata: {}\n\n"]


def test_breaker_opens_half_opens_and_backs_off_with_a_cap() -> None:
    clock = Clock()
    changes: list[tuple[str, str]] = []
    breakers = CircuitBreakers(threshold=2, base_s=10, max_s=25, clock=clock,
                               on_change=lambda u, s, r: changes.append((u, s)))
    breakers.record_failure("a", "boom")
    assert breakers.allows("a")
    breakers.record_failure("a", "boom")
    assert not breakers.allows("a")
    assert breakers.snapshot()["a"]["retry_in_s"] == 10
    clock.now += 10
    assert breakers.allows("a")  # half-open probe
    breakers.record_failure("a", "still down")
    assert not breakers.allows("a")
    assert breakers.snapshot()["a"]["retry_in_s"] == 20  # doubled
    clock.now += 20
    assert breakers.allows("a")
    breakers.record_failure("a", "still down")
    assert breakers.snapshot()["a"]["retry_in_s"] == 25  # capped
    clock.now += 25
    assert breakers.allows("a")
    breakers.record_success("a")
    assert breakers.snapshot()["a"]["state"] == "closed"
    assert changes == [("a", "open"), ("a", "half_open"), ("a", "open"), ("a", "half_open"),
                       ("a", "open"), ("a", "half_open"), ("a", "closed")]


async def test_open_breaker_is_skipped() -> None:
    clock = Clock()
    breakers = CircuitBreakers(threshold=1, clock=clock)
    breakers.record_failure("a", "down")
    call, calls = scripted({"a": [ok()], "b": [ok()]})
    result = await call_with_failover(["a", "b"], call, breakers)
    assert calls == ["b"] and result.upstream_id == "b"


def streamed(stream: ScriptedStream) -> UpstreamReply:
    return UpstreamReply(200, {}, stream=stream)


@pytest.mark.parametrize("garbage", [b"data: {not json\n\n", b"data: [1, 2]\n\n",
                                     b'data: "text"\n\n'])
async def test_malformed_first_event_fails_over_and_the_bad_stream_is_closed(
        garbage: bytes) -> None:
    bad = ScriptedStream(b": keep-alive\n\nevent: message_start\n" + garbage)
    call, calls = scripted({"a": [streamed(bad)],
                            "b": [streamed(ScriptedStream(b'data: {"ok":1}\n\n'))]})
    failures: list[Attempt] = []
    result = await call_with_failover(["a", "b"], call, CircuitBreakers(),
                                      on_failure=lambda a, r: failures.append(a))
    assert calls == ["a", "b"] and result.upstream_id == "b"
    assert "a: malformed first event" in failures[0].error
    assert bad.closed


async def test_only_the_first_event_is_judged_before_the_relay() -> None:
    """Later events, even in the same read, are the relay's to judge as they go out (parsing
    a whole first chunk, often the whole answer, would delay the client's first byte)."""
    chunk = b'event: message_start\ndata: {"type":"message_start"}\n\ndata: {not json\n\n'
    call, calls = scripted({"a": [streamed(ScriptedStream(chunk))]})
    result = await call_with_failover(["a", "b"], call, CircuitBreakers())
    assert calls == ["a"] and result.reply is not None and result.reply.stream is not None
    assert [c async for c in result.reply.stream] == [chunk]


async def test_peek_waits_for_the_first_event_and_gives_everything_back() -> None:
    parts = [b": keep-alive\n\n", b"event: message_start\nda", b'ta: {"a":1}\n\n',
             b"data: {not json\n\n"]
    call, _ = scripted({"a": [streamed(ScriptedStream(*parts))]})
    result = await call_with_failover(["a"], call, CircuitBreakers())
    assert result.reply is not None and result.reply.stream is not None
    assert [c async for c in result.reply.stream] == parts  # later garbage is the relay's


async def test_done_first_is_an_event_and_comments_alone_are_not() -> None:
    call, _ = scripted({"a": [streamed(ScriptedStream(b"data: [DONE]\n\n"))],
                        "b": [streamed(ScriptedStream(b": ping\n\n", b"event: x\n\n"))]})
    result = await call_with_failover(["a"], call, CircuitBreakers())
    assert result.reply is not None and result.reply.ok
    result = await call_with_failover(["b"], call, CircuitBreakers())
    assert result.reply is None and str(result.error) == "b: stream ended before any event"


def test_half_open_lets_one_probe_through_not_every_call() -> None:
    clock = Clock()
    breakers = CircuitBreakers(threshold=1, base_s=10, clock=clock)
    breakers.record_failure("a", "down")
    clock.now += 10
    assert breakers.allows("a")  # the probe
    assert not breakers.allows("a") and not breakers.allows("a")  # everyone else waits
    assert breakers.snapshot()["a"]["state"] == "half_open"
    breakers.record_success("a")
    assert breakers.allows("a") and breakers.allows("a")  # closed: everyone


def test_a_probe_that_says_nothing_about_health_frees_the_slot() -> None:
    clock = Clock()
    breakers = CircuitBreakers(threshold=1, base_s=10, clock=clock)
    breakers.record_failure("a", "down")
    clock.now += 10
    assert breakers.allows("a")
    breakers.release_probe("a")
    assert breakers.allows("a") and not breakers.allows("a")


def test_a_lost_probe_blocks_only_for_one_back_off_period() -> None:
    clock = Clock()
    breakers = CircuitBreakers(threshold=1, base_s=10, clock=clock)
    breakers.record_failure("a", "down")
    clock.now += 10
    assert breakers.allows("a")  # its outcome never reported
    clock.now += 9
    assert not breakers.allows("a")
    clock.now += 1
    assert breakers.allows("a")


async def test_concurrent_calls_to_a_half_open_upstream_send_one_probe() -> None:
    clock = Clock()
    breakers = CircuitBreakers(threshold=1, base_s=10, clock=clock)
    breakers.record_failure("a", "down")
    clock.now += 10
    sent: list[str] = []
    gate = asyncio.Event()

    async def call(upstream_id: str) -> UpstreamReply:
        sent.append(upstream_id)
        if upstream_id == "a":
            await gate.wait()
        return UpstreamReply(200, body=b"{}")

    runs = [asyncio.ensure_future(call_with_failover(["a", "b"], call, breakers))
            for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*runs)
    assert sent.count("a") == 1 and sent.count("b") == 4
    assert sorted(r.upstream_id for r in results) == ["a", "b", "b", "b", "b"]
