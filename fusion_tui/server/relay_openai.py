"""Relay a Chat Completions reply to an OpenAI client: bytes pass through untouched while a
parser alongside collects what the events need."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fusion_tui.core.engine.outcome import Outcome
from fusion_tui.protocols.openai import ChatAccumulator, error_body, response_content
from fusion_tui.protocols.openai_stream import error_frame
from fusion_tui.protocols.sse import CheckedFrames, MalformedEvent, SSEParser
from fusion_tui.server.relay import relay_events, relay_json_with
from fusion_tui.upstreams import UpstreamReply


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


class ChatStream:
    """Chat Completions chunks: they pass through as they are, even into a stream we opened."""

    end = "[DONE]"

    def __init__(self) -> None:
        self.parser = SSEParser()
        self.acc = ChatAccumulator()

    def take(self, chunk: bytes, reframe: bool) -> list[bytes]:
        """Accumulate the chunks; MalformedEvent for data that is neither JSON nor [DONE]."""
        if isinstance(chunk, CheckedFrames):
            for _, payload in chunk.events:
                if payload is None:
                    self.acc.done = True
                else:
                    self.acc.add_chunk(payload)
            return [chunk] if reframe else []
        for event in self.parser.feed(chunk):
            if event.data and not self.acc.add(event.data):
                raise MalformedEvent(f"chunk data is not a JSON object: {event.data[:80]!r}")
        return [chunk] if reframe else []

    @property
    def finished(self) -> bool:
        """`data: [DONE]` arrived."""
        return bool(self.acc.done)

    def upstream_error(self) -> str | None:
        """The upstream's error chunk message, if any."""
        error = self.acc.error
        return None if error is None else str(error.get("message", error))

    def error_frame(self, status: int, message: str) -> bytes:
        """`data: {"error": ...}`; the stream then closes without [DONE]."""
        return error_frame(status, message)

    def fill(self, outcome: Outcome) -> None:
        """Usage, finish reason and content."""
        _usage(outcome, self.acc.usage)
        outcome.stop_reason = self.acc.finish_reason
        outcome.content = self.acc.content()


async def relay_stream(request: web.Request, reply: UpstreamReply, headers: dict[str, str],
                       started: float, opened: web.StreamResponse | None = None
                       ) -> tuple[web.StreamResponse, Outcome]:
    """Relay a Chat Completions stream (see `relay.relay_events`)."""
    return await relay_events(request, reply, headers, started, opened, ChatStream())
