"""What an upstream's answer must look like before the proxy reads or relays it: typed checks
of a whole answer and of each stream event, per protocol, for every field the proxy (its
relays, accumulators and translators) or a client SDK reads. A wrong type is the upstream's
protocol error (`MalformedUpstream`), never an exception further in.

Only the types are checked, and only of fields that are present (absent optional fields are
the protocols' business); unknown fields and event types pass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fusion_tui.protocols.sse import MalformedEvent
from fusion_tui.protocols.wire import Wire

Check = Callable[[Any], None]
"""Raises MalformedUpstream for a value that is not allowed; the field's path is filled in on
the way out (nothing is built while values pass: this runs for every event of every
stream)."""


class MalformedUpstream(MalformedEvent):
    """An upstream's answer or event that is not what its protocol allows (a field of the
    wrong type, an error object or another protocol's body sent as a success)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
        self.path: list[str] = []

    def at(self, name: str | int) -> MalformedUpstream:
        """The same failure, one level further out (`name` is the field or the index)."""
        self.path.insert(0, f"[{name}]" if isinstance(name, int) else f".{name}")
        return self

    def __str__(self) -> str:
        where = "".join(self.path).lstrip(".")
        return f"{where} {self.what}" if where else self.what


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _expect(ok: bool, value: Any, what: str) -> None:
    if not ok:
        raise MalformedUpstream(f"is {_kind(value)}, not {what}")


def text(value: Any) -> None:
    """A string."""
    if type(value) is not str:
        _expect(isinstance(value, str), value, "a string")


def opt_text(value: Any) -> None:
    """A string or null."""
    if value is not None and type(value) is not str:
        _expect(isinstance(value, str), value, "a string or null")


def count(value: Any) -> None:
    """A non-negative integer (a bool is not one)."""
    _expect(type(value) is int and value >= 0, value, "a non-negative integer")


def opt_count(value: Any) -> None:
    """A count or null."""
    if value is not None:
        count(value)


def obj(value: Any) -> None:
    """A JSON object."""
    _expect(isinstance(value, dict), value, "an object")


def array(value: Any) -> None:
    """A JSON array."""
    _expect(isinstance(value, list), value, "an array")


def fields(spec: dict[str, Check]) -> Check:
    """An object whose fields named in `spec` (when present) pass their checks."""
    def check(value: Any) -> None:
        if not isinstance(value, dict):
            obj(value)
        for name, item in value.items():
            field_check = spec.get(name)
            if field_check is not None:
                try:
                    field_check(item)
                except MalformedUpstream as exc:
                    raise exc.at(name) from None
    return check


def nullable(check: Check) -> Check:
    """`check`, or null."""
    def nullable_check(value: Any) -> None:
        if value is not None:
            check(value)
    return nullable_check


def each(check: Check) -> Check:
    """An array whose items pass `check`."""
    def each_check(value: Any) -> None:
        if not isinstance(value, list):
            array(value)
        for i, item in enumerate(value):
            try:
                check(item)
            except MalformedUpstream as exc:
                raise exc.at(i) from None
    return each_check


def typed(by_type: dict[str, Check]) -> Check:
    """An object with a string `type`, checked further by the entry for that type."""
    def typed_check(value: Any) -> None:
        if not isinstance(value, dict):
            obj(value)
        kind = value.get("type")
        if type(kind) is not str:
            raise MalformedUpstream(f"is {_kind(kind)}, not a string").at("type")
        extra = by_type.get(kind)
        if extra is not None:
            extra(value)
    return typed_check


def required(value: dict[str, Any], names: tuple[str, ...]) -> None:
    """The fields `names` are present."""
    for name in names:
        if name not in value:
            raise MalformedUpstream(f"has no {name!r}")


# --- Anthropic Messages ---------------------------------------------------------------

_A_USAGE = nullable(fields({"input_tokens": opt_count, "output_tokens": opt_count,
                            "cache_creation_input_tokens": opt_count,
                            "cache_read_input_tokens": opt_count}))
