"""The attached dashboard's event stream, sans IO: the proxy's replay buffer numbers events
in publish order, a reader resumes after the last position it published, and every event
reaches the local bus once, in the proxy's order, however reconnects and replays overlap.
And the bridge reads its queue alone (two readers posted batches out of order)."""

from __future__ import annotations

import asyncio

import pytest

from fusion_tui.events import BriefingDelta, BriefingReady, Event, EventBus, SteeringApplied
from fusion_tui.remote.events import RemoteEvents
from fusion_tui.remote.link import ProxyLink
from fusion_tui.server.events_stream import EventLog, control_frame
from fusion_tui.tui.bridge import EventBridge


def hello(log: EventLog) -> bytes:
    return control_frame("hello", {"boot": log.boot, "oldest": log.oldest,
                                   "latest": log.latest, "capacity": log.capacity})


def reader() -> tuple[RemoteEvents, list[Event]]:
    bus = EventBus()
    got: list[Event] = []
    bus.listen(got.append)
    # never connects: the test feeds it bytes
    return RemoteEvents(ProxyLink("http://127.0.0.1:9", "token"), bus), got


def briefing(n: int) -> list[Event]:
    """A briefing of `n` deltas then its readiness, created in that order."""
    deltas: list[Event] = [BriefingDelta(session_id="s", request_id="r", text=f" w{i}")
                           for i in range(n)]
    ready = BriefingReady(session_id="s", request_id="r", text="done", judge="j",
                          synthesized=False)
    return [*deltas, ready]


def test_a_resume_gets_exactly_what_was_published_after_what_it_read() -> None:
    log = EventLog(capacity=100)
    early = SteeringApplied(action="hold")  # created first, published last
    published = [*briefing(6), early]
    for event in published:
        log(event)
    stream, got = reader()
    first, _ = log.catch_up(0, fresh=True)
    sent = hello(log) + b"".join(first)
    cut = sent.index(b"\n\n", len(sent) // 2) + 1  # the connection breaks mid-frame
    stream.feed(sent[:cut])
    read = len(got)
    assert 0 < read < len(published)
    # reconnect: a new connection resumes after the last position published
    stream._parser = type(stream._parser)()
    rest, _ = log.catch_up(stream.last_id)
    stream.feed(hello(log) + b"".join(rest))
    assert got == published  # each once, in publish order (the early seq included)
    assert stream.duplicates == 0


def test_frames_sent_again_are_published_once() -> None:
    log = EventLog(capacity=100)
    published = briefing(5)
    for event in published:
        log(event)
    stream, got = reader()
    frames, _ = log.catch_up(0, fresh=True)
    stream.feed(hello(log) + b"".join(frames[:4]))
    # a replay overlapping what was read: everything again, then the rest
    stream.feed(hello(log) + b"".join(frames))
    stream.feed(b"".join(frames[2:]))
    assert got == published
    assert isinstance(got[-1], BriefingReady)  # no delta after the readiness
    assert stream.duplicates == 4 + 4


def test_a_reader_behind_the_buffer_is_told_and_gets_the_rest_once() -> None:
    log = EventLog(capacity=3)
    published = [SteeringApplied(action=f"a{i}") for i in range(10)]
    for event in published:
        log(event)
    assert log.evicted_upto > 1
    frames, cursor = log.catch_up(1)
    assert frames[0].startswith(b"event: gap\n")
    stream, got = reader()
    stream.feed(hello(log) + b"".join(frames))
    assert got == published[log.evicted_upto:]
    assert cursor == log.latest == 10


def test_an_event_frame_without_a_position_breaks_the_stream() -> None:
    stream, got = reader()
    with pytest.raises(ValueError, match="stream position"):
        stream.feed(b'event: steering_applied\ndata: {"kind": "steering_applied"}\n\n')
    assert got == []


async def test_the_bridge_reads_its_queue_alone() -> None:
    bus = EventBus()
    bridge = EventBridge(bus.subscribe(), list)
    first = asyncio.ensure_future(bridge.run())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already running"):
        await bridge.run()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert not bridge.running
