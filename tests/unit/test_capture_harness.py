"""The capture harness's pure parts (scripts/capture): which scripted reply answers a
request, how abstract actions become each client's tools, scrubbing, batch expansion."""

from __future__ import annotations

import json
import sys
from pathlib import Path

CAPTURE = Path(__file__).resolve().parents[2] / "scripts" / "capture"
sys.path.insert(0, str(CAPTURE))

import repos  # noqa: E402
import run_all  # noqa: E402
import server  # noqa: E402


def user(text: str) -> dict:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def tool_result() -> dict:
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                         "content": "ok"}]}


ASSISTANT = {"role": "assistant", "content": [{"type": "text", "text": "..."}]}


def test_reply_index_counts_assistant_turns_after_the_human() -> None:
    assert server.reply_index_anthropic([user("fix it")]) == 0
    assert server.reply_index_anthropic([user("fix it"), ASSISTANT, tool_result()]) == 1
    later = [user("a"), ASSISTANT, user("yes"), ASSISTANT, tool_result(), ASSISTANT,
             tool_result()]
    assert server.reply_index_anthropic(later) == 2


def test_harness_notifications_are_not_the_human() -> None:
    """A background-agent notification or reminder-only message must not restart the
    script (it did, and the main agent spawned its sub-agent forever)."""
    notice = user("<system-reminder>\n[SYSTEM NOTIFICATION - NOT USER INPUT]\n</system-reminder>")
    body = [user("who calls Reserve?"), ASSISTANT, tool_result(), ASSISTANT, notice]
    assert server.reply_index_anthropic(body) == 2
    mixed = {"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
        {"type": "text", "text": "go on"}]}
    assert server.reply_index_anthropic([user("a"), ASSISTANT, mixed]) == 0


def test_reply_index_for_openai_shapes() -> None:
    chat = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
            {"role": "assistant", "content": None, "tool_calls": []},
            {"role": "tool", "content": "out", "tool_call_id": "c"}]
    assert server.reply_index_openai(chat) == 1
    items = [{"type": "message", "role": "user", "content": []},
             {"type": "message", "role": "assistant", "content": []},
             {"type": "function_call", "call_id": "c", "name": "x", "arguments": "{}"},
             {"type": "function_call_output", "call_id": "c", "output": "ok"}]
    assert server.reply_index_responses(items) == 1


def test_scrub_replaces_account_ids() -> None:
    real = json.dumps({"device_id": "ab" * 32, "account_uuid": "u-1", "session_id": "s-1"})
    body = server.scrub({"metadata": {"user_id": real}, "messages": []})
    assert body["metadata"]["user_id"] == server.DUMMY_USER_ID
    assert "ab" * 32 not in json.dumps(body)
    assert server.scrub({"user": "someone", "prompt_cache_key": "k"}) == {
        "user": "user-0", "prompt_cache_key": "00000000-0000-4000-8000-000000000000"}


def test_actions_become_each_clients_tools(tmp_path: Path) -> None:
    acts = [{"sh": "go test ./..."}, {"read": "a/b.go"},
            {"edit": {"file": "a/b.go", "old": "x", "new": "y"}}]
    claude = server.claude_calls(acts, tmp_path)
    assert [c["name"] for c in claude] == ["Bash", "Read", "Edit"]
    assert claude[1]["input"]["file_path"] == str(tmp_path / "a/b.go")
    codex = server.codex_calls(acts, [{"type": "function", "name": "exec_command"}])
    assert [c["name"] for c in codex] == ["exec_command"] * 3
    assert codex[1]["arguments"]["cmd"] == "cat -n a/b.go"
    opencode = server.opencode_calls(acts, tmp_path)
    assert [c["name"] for c in opencode] == ["bash", "read", "edit"]
    assert opencode[2]["arguments"]["oldString"] == "x"


def test_batch_expands_to_one_step_scenarios() -> None:
    entry = {"batch": "b", "repo": "stockd", "split": "train", "asks": [
        ["compact", "en", "what's the module path", [{"read": "go.mod"}], "it is x"],
        ["plan", "de", "plane", [[{"read": "a"}], [{"sh": "ls"}]], "Plan", "heldout"]]}
    first, second = run_all.expand(entry)
    assert first["name"] == "b-00" and first["split"] == "train"
    assert first["steps"][0]["replies"] == [{"say": "", "do": [{"read": "go.mod"}]},
                                            {"say": "it is x"}]
    assert second["split"] == "heldout" and second["lang"] == "de"
    assert len(second["steps"][0]["replies"]) == 3


def test_every_defined_scenario_is_well_formed() -> None:
    scenarios = run_all.load_scenarios()
    assert len(scenarios) >= 100
    for sc in scenarios:
        assert sc["split"] in ("train", "heldout"), sc["name"]
        assert sc["repo"] in repos.REPOS, sc["name"]
        assert sc["mode"] in ("print", "interactive", "codex", "opencode"), sc["name"]
        for step in sc["steps"]:
            if step.get("kind") == "compact":
                assert step["tier"] == "compact", sc["name"]
            else:
                assert step.get("tier") or step.get("tiers"), sc["name"]
                assert "ask" in step, sc["name"]
