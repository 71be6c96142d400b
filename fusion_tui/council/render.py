"""Render a finished text answer as an Anthropic message, whole or as an SSE stream."""

from __future__ import annotations

from typing import Any

from fusion_tui.protocols.sse import encode_sse


def message_json(message_id: str, model: str, text: str,
                 usage: dict[str, Any]) -> dict[str, Any]:
    """A complete Messages API response with one text block."""
    return {"id": message_id, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": int(usage.get("input_tokens") or 0),
                      "output_tokens": int(usage.get("output_tokens") or 0)}}


def message_start(message_id: str, model: str, input_tokens: int = 0) -> bytes:
    """The opening `message_start` event of a stream."""
    return encode_sse("message_start", {"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 0}}})


def text_events(text: str, usage: dict[str, Any], chunk_chars: int = 400) -> bytes:
    """Everything after message_start for a one-text-block answer, ending in message_stop."""
    out = [encode_sse("content_block_start", {"type": "content_block_start", "index": 0,
                                              "content_block": {"type": "text", "text": ""}})]
    for i in range(0, len(text), chunk_chars):
        out.append(encode_sse("content_block_delta", {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text[i:i + chunk_chars]}}))
    out.append(encode_sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
    out.append(encode_sse("message_delta", {
        "type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": int(usage.get("output_tokens") or 0)}}))
    out.append(encode_sse("message_stop", {"type": "message_stop"}))
    return b"".join(out)
