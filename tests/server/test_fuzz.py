"""Property test: generated, mutated, extended and deeply nested requests to both surfaces
never get a 5xx, never hang, and every error is in the client protocol's exact shape."""

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
from fusion_tui.protocols.anthropic import error_type_for
from fusion_tui.runtime import Runtime

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


NUMBER = st.one_of(st.floats(-1, 3, allow_nan=False), st.integers(-2, 3), JSON)
TEXTS = st.one_of(st.text(max_size=8), st.lists(st.text(max_size=8), max_size=6), JSON)
B64 = st.sampled_from(["iVBORw0KGgo=", "!!", "", "aGk", "aGk=\n"])
SCHEMA = st.one_of(JSON, st.fixed_dictionaries({"type": st.sampled_from(["object", "array"]),
                                                "properties": JSON}))
TOKENS = st.one_of(st.integers(-5, 2_000_000), JSON)

# Optional keys a client may add, each with plausible and odd values: (where, key, values).
ANTHROPIC_EXTRAS: list[tuple[str, str, st.SearchStrategy[Any]]] = [
    ("body", "stop_sequences", TEXTS), ("body", "temperature", NUMBER),
    ("body", "top_p", NUMBER), ("body", "top_k", NUMBER), ("body", "max_tokens", TOKENS),
    ("body", "metadata", st.one_of(JSON, st.fixed_dictionaries({"user_id": JSON}))),
    ("body", "tool_choice", st.one_of(JSON, st.fixed_dictionaries({
        "type": st.sampled_from(["auto", "any", "tool", "none", "odd"]),
        "name": st.one_of(st.just("Read"), JSON)}))),
    ("body", "thinking", st.one_of(JSON, st.fixed_dictionaries({
        "type": st.sampled_from(["enabled", "disabled"]), "budget_tokens": NUMBER}))),
    ("body", "output_config", st.one_of(JSON, st.fixed_dictionaries({"format": JSON}))),
    ("body", "system", st.one_of(JSON, st.lists(st.fixed_dictionaries({
        "type": st.just("text"), "text": st.one_of(st.text(max_size=10), JSON)}), max_size=2))),
    ("tools", "tool", st.fixed_dictionaries({"name": st.one_of(st.text(max_size=8), JSON),
                                             "input_schema": SCHEMA})),
    ("content", "image", st.fixed_dictionaries({"type": st.just("image"), "source": st.one_of(
        JSON, st.fixed_dictionaries({"type": st.just("base64"), "media_type": JSON,
                                     "data": B64}))})),
    ("content", "unknown", st.fixed_dictionaries({"type": st.text(max_size=12), "x": JSON})),
    ("content", "tool_result", st.fixed_dictionaries({
        "type": st.just("tool_result"), "tool_use_id": st.sampled_from(["t1", "t9"]),
        "content": st.one_of(JSON, st.lists(st.fixed_dictionaries({
            "type": st.sampled_from(["text", "image", "odd"]), "text": JSON}), max_size=2)),
        "is_error": JSON})),
]
OPENAI_EXTRAS: list[tuple[str, str, st.SearchStrategy[Any]]] = [
    ("body", "stop", TEXTS), ("body", "temperature", NUMBER), ("body", "top_p", NUMBER),
    ("body", "max_tokens", TOKENS), ("body", "max_completion_tokens", TOKENS),
    ("body", "metadata", JSON), ("body", "user", JSON), ("body", "seed", JSON),
    ("body", "parallel_tool_calls", JSON), ("body", "stream_options", JSON),
    ("body", "tool_choice", st.one_of(
        st.sampled_from(["auto", "none", "required", "any"]), JSON,
        st.fixed_dictionaries({"type": st.just("function"), "function": st.one_of(
            JSON, st.fixed_dictionaries({"name": st.one_of(st.just("Read"), JSON)}))}))),
    ("body", "response_format", st.one_of(JSON, st.fixed_dictionaries({
        "type": st.sampled_from(["text", "json_object", "json_schema"]),
        "json_schema": st.one_of(JSON, st.fixed_dictionaries({"name": JSON,
                                                              "schema": SCHEMA}))}))),
    ("tools", "tool", st.fixed_dictionaries({"type": st.just("function"), "function": (
        st.fixed_dictionaries({"name": st.one_of(st.text(max_size=8), JSON),
                               "description": JSON, "parameters": SCHEMA}))})),
    ("content", "image", st.fixed_dictionaries({"type": st.just("image_url"), "image_url": (
        st.one_of(JSON, st.fixed_dictionaries({"url": st.one_of(
            st.just("https://example.com/a.png"),
            B64.map(lambda d: "data:image/png;base64," + d), JSON)})))})),
    ("content", "file", st.fixed_dictionaries({"type": st.just("file"), "file": JSON})),
    ("content", "unknown", st.fixed_dictionaries({"type": st.text(max_size=12), "x": JSON})),
    ("content", "text", st.fixed_dictionaries({"type": st.just("text"), "text": JSON})),
]


