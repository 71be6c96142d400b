"""SSE framing, the stream accumulator, session ids, the route header."""

from __future__ import annotations

from fusion_tui.protocols.anthropic import MessageAccumulator
from fusion_tui.protocols.sse import SSEParser, encode_sse
from fusion_tui.routing import format_route, session_id_for


def test_sse_parser_handles_split_chunks_crlf_comments_and_multiline() -> None:
    stream = b": keepalive\r\nevent: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\nevent: b\ndata: 2\n\n"
    parser = SSEParser()
    events = []
    for i in range(len(stream)):
        events += parser.feed(stream[i:i + 1])
    assert [(e.event, e.data) for e in events] == [("a", '{"x":\n1}'), ("b", "2")]
    assert not parser.pending


def test_encode_sse_round_trips() -> None:
    events = SSEParser().feed(encode_sse("ping", {"type": "ping"}))
    assert events[0].event == "ping" and events[0].json() == {"type": "ping"}


def test_accumulator_builds_text_and_tool_input() -> None:
    acc = MessageAccumulator()
    acc.add("message_start", {"message": {"id": "m", "usage": {"input_tokens": 5}}})
    acc.add("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    acc.add("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hi "}})
    acc.add("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "you"}})
    acc.add("content_block_stop", {"index": 0})
    acc.add("content_block_start", {"index": 1, "content_block": {"type": "tool_use",
                                                                  "id": "t", "name": "Read"}})
    for piece in ['{"file_', 'path": "/a"}']:
        acc.add("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta",
                                                              "partial_json": piece}})
    acc.add("content_block_stop", {"index": 1})
    acc.add("message_delta", {"delta": {"stop_reason": "tool_use"},
                              "usage": {"output_tokens": 9}})
    acc.add("message_stop", {})
    assert acc.content() == [{"type": "text", "text": "Hi you"},
                             {"type": "tool_use", "id": "t", "name": "Read",
                              "input": {"file_path": "/a"}}]
    assert (acc.input_tokens, acc.output_tokens, acc.stop_reason, acc.finished) == (
        5, 9, "tool_use", True)


def test_session_id_prefers_claude_code_header_then_fusion_header_then_hash() -> None:
    body = {"system": "sys", "messages": [{"role": "user", "content": "first"},
                                          {"role": "assistant", "content": "a"},
                                          {"role": "user", "content": "later"}]}
    assert session_id_for({"x-claude-code-session-id": "cc", "x-fusion-session": "f"}, body) == "cc"
    assert session_id_for({"x-fusion-session": "f"}, body) == "f"
    hashed = session_id_for({}, body)
    assert hashed.startswith("h-")
    shorter = {"system": "sys", "messages": [{"role": "user", "content": "first"}]}
    assert session_id_for({}, shorter) == hashed
    assert session_id_for({}, {**shorter, "system": "other"}) != hashed


def test_route_header_grammar() -> None:
    assert format_route("single", None, "opus") == "mode=single; tier=-; served_by=opus"
    full = format_route("smart", "plan", "a", actor="a", council=["b", "c"],
                        scores={"compact": 0.1, "plan": 0.9}, reason="knn plan")
    assert full == ("mode=smart; tier=plan; served_by=a; actor=a; council=b+c; "
                    "scores=compact:0.10,plan:0.90; reason=knn_plan")


def test_codex_prompt_cache_key_is_the_session() -> None:
    body = {"prompt_cache_key": "019a-codex-session", "input": []}
    assert session_id_for({}, body) == "019a-codex-session"
    assert session_id_for({"x-fusion-session": "f"}, body) == "f"
