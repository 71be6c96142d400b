"""One streamed text call to an upstream, collected, with a callback per piece of text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from fusion_tui.events.council import AnswerState
from fusion_tui.protocols.anthropic import MessageAccumulator
from fusion_tui.protocols.errors import read_error
from fusion_tui.protocols.sse import MalformedEvent, SSEParser, strict_json_events
from fusion_tui.upstreams.base import ErrorKind, Upstream, UpstreamError


@dataclass
class TextResult:
    """What a text call produced so far (complete when `finished`)."""

    text: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    finished: bool = False
    latency_ms: float = 0.0

    @property
    def input_tokens(self) -> int:
        """Input tokens reported."""
        return int(self.usage.get("input_tokens") or 0)

    @property
    def output_tokens(self) -> int:
        """Output tokens reported."""
        return int(self.usage.get("output_tokens") or 0)


async def stream_text(upstream: Upstream, body: dict[str, Any], headers: Mapping[str, str],
                      result: TextResult, on_text: Callable[[str], None] | None = None) -> None:
    """Call `upstream` with `body` (streamed) and fill `result` as text arrives.

    `result` is filled in place so a caller that cancels at a deadline keeps the partial text.
    Raises UpstreamError for a failed call or a stream that ends with an error.
    """
    started = time.monotonic()
    reply = await upstream.messages({**body, "stream": True}, headers)
    try:
        if not reply.ok:
            said = read_error(reply.body, reply.status)
            raise UpstreamError(f"HTTP {reply.status}: {said.message}" if said.found
                                else f"HTTP {reply.status}", status=reply.status)
        parser = SSEParser()
        acc = MessageAccumulator()
        if reply.stream is None:
            message = orjson.loads(reply.body or b"{}")
            result.text = "".join(b.get("text", "") for b in message.get("content", [])
                                  if b.get("type") == "text")
            result.usage = dict(message.get("usage") or {})
            result.finished = True
            if on_text and result.text:
                on_text(result.text)
            return
        async for chunk in reply.stream:
            try:
                events = list(strict_json_events(parser, chunk))
            except MalformedEvent as exc:
                raise UpstreamError(f"{upstream.settings.id}: malformed event: {exc}",
                                    kind=ErrorKind.MALFORMED) from exc
            for event, payload in events:
                kind = event.event or str(payload.get("type", ""))
                acc.add(kind, payload)
                delta = payload.get("delta") or {}
                if kind == "content_block_delta" and delta.get("type") == "text_delta":
                    piece = str(delta.get("text", ""))
                    result.text += piece
                    if on_text:
                        on_text(piece)
        result.usage = dict(acc.usage)
        if acc.error is not None:
            raise UpstreamError(f"{upstream.settings.id}: {acc.error.get('message', acc.error)}")
        if not acc.finished:
            raise UpstreamError(f"{upstream.settings.id}: stream ended before message_stop")
        result.finished = True
    finally:
        result.latency_ms = (time.monotonic() - started) * 1000
        await reply.close()


@dataclass
class Contribution:
    """One participant's text call after a deadline: ok, partial (cut, text kept) or failed."""

    name: str
    state: AnswerState
    result: TextResult
    error: str | None = None


async def gather_texts(calls: Mapping[str, Callable[[TextResult], Awaitable[None]]],
                       deadline_s: float, task_prefix: str) -> list[Contribution]:
    """Run each call (it fills the TextResult it is given) in parallel under one deadline.

    A call still running at the deadline is cut: its text so far is kept and it is `partial`
    (or `failed` if nothing arrived). Cancelling the caller cancels every call at once.
    Results come back in the order of `calls`.
    """
    results = {name: TextResult() for name in calls}
    errors: dict[str, str] = {}

    async def run(name: str) -> None:
        try:
            await calls[name](results[name])
        except UpstreamError as exc:
            errors[name] = str(exc)

    tasks = {asyncio.create_task(run(name), name=f"{task_prefix}:{name}"): name
             for name in calls}
    try:
        _, late = await asyncio.wait(tasks, timeout=deadline_s)
    finally:
        # Reached on the deadline and on cancellation from outside (the client hung up).
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    late_names = {tasks[t] for t in late}
    contributions = []
    for name in calls:
        result = results[name]
        if name in errors:
            contributions.append(Contribution(name, AnswerState.FAILED, result, errors[name]))
        elif name in late_names:
            state = AnswerState.PARTIAL if result.text.strip() else AnswerState.FAILED
            contributions.append(Contribution(name, state, result,
                                              f"cut at the {deadline_s:g}s deadline"))
        else:
            contributions.append(Contribution(name, AnswerState.OK, result))
    return contributions