@st.composite
def added(draw: st.DrawFn, base: dict[str, Any],
          extras: list[tuple[str, str, st.SearchStrategy[Any]]]) -> Any:
    """A valid request with a few optional keys, tools or content parts added, each with
    a plausible or an arbitrary value."""
    body = json.loads(json.dumps(base))
    user = body["messages"][1 if base is OPENAI_OK else 0]
    for where, key, values in draw(st.lists(st.sampled_from(extras), min_size=1, max_size=4)):
        value = draw(values)
        if where == "body":
            body[key] = value
        elif where == "tools":
            body["tools"].append(value)
        else:
            if isinstance(user["content"], str):
                user["content"] = [{"type": "text", "text": user["content"]}]
            user["content"].append(value)
    body["stream"] = draw(st.booleans())
    return body


@st.composite
def deepened(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """A valid request with a value nested 2 to 400 levels deep put somewhere in it (orjson
    reads up to 1024 levels and writes about 254)."""
    body = json.loads(json.dumps(base))
    value: Any = draw(st.sampled_from(["x", 1, None]))
    for _ in range(draw(st.sampled_from([2, 50, 63, 64, 65, 100, 254, 255, 300, 400]))):
        value = [value] if draw(st.booleans()) else {"k": value}
    node, key = _pick(draw, body)
    if node is None or not draw(st.integers(0, 3)):
        body["metadata"] = value
    else:
        node[key] = value
    return body


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
        assert body["type"] == "error" and set(body) == {"type", "error"}, body
        assert set(body["error"]) == {"type", "message"}, body
        assert body["error"]["type"] == error_type_for(status)
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    else:
        assert "type" not in body and set(body) == {"error"}, body
        error = body["error"]
        assert set(error) == {"message", "type", "param", "code"}, error
        assert isinstance(error["message"], str) and error["message"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] is None or isinstance(error["param"], str)


FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.one_of(reworded(ANTHROPIC_OK), mutated(ANTHROPIC_OK),
                 added(ANTHROPIC_OK, ANTHROPIC_EXTRAS), deepened(ANTHROPIC_OK), JSON,
                 st.binary(max_size=64)))
def test_anthropic_surface_survives_anything(proxy: str, body: Any) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, raw = post(proxy, "/v1/messages", payload)
    check("anthropic", status, raw, isinstance(body, dict) and body.get("stream") is True)


@FUZZ
@given(st.one_of(reworded(OPENAI_OK), mutated(OPENAI_OK), added(OPENAI_OK, OPENAI_EXTRAS),
                 deepened(OPENAI_OK), JSON, st.binary(max_size=64)))
def test_openai_surface_survives_anything(proxy: str, body: Any) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, raw = post(proxy, "/v1/chat/completions", payload)
    check("openai", status, raw, isinstance(body, dict) and body.get("stream") is True)
