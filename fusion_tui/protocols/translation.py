"""Translation between the wire protocols, all of it: one registry of codecs (`CODECS`), each
a protocol's bodies and streams to and from the neutral model (protocols/neutral.py), and
three entries over it: `translate` (a request or a complete answer), `translate_stream` (SSE
bytes) and `anthropic_view` (a request as the gate and the council read it). Every pair of
protocols goes through the neutral model, so adding a protocol means adding one codec here.

What a translation cannot carry is added to the caller's `Notes`. Error bodies are written by
`protocols/errors.error_bytes`. Sans-IO: streams are async iterators of bytes in and out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from fusion_tui.protocols import anthropic_codec as ac
from fusion_tui.protocols import neutral as n
from fusion_tui.protocols import openai_codec as oc
from fusion_tui.protocols import openai_stream as os_
from fusion_tui.protocols import responses_codec as rc
from fusion_tui.protocols import responses_stream as rs
from fusion_tui.protocols.sse import SSEEvent, SSEParser
from fusion_tui.protocols.wire import Wire

Kind = Literal["request", "response"]

VIEW_MAX_TOKENS = 4096
"""max_tokens of `anthropic_view` when the request set no limit of its own."""


class StreamDecoder(Protocol):
    """A protocol's SSE events -> neutral stream events, for one stream."""

    def feed(self, event: SSEEvent) -> list[n.StreamEvent]:
        """The neutral events one SSE event stands for (MalformedEvent for broken data)."""

    def end(self) -> list[n.StreamEvent]:
        """The neutral events owed when the bytes end (a cut stream owes none)."""


class StreamEncoder(Protocol):
    """Neutral stream events -> a protocol's SSE bytes, for one stream."""

    def encode(self, event: n.StreamEvent) -> bytes:
        """The SSE frames for one neutral event (may be empty)."""


@dataclass(frozen=True)
class Codec:
    """A wire protocol's bodies and streams to and from the neutral model."""

    decode_request: Callable[[dict[str, Any], n.Notes], n.Request]
    encode_request: Callable[..., dict[str, Any]]
    """(request, notes, *, model, **limits): the protocol's own limit option
    (`default_max_tokens` for Anthropic, `token_field` for Chat Completions)."""
    decode_response: Callable[[dict[str, Any], n.Notes], n.Response]
    encode_response: Callable[[n.Response, n.Notes], dict[str, Any]]
    stream_decoder: Callable[[n.Notes], StreamDecoder]
    stream_encoder: Callable[[n.Notes, str, bool], StreamEncoder]
    """(notes, model, include_usage): `model` names the answer when the stream's own start
    does not (Anthropic's always does); `include_usage` is Chat Completions' usage chunk."""


CODECS: dict[Wire, Codec] = {
    Wire.ANTHROPIC: Codec(
        ac.decode_request, ac.encode_request,
        lambda body, notes: ac.decode_response(body), ac.encode_response,
        ac.StreamDecoder, lambda notes, model, include_usage: ac.StreamEncoder(notes)),
    Wire.OPENAI: Codec(
        oc.decode_request, oc.encode_request, oc.decode_response, oc.encode_response,
        os_.StreamDecoder,
        lambda notes, model, include_usage: os_.StreamEncoder(notes, include_usage, model)),
    Wire.RESPONSES: Codec(
        rc.decode_request, rc.encode_request, rc.decode_response, rc.encode_response,
        rs.StreamDecoder, lambda notes, model, include_usage: rs.StreamEncoder(notes, model)),
}


def translate(body: dict[str, Any], source: Wire, target: Wire, notes: n.Notes,
              *, kind: Kind = "request", **options: Any) -> dict[str, Any]:
    """`body` (a request, or with kind="response" a complete answer) in `source`'s wire as
    `target`'s. Requests take the target's options: `model` always, plus
    `default_max_tokens` (Anthropic) or `token_field` (Chat Completions)."""
    decoder, encoder = CODECS[source], CODECS[target]
    if kind == "request":
        return encoder.encode_request(decoder.decode_request(body, notes), notes, **options)
    return encoder.encode_response(decoder.decode_response(body, notes), notes)


def translate_stream(chunks: AsyncIterator[bytes], source: Wire, target: Wire,
                     notes: n.Notes, *, model: str = "", include_usage: bool = False
                     ) -> AsyncIterator[bytes]:
    """`source`'s SSE bytes as `target`'s: decoded to neutral stream events by the source's
    codec, encoded by the target's. The same protocol both ways is `chunks` itself, untouched
    (no parsing, no copy: the relay's hot path). A cut stream ends cut; a stream error
    becomes the target's error event; data that is not a JSON object raises MalformedEvent
    before the chunk it came in is passed on."""
    if source == target:
        return chunks
    return _translated(chunks, CODECS[source].stream_decoder(notes),
                       CODECS[target].stream_encoder(notes, model, include_usage))


async def _translated(chunks: AsyncIterator[bytes], decoder: StreamDecoder,
                      encoder: StreamEncoder) -> AsyncIterator[bytes]:
    parser = SSEParser()
    async for chunk in chunks:
        out = b"".join(encoder.encode(e) for event in parser.feed(chunk)
                       for e in decoder.feed(event))
        if out:
            yield out
    tail = b"".join(encoder.encode(e) for e in decoder.end())
    if tail:
        yield tail


def anthropic_view(body: dict[str, Any], source: Wire) -> dict[str, Any]:
    """A request in Anthropic Messages shape, for readers that understand only that shape (the
    gate, the council, the routing evals): the model name and the body's own token limit kept
    (VIEW_MAX_TOKENS if it set none), notes discarded. An Anthropic body is returned as is."""
    if source == Wire.ANTHROPIC:
        return body
    return translate(body, source, Wire.ANTHROPIC, n.Notes(), model=str(body.get("model", "")),
                     default_max_tokens=VIEW_MAX_TOKENS)
