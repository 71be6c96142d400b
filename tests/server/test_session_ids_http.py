"""Session ids from headers through the server, on every surface: bytes that are not UTF-8,
control characters, overlong and look-alike ids each get their own private recording, cost
no other session its events, leak no file descriptor and leave no empty file."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest

from fusion_tui.sessions.replay import read_recording

BODIES: dict[bytes, dict[str, Any]] = {
    b"/v1/messages": {"model": "m", "max_tokens": 20,
                      "messages": [{"role": "user", "content": "hi"}]},
    b"/v1/chat/completions": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    b"/v1/responses": {"model": "m", "input": "hi"},
}
ODD_IDS = [b"caf\xe9\xff\xfe", b"tab\tinside", b"p" * 300 + b"1", b"p" * 300 + b"2",
           b"../../escape", b"a b", b"a_b"]


async def exchange(address: str, path: bytes, session: bytes) -> int:
    host, port = address.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps(BODIES[path]).encode()
    writer.write(b"POST " + path + b" HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                 b"x-fusion-session: " + session + b"\r\nconnection: close\r\n"
                 b"content-length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    return int(raw.split(b" ", 2)[1])


@pytest.mark.parametrize("path", list(BODIES))
async def test_odd_session_ids_get_their_own_files_and_cost_nothing(path, make_settings,
                                                                    start_proxy):
    settings = make_settings()
    runtime = await start_proxy(settings)
    assert await exchange(runtime.address, path, b"warm-up") == 200
    runtime.recorder.flush()
    fds = len(os.listdir("/proc/self/fd"))
    for session in [b"good-1", *ODD_IDS, b"good-2"]:
        assert await exchange(runtime.address, path, session) == 200
    runtime.recorder.flush()
    folder = settings.sessions.path
    files = sorted(folder.iterdir())
    assert len(files) == len(ODD_IDS) + 3  # warm-up, good-1, good-2 and one per odd id
    ids = set()
    for file in files:
        assert file.parent == folder and file.stat().st_size > 0
        recording = read_recording(file)
        kinds = [e.kind for e in recording.events]
        assert "request_received" in kinds and "response_finished" in kinds, file.name
        ids.add(recording.session_id)
    assert len(ids) == len(files)  # look-alike and overlong ids stay apart
    assert "caf\\xe9\\xff\\xfe" in ids and "tab\\tinside" in ids
    assert runtime.recorder.errors == 0
    assert len(os.listdir("/proc/self/fd")) <= fds + len(ODD_IDS) + 2  # one per open file
    await runtime.stop()
    assert len(os.listdir("/proc/self/fd")) < fds  # every recording closed
