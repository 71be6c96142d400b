"""What an upstream answers with status 200 is checked before anyone reads it, on every
surface and both directions of translation, seen through the official SDKs: an answer that
is not one (an error object, another protocol's body, a list, HTML, SSE to a non-stream
request, nothing) fails over to the next upstream and is counted in its breaker; a field of
the wrong type is the upstream's protocol error (failover before the first byte, an error
event after it); a stream cut mid-event ends in an error the SDK reads as an API error; and
fusion-tui's own body fields never reach an upstream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anthropic
import openai
import pytest

from tests.support.hostile_upstream import Answer, HostileUpstream, sse, stream_events, whole_answer
from tests.support.http import call, serving

KINDS = {"anthropic": "anthropic", "openai": "openai-compatible",
         "responses": "openai-responses"}
PROTOCOLS = list(KINDS)


def upstream(uid: str, base: str, protocol: str) -> dict[str, Any]:
    return {"id": uid, "type": KINDS[protocol], "model": "x", "timeout_s": 5,
            "base_url": base if protocol == "anthropic" else base + "/v1"}


@asynccontextmanager
async def hostile(answer: Answer) -> AsyncIterator[tuple[HostileUpstream, str]]:
    fake = HostileUpstream(answer=answer)
    async with serving(fake.app()) as base:
        yield fake, base


async def ask(client: str, address: str, stream: bool, **extra: Any) -> str:
    """The answer's text through the client's SDK (raises the SDK's errors)."""
    if client == "anthropic":
        async with anthropic.AsyncAnthropic(base_url=address, api_key="t",
                                            max_retries=0) as sdk:
            body: dict[str, Any] = {"model": "m", "max_tokens": 20, "extra_body": extra,
                                    "messages": [{"role": "user", "content": "hi"}]}
            if not stream:
                message = await sdk.messages.create(**body)
                return "".join(b.text for b in message.content if b.type == "text")
            async with sdk.messages.stream(**body) as events:
                return await events.get_final_text()
    async with openai.AsyncOpenAI(base_url=f"{address}/v1", api_key="t",
                                  max_retries=0) as sdk:
        if client == "openai":
            messages: Any = [{"role": "user", "content": "hi"}]
            if not stream:
                completion = await sdk.chat.completions.create(model="m", messages=messages,
                                                               extra_body=extra)
                return completion.choices[0].message.content or ""
            chunks = await sdk.chat.completions.create(model="m", messages=messages,
                                                       stream=True, extra_body=extra)
            return "".join([c.choices[0].delta.content or "" async for c in chunks
                            if c.choices])
        if not stream:
            response = await sdk.responses.create(model="m", input="hi", extra_body=extra)
            return response.output_text
        said = []
        async for event in await sdk.responses.create(model="m", input="hi", stream=True,
                                                      extra_body=extra):
            if event.type == "response.output_text.delta":
                said.append(event.delta)
            elif event.type == "response.failed":
                raise RuntimeError(f"response.failed: {event.response.error}")
        return "".join(said)


NOT_ANSWERS = {
    "error_object": lambda p: Answer(body=json.dumps(
        {"type": "error", "error": {"type": "api_error", "message": "quota"}}).encode()),
    "other_protocol": lambda p: Answer(body=json.dumps(
        whole_answer("openai" if p != "openai" else "anthropic", "wrong")).encode()),
    "json_list": lambda p: Answer(body=b"[1, 2, 3]"),
    "html": lambda p: Answer(body=b"<html>Bad gateway</html>", content_type="text/html"),
    "sse_to_non_stream": lambda p: Answer(content_type="text/event-stream", chunks=[
        b"".join(sse(n, d) for n, d in stream_events(p, "wrong"))]),
    "empty": lambda p: Answer(body=b""),
}


@pytest.mark.parametrize("what", list(NOT_ANSWERS))
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("client", PROTOCOLS)
async def test_a_200_that_is_not_an_answer_fails_over_and_counts_in_the_breaker(
        make_settings, start_proxy, client, protocol, what):
    good = Answer(body=json.dumps(whole_answer(protocol, "from the good one")).encode())
    async with hostile(NOT_ANSWERS[what](protocol)) as (bad, bad_base), \
            hostile(good) as (_, good_base):
        settings = make_settings(
            upstreams=[upstream("bad", bad_base, protocol), upstream("good", good_base,
                                                                     protocol)],
            pools={"actor": ["bad", "good"]})
        runtime = await start_proxy(settings)
        assert await ask(client, runtime.address, stream=False) == "from the good one"
        health = (await call(runtime.address, "GET", "/health")).json()
    assert bad.requests == 1
    assert health["breakers"]["bad"]["failures"] == 1
    assert health["breakers"]["bad"]["last_error"].startswith("bad: answered HTTP 200")


ODD = {
    "anthropic": [(2, ["index"], None), (2, ["delta"], "a string"),
                  (4, ["usage", "output_tokens"], "many"), (0, ["message", "usage"], [1])],
    "openai": [(1, ["choices"], ["not an object"]), (1, ["choices", 0, "delta"], True),
               (2, ["choices", 0, "index"], None)],
    "responses": [(2, ["delta"], 5), (3, ["item", "content"], "x"),
                  (4, ["response", "usage", "output_tokens"], "n")],
}


ODD_BODY: dict[str, list[tuple[list[Any], Any]]] = {
    "anthropic": [(["content"], None), (["content", 0, "text"], 5),
                  (["usage", "input_tokens"], "3"), (["content", 0], "a string")],
    "openai": [(["choices"], {}), (["choices", 0], "x"), (["choices", 0, "message"], True),
               (["usage", "prompt_tokens"], "many")],
    "responses": [(["output"], None), (["output", 0, "content"], "x"),
                  (["output", 0, "content", 0, "text"], 7), (["usage", "input_tokens"], 1.5)],
}


def odd_body(protocol: str, path: list[Any], value: Any) -> Answer:
    body = whole_answer(protocol, "said")
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return Answer(body=json.dumps(body).encode())


def odd_stream(protocol: str, at: int, path: list[Any], value: Any) -> Answer:
    events = stream_events(protocol, "partly said")
    node = events[at][1]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return Answer(content_type="text/event-stream",
                  chunks=[sse(n, d) for n, d in events])


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("client", PROTOCOLS)
async def test_odd_types_are_the_upstreams_protocol_error(make_settings, start_proxy, client,
                                                          protocol, stream):
    """Every odd type of the protocol, streamed (before or after the first byte) and as a
    whole answer: the SDK raises an API error naming the malformed answer; nothing crashes,
    nothing is cut without an error."""
    cases = ODD[protocol] if stream else [(0, p, v) for p, v in ODD_BODY[protocol]]
    for at, path, value in cases:
        if stream:
            answer = odd_stream(protocol, at, path, value)
        else:
            answer = odd_body(protocol, path, value)
        async with hostile(answer) as (_, base):
            runtime = await start_proxy(make_settings(upstreams=[upstream("up", base,
                                                                          protocol)]))
            with pytest.raises((anthropic.APIStatusError, openai.APIError,
                                RuntimeError)) as caught:
                await ask(client, runtime.address, stream=stream)
        assert "malformed" in str(caught.value) or "not a" in str(caught.value), \
            (path, caught.value)


@pytest.mark.parametrize("client", ["anthropic", "openai"])
async def test_a_stream_cut_mid_event_is_an_api_error_in_the_sdk(make_settings, start_proxy,
                                                                 client):
    """Same protocol, passed through: the upstream's bytes stop in the middle of an event
    after the client has its stream; the proxy's error starts on a frame boundary, so the
    SDK raises an API error, not a JSON decoding error."""
    frames = [sse(n, d) for n, d in stream_events(client, "cut short")]
    cut = [*frames[:2], frames[2][: len(frames[2]) // 2]]
    answer = Answer(content_type="text/event-stream", chunks=cut)
    async with hostile(answer) as (_, base):
        runtime = await start_proxy(make_settings(upstreams=[upstream("up", base, client)]))
        with pytest.raises((anthropic.APIStatusError, openai.APIError)) as caught:
            await ask(client, runtime.address, stream=True)
    assert not isinstance(caught.value, json.JSONDecodeError)
    assert "ended before" in str(caught.value)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("client", PROTOCOLS)
async def test_own_body_fields_never_reach_an_upstream(make_settings, start_proxy, client,
                                                       protocol):
    answer = Answer(body=json.dumps(whole_answer(protocol, "fine")).encode())
    async with hostile(answer) as (fake, base):
        runtime = await start_proxy(make_settings(upstreams=[upstream("up", base, protocol)]))
        said = await ask(client, runtime.address, stream=False, fusion_tier="compact",
                         fusion_route="single")
    assert said == "fine"
    sent = fake.received[-1]
    assert "fusion_tier" not in sent and "fusion_route" not in sent, sent
