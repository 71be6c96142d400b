"""Property test: generated and mutated requests to both surfaces never get a 5xx, never hang,
and every error is in the client protocol's shape."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusion_tui.config import load_settings
from fusion_tui.core import Runtime

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                               max_size=4),
    max_leaves=12)

ANTHROPIC_OK: dict[str, Any] = {
    "model": "m", "max_tokens": 30, "stream": False, "system": "be brief",
    "tools": [{"name": "Read", "input_schema": {"type": "object", "properties": {
        "file_path": {"type": "string"}}}}],
    "messages": [{"role": "user", "content": [{"type": "text", "text": "read a.txt"}]},
                 {"role": "assistant", "content": [{"type": "tool_use", "id": "t1",
                                                    "name": "Read",
                                                    "input": {"file_path": "a.txt"}}]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                               "content": "hello"}]}]}
OPENAI_OK: dict[str, Any] = {
    "model": "m", "max_tokens": 30, "stream": False,
    "tools": [{"type": "function", "function": {"name": "Read", "parameters": {
        "type": "object", "properties": {"file_path": {"type": "string"}}}}}],
    "messages": [{"role": "system", "content": "be brief"},
                 {"role": "user", "content": "read a.txt"},
                 {"role": "assistant", "content": None, "tool_calls": [{
                     "id": "c1", "type": "function",
                     "function": {"name": "Read", "arguments": "{\"file_path\": \"a.txt\"}"}}]},
                 {"role": "tool", "tool_call_id": "c1", "content": "hello"}]}


@st.composite
def reworded(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """A valid request whose words are arbitrary text (any unicode), streamed or not."""
    body = json.loads(json.dumps(base))
    body["stream"] = draw(st.booleans())
    first_user = body["messages"][1 if base is OPENAI_OK else 0]
    text = draw(st.text(max_size=200))
    if isinstance(first_user["content"], list):
        first_user["content"][0]["text"] = text
    else:
        first_user["content"] = text
    return body


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """A valid request with a few paths deleted or replaced by arbitrary JSON."""
    body = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        node, key = _pick(draw, body)
        if node is None:
            return draw(JSON)
        if draw(st.booleans()) and isinstance(node, dict):
            node.pop(key, None)
        else:
            node[key] = draw(JSON)
    return body


def _pick(draw: st.DrawFn, body: Any) -> tuple[Any, Any]:
    node, key = None, None
    current = body
    for _ in range(draw(st.integers(1, 5))):
        if isinstance(current, dict) and current:
            key = draw(st.sampled_from(sorted(current)))
        elif isinstance(current, list) and current:
            key = draw(st.integers(0, len(current) - 1))
        else:
            break
        node, current = current, current[key]
    return node, key


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A proxy with a fast simulated upstream, on its own loop in a thread."""
    tmp = tmp_path_factory.mktemp("fuzz")
    empty = Path(tmp) / "c.yaml"
    empty.write_text("{}\n")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("FUSION_")}
    config = load_settings(empty, server={"host": "127.0.0.1", "port": 0},
                           upstreams=[{"id": "sim", "type": "simulated", "model": "sim",
                                       "first_token_ms": 0, "tokens_per_s": 100000}],
                           pools={"actor": ["sim"]}, sessions={"dir": str(tmp / "s")})
    loop = asyncio.new_event_loop()
    runtime = Runtime(config)
    address = loop.run_until_complete(runtime.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield address
    asyncio.run_coroutine_threadsafe(runtime.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    os.environ.update(saved)


def post(address: str, path: str, payload: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(address + path, data=payload, method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check(protocol: str, status: int, raw: bytes, streamed: bool) -> None:
    assert status in (200, 400, 413), (status, raw[:300])
    if status == 200 and streamed:
        text = raw.decode()
        assert ("event: message_stop" in text) if protocol == "anthropic" else \
            text.rstrip().endswith("data: [DONE]")
        return
    body = json.loads(raw)
    if status == 200:
        assert body["type"] == "message" if protocol == "anthropic" else body["choices"]
    elif protocol == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    else:
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
        assert body["error"]["type"] == "invalid_request_error"


FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.one_of(reworded(ANTHROPIC_OK), mutated(ANTHROPIC_OK), JSON, st.binary(max_size=64)))
def test_anthropic_surface_survives_anything(proxy: str, body: Any) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, raw = post(proxy, "/v1/messages", payload)
    check("anthropic", status, raw, isinstance(body, dict) and body.get("stream") is True)


@FUZZ
@given(st.one_of(reworded(OPENAI_OK), mutated(OPENAI_OK), JSON, st.binary(max_size=64)))
def test_openai_surface_survives_anything(proxy: str, body: Any) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, raw = post(proxy, "/v1/chat/completions", payload)
    check("openai", status, raw, isinstance(body, dict) and body.get("stream") is True)
