"""Wire protocols (the bottom layer, standard library and orjson only): SSE framing, the
Anthropic Messages, OpenAI Chat Completions and Responses shapes (`Wire`), the neutral model,
translation between them (`translation.translate`), and error bodies both ways (`errors`)."""

from __future__ import annotations

from typing import Any


def translate_request_openai_to_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """A Chat Completions request body in Anthropic Messages shape (the model name kept),
    for readers that only understand Anthropic's shape (the gate). Notes are discarded."""
    from fusion_tui.protocols.neutral import Notes
    from fusion_tui.protocols.translation import translate
    from fusion_tui.protocols.wire import Wire

    return translate(body, Wire.OPENAI, Wire.ANTHROPIC, Notes(),
                     model=str(body.get("model", "")),
                     default_max_tokens=int(body.get("max_completion_tokens")
                                            or body.get("max_tokens") or 4096))


__all__ = ["translate_request_openai_to_anthropic"]
