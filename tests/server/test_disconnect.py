"""A client that hangs up cancels everything of its request: every upstream connection is
closed by the proxy (the upstream sees it), no task is left behind, the process's open files
return to what they were, and the recording says request_cancelled.

Every upstream here is a real HTTP server on loopback that holds its response open, so there
are real connections to cancel: mid-stream on both chat surfaces, and mid-council while the
advisors, the judge or the actor are answering."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.raw_server import SSE_HEAD, RawServer, Script, chunk, sse

CLOSE_BOUND_S = 1.5
SETTLE_S = 2.0
START = sse("message_start", {"type": "message_start", "message": {
    "id": "m", "type": "message", "role": "assistant", "model": "x", "content": [],
    "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 1}}})
BLOCK = sse("content_block_start", {"type": "content_block_start", "index": 0,
                                    "content_block": {"type": "text", "text": ""}})
READ = {"name": "Read", "description": "Read a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                         "required": ["file_path"]}}
TOOL_TURN: dict[str, Any] = {"model": "claude-x", "max_tokens": 400, "tools": [READ],
                             "messages": [{"role": "user", "content": "plan the refactor"}]}


def delta(text: str) -> bytes:
    return sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                       "delta": {"type": "text_delta", "text": text}})


def chat_chunk(text: str) -> bytes:
    return sse(None, {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "x",
                      "choices": [{"index": 0, "delta": {"content": text},
                                   "finish_reason": None}]})


def complete_message(text: str) -> bytes:
    """A whole Anthropic stream; the connection closes after it (no pooled keep-alive)."""
    head = SSE_HEAD.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n")
    return (head + START + BLOCK + delta(text)
            + sse("content_block_stop", {"type": "content_block_stop", "index": 0})
            + sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                    "usage": {"output_tokens": 5}})
            + sse("message_stop", {"type": "message_stop"}) + chunk(b""))


def trickle(opening: bytes, piece: Callable[[int], bytes], gap_s: float = 0.02) -> Script:
    """Send `opening`, then a piece every `gap_s`, until the client closes the connection."""
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(opening)
        await writer.drain()
        for i in range(10_000):
            with contextlib.suppress(TimeoutError):
                if not await asyncio.wait_for(reader.read(4096), gap_s):
                    return
            writer.write(piece(i))
            await writer.drain()

    return script


def answers(text: str) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(complete_message(text))
        await writer.drain()

    return script


def open_fds(sessions: Path) -> set[str]:
    """The process's open files and sockets, less the session recordings the recorder keeps
    open by design (at most `max_open`, reused for the session's later requests)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the fd listdir itself used
            target = os.readlink(f"/proc/self/fd/{fd}")
            if not target.startswith(str(sessions)):
                found.add(f"{fd}:{target}")
    return found


async def settle(check: Callable[[], bool], within_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, RawServer]]:
    started: dict[str, RawServer] = {}
    yield started
    for server in started.values():
        await server.stop()


async def serve(started: dict[str, RawServer], uid: str, script: Script) -> dict[str, Any]:
    server = RawServer(script)
    started[uid] = server
    base = await server.start()
    kind = "openai-compatible" if uid == "chat" else "anthropic"
    return {"id": uid, "type": kind, "base_url": base, "model": "x"}


class Baseline:
    """Tasks and open files before the request, to compare with after it."""

    def __init__(self, runtime: Any) -> None:
        self.sessions = runtime.state.settings.sessions.path
        self.tasks = asyncio.all_tasks()
        self.fds = open_fds(self.sessions)

    def new_tasks(self) -> set[asyncio.Task[Any]]:
        return asyncio.all_tasks() - self.tasks


async def leave_after(address: str, path: str, body: dict[str, Any], headers: dict[str, str],
                      ready: Callable[[], bool]) -> float:
    """Send the request, wait until `ready()`, then hang up; returns when it hung up."""
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as client:
        request = asyncio.ensure_future(client.post(address + path, json=body, headers=headers))
        assert await settle(ready, 3), "the upstream never got the request"
        if body.get("stream"):
            async with await request as resp:
                assert resp.status == 200
                await resp.content.readline()
        else:
            request.cancel()
            await asyncio.gather(request, return_exceptions=True)
        left_at = loop.time()
    return left_at


