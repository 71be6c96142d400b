"""Segment extraction from Anthropic request bodies (sans-IO)."""

from __future__ import annotations

from typing import Any

from fusion_tui.config.embeddings import GateSettings
from fusion_tui.routing import segments as seg
from fusion_tui.routing.data import HELDOUT, load_examples


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


BODY: dict[str, Any] = {
    "model": "m", "max_tokens": 10,
    "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"},
               {"type": "text", "text": "You are a coding agent. " * 100}],
    "messages": [
        user(text("<system-reminder>\nAttribution rules\n</system-reminder>\n"),
             text("first task: rename foo")),
        {"role": "system", "content": "# Environment\ncwd: /x\n\nPlan mode is active."},
        {"role": "assistant", "content": "done, anything else?"},
        user(text("now fix the bug in parse()\n```python\ndef parse(x):\n    return x\n```")),
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                                           "input": {}}]},
        user({"type": "tool_result", "tool_use_id": "t1", "is_error": True,
              "content": [text("Traceback: KeyError")]}),
        {"role": "system", "content": ""},
    ],
    "safeguards": [{"x": {"classifier_context": {"permission_mode": "plan"}}}],
}


def test_latest_user_text_skips_tool_results_and_reminders() -> None:
    s = seg.extract(BODY)
    assert s.user.startswith("now fix the bug in parse()")
    assert "Attribution" not in s.history and s.history == "first task: rename foo"
    assert s.assistant == "done, anything else?"


def test_tool_results_of_current_turn_marked_errors() -> None:
    s = seg.extract(BODY)
    assert s.tools == "[error] Traceback: KeyError"


def test_code_block_system_prefix_and_billing_line() -> None:
    s = seg.extract(BODY, GateSettings(system_chars=100))
    assert s.code == "def parse(x):\n    return x"
    assert not s.system.startswith("x-anthropic") and len(s.system) <= 100


def test_harness_chunks_in_order_and_permission_mode() -> None:
    s = seg.extract(BODY)
    sources = [(c.source, c.position) for c in s.harness]
    assert ("reminder", 0) in sources and ("system_message", 1) in sources
    assert sources == sorted(sources, key=lambda p: p[1])
    assert any("Plan mode is active." in c.text for c in s.harness)
    assert s.permission_mode == "plan"
    assert set(s.named()) == {"user", "history", "assistant", "tools", "code", "system"}


def test_string_system_and_odd_shapes() -> None:
    s = seg.extract({"system": "short", "messages": [
        "junk", {"role": "user", "content": None}, {"role": "user", "content": "hi"}]})
    assert s.user == "hi" and s.system == "short" and s.tools == ""
    assert seg.extract({}).named() == {}


def test_bounds() -> None:
    settings = GateSettings(user_chars=50, tool_chars=60, history_chars=70)
    long = {"messages": [user(text("a " * 500)), user(text("b " * 500)),
                         user({"type": "tool_result", "content": "c " * 500})]}
    s = seg.extract(long, settings)
    assert len(s.user) <= 50 and len(s.history) <= 70 and len(s.tools) <= 60


def test_chunk_text_limits() -> None:
    chunks = seg.chunk_text("p1\n\n" + "x" * 250 + "\n\np3", 100)
    assert all(len(c) <= 100 for c in chunks) and chunks[0] == "p1" and chunks[-1].endswith("p3")


def test_expanded_dataset_bodies_look_like_claude_code() -> None:
    example = load_examples(HELDOUT)[0]
    body = example.body
    assert body["system"][0]["text"].startswith("x-anthropic-billing-header")
    assert any(m["role"] == "system" for m in body["messages"]) and len(body["tools"]) > 5
    assert seg.extract(body).user


def test_harness_written_user_blocks_are_not_the_ask() -> None:
    # Codex sends its environment context as a text block of the same user message as the
    # ask; Claude Code writes local-command blocks into the conversation after /compact.
    body = {"model": "m", "max_tokens": 10, "messages": [
        user(text("<environment_context>\n  <cwd>/x</cwd>\n  <shell>bash</shell>\n"
                  "</environment_context>"), text("pytest fails, fix it")),
        {"role": "assistant", "content": "Fixed."},
        user(text("<local-command-caveat>Caveat: run locally.</local-command-caveat>"),
             text("<command-name>/compact</command-name>\n<command-args>keep it"
                  "</command-args>"),
             text("now the dedupe one"))]}
    s = seg.extract(body)
    assert s.user == "now the dedupe one"
    assert s.history == "pytest fails, fix it"
    assert any("environment_context" in c.text for c in s.harness)
    assert s.structure.ask_chars == len("now the dedupe one")
    # A person's text that merely starts with a tag is still theirs.
    mixed = seg.extract({"messages": [user(text("<b>bold</b> is broken in the title"))]})
    assert mixed.user == "<b>bold</b> is broken in the title"
