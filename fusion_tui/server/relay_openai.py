"""Relay a Chat Completions reply to an OpenAI client: bytes pass through untouched while a
parser alongside collects what the events need."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from fusion_tui.protocols.openai import ChatAccumulator, error_body, response_content
from fusion_tui.protocols.openai_stream import error_frame
from fusion_tui.protocols.sse import SSEParser
from fusion_tui.server.relay import Outcome, open_stream, relay_json_with
from fusion_tui.upstreams import UpstreamError, UpstreamReply


def _usage(outcome: Outcome, usage: dict[str, object]) -> None:
    prompt = usage.get("prompt_tokens")
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    outcome.input_tokens = max(0, int(prompt if isinstance(prompt, int) else 0)
                               - int(cached or 0))
    completion = usage.get("completion_tokens")
    outcome.output_tokens = int(completion if isinstance(completion, int) else 0)
    outcome.usage = {"input_tokens": outcome.input_tokens,
                     "output_tokens": outcome.output_tokens,
                     "cache_read_input_tokens": int(cached or 0)}


def _read_completion(parsed: dict[str, Any], outcome: Outcome) -> None:
    _usage(outcome, parsed.get("usage") or {})
    choice = (parsed.get("choices") or [{}])[0]
    outcome.stop_reason = choice.get("finish_reason")
    outcome.content = response_content(parsed)


async def relay_json(reply: UpstreamReply, headers: dict[str, str]) -> tuple[web.Response, Outcome]:
    """A complete reply, success or error, passed through as received."""
    return await relay_json_with(reply, headers, _read_completion,
                                 lambda status, message: error_body(status, message))


async def relay_stream(request: web.Request, reply: UpstreamReply, headers: dict[str, str],
                       started: float, opened: web.StreamResponse | None = None
                       ) -> tuple[web.StreamResponse, Outcome]:
    """Stream chunks to the client as they arrive. A failure after the first byte becomes
    an error chunk `data: {"error": {...}}` and the stream closes without `[DONE]`. With
    `opened` (a stream we already started) the chunks go into it as they are."""
    response = opened or await open_stream(request, headers)
    parser = SSEParser()
    acc = ChatAccumulator()
    outcome = Outcome(200)
    assert reply.stream is not None
    try:
        async for chunk in reply.stream:
            if outcome.ttfb_ms is None:
                outcome.ttfb_ms = (time.monotonic() - started) * 1000
            await response.write(chunk)
            for event in parser.feed(chunk):
                acc.add(event.data)
    except UpstreamError as exc:
        outcome.error = str(exc)
    finally:
        await reply.close()
    if outcome.error is None and acc.error is not None:
        outcome.error = str(acc.error.get("message", acc.error))
    elif outcome.error is None and not acc.done:
        outcome.error = "upstream stream ended before [DONE]"
    if outcome.error is not None and acc.error is None:
        await response.write(error_frame(502, outcome.error))
    if outcome.error is not None:
        outcome.status = 502
    _usage(outcome, acc.usage)
    outcome.stop_reason = acc.finish_reason
    outcome.content = acc.content()
    await response.write_eof()
    return response, outcome