_A_BLOCK = typed({
    "text": fields({"text": text, "citations": nullable(array)}),
    "tool_use": fields({"id": text, "name": text, "input": obj}),
    "server_tool_use": fields({"id": text, "name": text, "input": obj}),
    "thinking": fields({"thinking": text, "signature": opt_text}),
    "redacted_thinking": fields({"data": text}),
})
_A_MESSAGE = fields({"id": text, "type": text, "role": text, "model": text,
                     "content": each(_A_BLOCK), "stop_reason": opt_text,
                     "stop_sequence": opt_text, "usage": _A_USAGE})
_A_DELTA = typed({
    "text_delta": fields({"text": text}),
    "input_json_delta": fields({"partial_json": text}),
    "thinking_delta": fields({"thinking": text}),
    "signature_delta": fields({"signature": text}),
})
_A_ERROR = fields({"message": text, "type": opt_text})
_A_EVENTS: dict[str, Check] = {
    "message_start": fields({"message": _A_MESSAGE}),
    "content_block_start": fields({"index": count, "content_block": _A_BLOCK}),
    "content_block_delta": fields({"index": count, "delta": _A_DELTA}),
    "content_block_stop": fields({"index": count}),
    "message_delta": fields({"delta": fields({"stop_reason": opt_text,
                                              "stop_sequence": opt_text}),
                             "usage": _A_USAGE}),
    "error": fields({"error": _A_ERROR}),
}


def _anthropic_answer(body: dict[str, Any]) -> None:
    if body.get("type") != "message":
        raise MalformedUpstream(f"type is {body.get('type')!r}, not 'message'")
    required(body, ("content",))
    _A_MESSAGE(body)


# --- OpenAI Chat Completions -----------------------------------------------------------

_O_USAGE = nullable(fields({"prompt_tokens": opt_count, "completion_tokens": opt_count,
                            "total_tokens": opt_count,
                            "prompt_tokens_details": nullable(fields(
                                {"cached_tokens": opt_count}))}))
_O_FUNCTION = fields({"name": opt_text, "arguments": opt_text})
_O_TOOL_CALL = fields({"index": count, "id": opt_text, "type": opt_text,
                       "function": nullable(_O_FUNCTION)})
_O_CONTENT = nullable(lambda value: None if isinstance(value, str) else each(obj)(value))
_O_MESSAGE = fields({"role": opt_text, "content": _O_CONTENT, "refusal": opt_text,
                     "reasoning_content": opt_text, "reasoning": opt_text,
                     "tool_calls": nullable(each(_O_TOOL_CALL))})
_O_DELTA = fields({"role": opt_text, "content": opt_text, "refusal": opt_text,
                   "reasoning_content": opt_text, "reasoning": opt_text,
                   "tool_calls": nullable(each(_O_TOOL_CALL))})
_O_CHOICE = fields({"index": count, "finish_reason": opt_text, "message": _O_MESSAGE,
                    "delta": nullable(_O_DELTA)})
_O_COMMON = {"id": opt_text, "model": opt_text, "created": opt_count, "object": opt_text,
             "choices": each(_O_CHOICE), "usage": _O_USAGE}
_O_ANSWER = fields(_O_COMMON)
_O_CHUNK = fields({**_O_COMMON, "error": lambda value: None if isinstance(value, str)
                   else _A_ERROR(value)})


def _openai_answer(body: dict[str, Any]) -> None:
    if "object" in body and body["object"] != "chat.completion":
        raise MalformedUpstream(f"object is {body['object']!r}, not 'chat.completion'")
    required(body, ("choices",))
    _O_ANSWER(body)
    if not body["choices"]:
        raise MalformedUpstream("is empty").at("choices")
    for i, choice in enumerate(body["choices"]):
        try:
            required(choice, ("message",))
        except MalformedUpstream as exc:
            raise exc.at(i).at("choices") from None


# --- OpenAI Responses ------------------------------------------------------------------

_R_USAGE = nullable(fields({"input_tokens": opt_count, "output_tokens": opt_count,
                            "total_tokens": opt_count,
                            "input_tokens_details": nullable(fields(
                                {"cached_tokens": opt_count})),
                            "output_tokens_details": nullable(fields(
                                {"reasoning_tokens": opt_count}))}))
