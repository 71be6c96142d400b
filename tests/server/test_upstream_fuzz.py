"""Property test of what upstreams send: valid, re-chunked, mutated, cut and wrong answers,
from upstreams of every protocol, to clients of every protocol, streamed and not, driven
through the public HTTP surface only. Whatever an upstream sends, the client gets a valid
answer of its protocol or an error in its protocol's shape, the recording stays valid JSONL,
and the upstream's key appears nowhere (answer, recording, log). Fixed seed (derandomize)
and a budget of examples.

Every class runs: odd types in an answer or event, a stream cut anywhere, 200s that are
not answers, error answers quoting the key, valid answers in any chunking."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusion_tui.config import load_settings
from fusion_tui.runtime import Runtime
from tests.support.hostile_upstream import (
    Answer,
    HostileUpstream,
    sse,
    stream_events,
    whole_answer,
)

KEY = "sk-fuzz-upstream-key-31337"
KEY_ENV = "FUSION_FUZZ_UPSTREAM_KEY"
UPSTREAM_TYPES = {"anthropic": "anthropic", "openai": "openai-compatible",
                  "responses": "openai-responses"}
CLIENTS = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions",
           "responses": "/v1/responses"}
BUDGET = settings(max_examples=150, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=3),
    max_leaves=8)
TEXT = st.one_of(st.text(max_size=60), st.just(f"the key is {KEY}."),
                 st.text(max_size=20).map(lambda t: t + KEY + t))


@dataclass
class Proxies:
    """One proxy per upstream protocol, all in front of the same hostile upstream."""

    upstream: HostileUpstream
    addresses: dict[str, str]
    sessions: Path
    log: list[str]
    """Every log record the proxies wrote, formatted with its traceback."""


class Remember(logging.Handler):
    """Keeps every record, formatted as a log file would hold it."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(self.format(record))


