"""Error bodies, both ways, in one place: reading the words out of an upstream's error
answer (whatever its protocol or a gateway made of it), writing the client's error object in
its protocol, and the Retry-After hint that comes with an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from fusion_tui.protocols import anthropic as anthropic_wire
from fusion_tui.protocols import openai as openai_wire
from fusion_tui.protocols.wire import Wire

_NOT_PARSED: Any = object()


@dataclass(frozen=True)
class ErrorText:
    """What an upstream's error body says."""

    message: str
    """Its words, else its first 300 bytes, else `HTTP <status>`."""
    found: bool
    """The words came from a field that holds them (`error.message`, `detail`, ...)."""
    in_shape: bool
    """The body already is a protocol error object (`{"error": {"message": ...}}`)."""


def read_error(raw: bytes | None, status: int, parsed: Any = _NOT_PARSED) -> ErrorText:
    """The message of an upstream's error body. Anthropic and OpenAI both put
    `error.message`; some servers put a bare `error` string, a top-level `message`, or (the
    ChatGPT backend) `detail`. `parsed` is the body already parsed, when the caller has it."""
    raw = raw or b""
    if parsed is _NOT_PARSED:
        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and error.get("message"):
            return ErrorText(str(error["message"]), True, True)
        for said in (error if isinstance(error, str) else None, parsed.get("detail"),
                     parsed.get("message")):
            if said:
                return ErrorText(str(said), True, False)
    text = raw[:300].decode("utf-8", "replace").strip()
    return ErrorText(text or f"HTTP {status}", False, False)


def error_body(wire: Wire | str, status: int, message: str, error_type: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    """The client's error object in `wire`'s shape (Responses clients get OpenAI's)."""
    if wire == Wire.ANTHROPIC:
        return anthropic_wire.error_body(status, message, error_type)
    return openai_wire.error_body(status, message, error_type, param)


def error_bytes(wire: Wire | str, status: int, raw: bytes) -> bytes:
    """Any upstream error body as `wire`'s error body, the message kept."""
    return orjson.dumps(error_body(wire, status, read_error(raw, status).message))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form only; None when absent or not a
    number)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