async def assert_all_released(runtime: Any, servers: dict[str, RawServer], left_at: float,
                              baseline: Baseline, session: str) -> None:
    assert await settle(lambda: all(s.open_connections == 0 for s in servers.values()),
                        CLOSE_BOUND_S), {u: s.open_connections for u, s in servers.items()}
    for uid, server in servers.items():
        assert all(t - left_at < CLOSE_BOUND_S for t in server.closed), uid
    assert await settle(lambda: not baseline.new_tasks(), SETTLE_S), baseline.new_tasks()
    assert await settle(lambda: open_fds(baseline.sessions) == baseline.fds, SETTLE_S), (
        open_fds(baseline.sessions) ^ baseline.fds)
    assert runtime.state.controls.inflight == {}
    runtime.recorder.flush()
    lines = (runtime.state.settings.sessions.path / f"{session}.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines[1:]]
    assert [e["kind"] for e in events].count("request_cancelled") == 1
    finished = next(e for e in events if e["kind"] == "response_finished")
    assert finished["status"] == 499 and finished["error"] == "client disconnected"


SURFACES: dict[str, tuple[str, dict[str, Any], bytes, Callable[[int], bytes]]] = {
    "messages": ("/v1/messages", {"model": "m", "max_tokens": 50},
                 SSE_HEAD + START + BLOCK, lambda i: delta(f"t{i} ")),
    "chat": ("/v1/chat/completions", {"model": "m"},
             SSE_HEAD + chat_chunk(""), lambda i: chat_chunk(f"t{i} ")),
}


@pytest.mark.parametrize("surface", list(SURFACES))
async def test_client_leaving_mid_stream_releases_everything(surface, make_settings,
                                                             start_proxy, servers):
    path, ask, opening, piece = SURFACES[surface]
    uid = "chat" if surface == "chat" else "raw"
    up = await serve(servers, uid, trickle(opening, piece))
    runtime = await start_proxy(make_settings(upstreams=[up]))
    baseline = Baseline(runtime)
    body = {**ask, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    left_at = await leave_after(runtime.address, path, body, {"x-fusion-session": "leaver"},
                                lambda: bool(servers[uid].opened))
    assert len(servers[uid].opened) == 1
    await assert_all_released(runtime, servers, left_at, baseline, "leaver")


HOLD = {"advisors": ["adv1", "adv2"], "judge": ["judge"], "actor": ["actor"]}


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("stage", list(HOLD))
async def test_client_leaving_mid_council_closes_every_upstream_call(
        stage, stream, make_settings, start_proxy, servers):
    order = list(HOLD)
    reached = order[:order.index(stage) + 1]
    ups = []
    for name in ("adv1", "adv2", "judge", "actor"):
        holding = name in HOLD[stage]
        opening = SSE_HEAD + START + BLOCK + delta(f"{name} is thinking ")
        script = trickle(opening, lambda i: delta(f"{i} "), 0.05) if holding else answers(
            f"{name} says: split the module")
        ups.append(await serve(servers, name, script))
    runtime = await start_proxy(make_settings(
        upstreams=ups, pools={"actor": ["actor"], "council": ["adv1", "adv2"],
                              "judge": ["judge"]},
        council={"deadline_s": 10, "ping_interval_s": 0.05}))
    baseline = Baseline(runtime)
    holders = [servers[name] for name in HOLD[stage]]
    session = f"council-{stage}"
    left_at = await leave_after(runtime.address, "/v1/messages", {**TOOL_TURN, "stream": stream},
                                {"x-fusion-session": session, "x-fusion-tier": "plan"},
                                lambda: all(s.open_connections for s in holders))
    contacted = {name for stage_name in reached for name in HOLD[stage_name]}
    for name, server in servers.items():
        assert len(server.opened) == (1 if name in contacted else 0), name
    await assert_all_released(runtime, servers, left_at, baseline, session)