@pytest.fixture(scope="module")
def proxies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxies]:
    tmp = tmp_path_factory.mktemp("upstream-fuzz")
    empty = tmp / "c.yaml"
    empty.write_text("{}\n")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("FUSION_")}
    os.environ[KEY_ENV] = KEY
    loop = asyncio.new_event_loop()
    hostile = HostileUpstream()

    async def start() -> tuple[Any, list[Runtime], dict[str, str]]:
        from aiohttp import web

        runner = web.AppRunner(hostile.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        runtimes, addresses = [], {}
        for protocol, kind in UPSTREAM_TYPES.items():
            config = load_settings(
                empty, server={"host": "127.0.0.1", "port": 0},
                upstreams=[{"id": "up", "type": kind, "model": "x", "api_key_env": KEY_ENV,
                            "base_url": base if kind == "anthropic" else base + "/v1",
                            "timeout_s": 5, "deadline_s": 10}],
                pools={"actor": ["up"]}, sessions={"dir": str(tmp / "sessions")})
            runtime = Runtime(config)
            addresses[protocol] = await runtime.start()
            runtimes.append(runtime)
        return runner, runtimes, addresses

    log: list[str] = []
    handler = Remember(log)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    runner, runtimes, addresses = loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield Proxies(hostile, addresses, tmp / "sessions", log)
    root.removeHandler(handler)
    root.setLevel(level)

    async def stop() -> None:
        for runtime in runtimes:
            await runtime.stop()
        await runner.cleanup()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(20)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    os.environ.pop(KEY_ENV, None)
    os.environ.update(saved)


def request_body(client: str, stream: bool) -> dict[str, Any]:
    if client == "anthropic":
        return {"model": "m", "max_tokens": 50, "stream": stream,
                "messages": [{"role": "user", "content": "hi"}]}
    if client == "openai":
        return {"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    return {"model": "m", "stream": stream, "input": "hi", "store": False}


def post(address: str, path: str, body: dict[str, Any], session: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(address + path, data=json.dumps(body).encode(),
                                     method="POST", headers={
                                         "content-type": "application/json",
                                         "x-fusion-session": session})
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read()


def frames(raw: bytes) -> list[tuple[str | None, str]]:
    out = []
    for frame in raw.decode().replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            out.append((name, "\n".join(data)))
    return out


def assert_valid_stream(client: str, raw: bytes) -> None:
    events = frames(raw)
    assert events, raw[:300]
    for _, data in events:
        if data != "[DONE]":
            json.loads(data)  # every frame readable
    last_name, last_data = events[-1]
    if client == "anthropic":
        assert last_name in ("message_stop", "error"), events[-3:]
    elif client == "openai":
        error_last = last_data != "[DONE]" and "error" in json.loads(last_data)
        assert last_data == "[DONE]" or error_last, events[-3:]
    else:
        assert json.loads(last_data)["type"] in (
            "response.completed", "response.failed", "response.incomplete", "error"), events[-3:]


def assert_valid_answer(client: str, status: int, content_type: str, raw: bytes,
                        stream: bool) -> None:
    assert KEY.encode() not in raw
    if status == 200 and stream and content_type.startswith("text/event-stream"):
        assert_valid_stream(client, raw)
        return
    body = json.loads(raw)
    if status == 200:
        if client == "anthropic":
            assert body["type"] == "message" and isinstance(body["content"], list)
        elif client == "openai":
            assert isinstance(body["choices"], list) and body["choices"]
        else:
            assert body["object"] == "response" and isinstance(body["output"], list)
        return
    assert 400 <= status <= 599, status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if client == "anthropic":
        assert body["type"] == "error"


def assert_log_clean(proxies: Proxies) -> None:
    assert not [line for line in proxies.log if KEY in line]


def assert_recording_clean(proxies: Proxies, session: str) -> None:
    for runtime_path in proxies.sessions.glob("*.jsonl"):
        if not runtime_path.name.startswith(session):
            continue
        text = runtime_path.read_text()
        assert KEY not in text
        for line in text.splitlines():
            json.loads(line)


_counter = iter(range(10**9))


def exchange(proxies: Proxies, upstream: str, client: str, stream: bool,
             answer: Answer) -> None:
    session = f"fz{next(_counter)}"
    proxies.upstream.answer = answer
    status, content_type, raw = post(proxies.addresses[upstream], CLIENTS[client],
                                     request_body(client, stream), session)
    assert_valid_answer(client, status, content_type, raw, stream)
    assert_recording_clean(proxies, session)
    assert_log_clean(proxies)


def encode_stream(events: list[tuple[str | None, Any]]) -> bytes:
    return b"".join(sse(name, data) for name, data in events)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if b > a]


PROTOCOLS = st.sampled_from(list(UPSTREAM_TYPES))
CUTS = st.lists(st.integers(0, 10**6), max_size=8)


@BUDGET
@given(upstream=PROTOCOLS, client=PROTOCOLS, stream=st.booleans(), text=TEXT, cuts=CUTS)
def test_valid_answers_in_any_chunking_pass_without_the_key(proxies, upstream, client, stream,
                                                            text, cuts):
    if stream:
        data = encode_stream(stream_events(upstream, text))
        answer = Answer(content_type="text/event-stream", chunks=split(data, cuts))
    else:
        answer = Answer(body=json.dumps(whole_answer(upstream, text)).encode())
    exchange(proxies, upstream, client, stream, answer)


def mutate(draw: st.DrawFn, value: Any) -> Any:
    node, key, current = None, None, value
    for _ in range(draw(st.integers(1, 5))):
        if isinstance(current, dict) and current:
            key = draw(st.sampled_from(sorted(current)))
        elif isinstance(current, list) and current:
            key = draw(st.integers(0, len(current) - 1))
        else:
            break
        node, current = current, current[key]
    if node is None:
        return draw(JSON)
    node[key] = draw(JSON)
    return value


@st.composite
def mutated_answers(draw: st.DrawFn, upstream: str, stream: bool) -> Answer:
    text = draw(TEXT)
    if not stream:
        body = mutate(draw, whole_answer(upstream, text))
        return Answer(body=json.dumps(body).encode())
    events = stream_events(upstream, text)
    index = draw(st.integers(0, len(events) - 1))
    name, data = events[index]
    if data != "[DONE]":
        events[index] = (name, mutate(draw, data))
    return Answer(content_type="text/event-stream", chunks=[encode_stream(events)])


@BUDGET
@given(data=st.data(), upstream=PROTOCOLS, client=PROTOCOLS, stream=st.booleans())
def test_answers_with_odd_types_are_an_answer_or_a_protocol_error(proxies, data, upstream,
                                                                   client, stream):
    exchange(proxies, upstream, client, stream, data.draw(mutated_answers(upstream, stream)))


@BUDGET
@given(upstream=PROTOCOLS, client=PROTOCOLS, text=TEXT, cut=st.integers(1, 10**6))
def test_a_stream_cut_anywhere_ends_in_an_error_event(proxies, upstream, client, text, cut):
    data = encode_stream(stream_events(upstream, text))
    answer = Answer(content_type="text/event-stream", chunks=[data[:cut % len(data)]])
    exchange(proxies, upstream, client, True, answer)


def not_answers(upstream: str, text: str) -> list[Answer]:
    other = "openai" if upstream == "anthropic" else "anthropic"
    return [
        Answer(body=json.dumps({"type": "error", "error": {"type": "api_error",
                                                           "message": "x"}}).encode()),
        Answer(body=json.dumps({"error": {"message": "quota", "type": "x"}}).encode()),
        Answer(body=b"[1, 2, 3]"),
        Answer(body=b"<html><body>Bad gateway</body></html>", content_type="text/html"),
        Answer(body=json.dumps(whole_answer(other, text)).encode()),
        Answer(content_type="text/event-stream",
               chunks=[encode_stream(stream_events(upstream, text))]),
        Answer(body=b"", content_type="application/json"),
    ]


@BUDGET
@given(upstream=PROTOCOLS, client=PROTOCOLS, stream=st.booleans(), text=TEXT,
       which=st.integers(0, 6))
def test_a_200_that_is_not_an_answer_is_an_error(proxies, upstream, client, stream, text,
                                                  which):
    exchange(proxies, upstream, client, stream, not_answers(upstream, text)[which])


@BUDGET
@given(upstream=PROTOCOLS, client=PROTOCOLS, stream=st.booleans(), text=TEXT,
       status=st.sampled_from([400, 401, 403, 404, 429, 500, 502, 503, 529]))
def test_error_answers_quoting_the_key_are_protocol_errors_without_it(
        proxies, upstream, client, stream, text, status):
    body = {"type": "error", "error": {"type": "api_error", "message": text}} \
        if upstream == "anthropic" else {"error": {"message": text, "type": "x"}}
    exchange(proxies, upstream, client, stream,
             Answer(status=status, body=json.dumps(body).encode()))