_R_PART = typed({
    "output_text": fields({"text": text, "annotations": nullable(array)}),
    "refusal": fields({"refusal": text}),
    "summary_text": fields({"text": text}),
    "reasoning_text": fields({"text": text}),
})
_R_ITEM = typed({
    "message": fields({"id": opt_text, "role": opt_text, "status": opt_text,
                       "content": each(_R_PART)}),
    "function_call": fields({"id": opt_text, "call_id": text, "name": text,
                             "arguments": text, "status": opt_text}),
    "reasoning": fields({"id": opt_text, "summary": nullable(each(_R_PART)),
                         "content": nullable(each(_R_PART)),
                         "encrypted_content": opt_text}),
})
_R_ERROR = nullable(fields({"message": opt_text, "code": opt_text}))
_R_RESPONSE = fields({"id": opt_text, "object": opt_text, "status": opt_text,
                      "model": opt_text, "created_at": lambda v: _expect(
                          v is None or (isinstance(v, int | float) and not isinstance(v, bool)),
                          v, "a number or null"),
                      "output": each(_R_ITEM), "usage": _R_USAGE, "error": _R_ERROR,
                      "incomplete_details": nullable(fields({"reason": opt_text}))})
_R_EVENT = fields({"type": text, "sequence_number": opt_count, "output_index": count,
                   "content_index": count, "summary_index": count, "item_id": opt_text,
                   "delta": text, "text": text, "arguments": text, "item": _R_ITEM,
                   "part": _R_PART, "response": _R_RESPONSE, "message": opt_text,
                   "code": opt_text})


def _responses_answer(body: dict[str, Any]) -> None:
    if body.get("object") != "response":
        raise MalformedUpstream(f"object is {body.get('object')!r}, not 'response'")
    required(body, ("output",))
    _R_RESPONSE(body)


_ANSWERS: dict[Wire, Callable[[dict[str, Any]], None]] = {
    Wire.ANTHROPIC: _anthropic_answer, Wire.OPENAI: _openai_answer,
    Wire.RESPONSES: _responses_answer}


def check_answer(wire: Wire, body: Any) -> None:
    """MalformedUpstream unless `body` (parsed JSON of a 2xx answer) is a `wire` answer with
    every field the proxy reads of the right type. An error object sent with a 2xx status is
    named as one, its words quoted."""
    if not isinstance(body, dict):
        raise MalformedUpstream(f"the answer is {_kind(body)}, not a JSON object")
    error = body.get("error")
    if body.get("type") == "error" or (isinstance(error, dict) and error):
        said = error.get("message") if isinstance(error, dict) else None
        raise MalformedUpstream(f"an error object sent as a success: {str(said)[:200]}")
    try:
        _ANSWERS[wire](body)
    except MalformedUpstream as exc:
        raise exc.at("answer") from None


def _plain_text_delta(payload: dict[str, Any]) -> bool:
    """Whether an Anthropic content_block_delta is a text delta that passes its check (most
    events of a stream are: this answers without walking the check's spec)."""
    index = payload.get("index")
    delta = payload.get("delta")
    return (type(index) is int and index >= 0 and type(delta) is dict
            and delta.get("type") == "text_delta" and type(delta.get("text")) is str)


def check_event(wire: Wire, name: str, payload: dict[str, Any]) -> None:
    """MalformedUpstream unless a `wire` stream event's data (a JSON object already; `name`
    its SSE event name) has every field the proxy reads of the right type."""
    try:
        if wire == Wire.ANTHROPIC:
            kind = payload.get("type", name)
            if kind == "content_block_delta" and _plain_text_delta(payload):
                return
            if not isinstance(kind, str):
                raise MalformedUpstream(f"is {_kind(kind)}, not a string").at("type")
            check = _A_EVENTS.get(kind or name)
            if check is not None:
                check(payload)
        elif wire == Wire.OPENAI:
            _O_CHUNK(payload)
        else:
            _R_EVENT(payload)
    except MalformedUpstream as exc:
        kind = payload.get("type") or name or "chunk"
        raise exc.at(str(kind)) from None
