"""One entry for translating a request or a complete answer between wire protocols:
`translate(body, source, target, notes, ...)`, backed by a registry of codecs, each to and
from the neutral model (protocols/neutral.py). Adding a protocol means adding its codec
here; every pair then works through the neutral model.

What a translation cannot carry is added to `notes`. Streams are translated by the
stream functions in translate.py and translate_responses.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fusion_tui.protocols import anthropic_codec as ac
from fusion_tui.protocols import neutral as n
from fusion_tui.protocols import openai_codec as oc
from fusion_tui.protocols import responses_codec as rc
from fusion_tui.protocols.wire import Wire

Kind = Literal["request", "response"]


@dataclass(frozen=True)
class Codec:
    """A wire protocol's bodies to and from the neutral model."""

    decode_request: Callable[[dict[str, Any], n.Notes], n.Request]
    encode_request: Callable[..., dict[str, Any]]
    """(request, notes, *, model, **limits): the protocol's own limit option
    (`default_max_tokens` for Anthropic, `token_field` for Chat Completions)."""
    decode_response: Callable[[dict[str, Any], n.Notes], n.Response]
    encode_response: Callable[[n.Response, n.Notes], dict[str, Any]]


CODECS: dict[Wire, Codec] = {
    Wire.ANTHROPIC: Codec(ac.decode_request, ac.encode_request,
                          lambda body, notes: ac.decode_response(body), ac.encode_response),
    Wire.OPENAI: Codec(oc.decode_request, oc.encode_request, oc.decode_response,
                       oc.encode_response),
    Wire.RESPONSES: Codec(rc.decode_request, rc.encode_request, rc.decode_response,
                          rc.encode_response),
}


def translate(body: dict[str, Any], source: Wire | str, target: Wire | str, notes: n.Notes,
              *, kind: Kind = "request", **options: Any) -> dict[str, Any]:
    """`body` (a request, or with kind="response" a complete answer) in `source`'s wire as
    `target`'s. Requests take the target's options: `model` always, plus
    `default_max_tokens` (Anthropic) or `token_field` (Chat Completions)."""
    decoder, encoder = CODECS[Wire(source)], CODECS[Wire(target)]
    if kind == "request":
        return encoder.encode_request(decoder.decode_request(body, notes), notes, **options)
    return encoder.encode_response(decoder.decode_response(body, notes), notes)
