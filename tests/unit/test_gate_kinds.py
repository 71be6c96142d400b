"""Request kinds before tiers: title and compaction chores, sub-agents, and explain's
evidence, with the test model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fusion_tui.config import Settings
from fusion_tui.core.explain import explain_body
from fusion_tui.routing.corpus import anthropic_view
from fusion_tui.routing.data import expand
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.kinds import KindSignals, RequestKind, decide_kind
from fusion_tui.routing.segments import Structure

# Wordings that appear in none of the gate's exemplars.
COMPACT_TEXT = ("Your task is to create a detailed summary of the conversation so far. Cover "
                "the user's requests, the approach taken, key files and code, errors you hit "
                "and how you solved them, and the next step. Wrap it in <summary> tags.")
SUBAGENT_SYSTEM = ("You are an agent for Claude Code, Anthropic's official CLI for Claude. "
                   "Given the user's message, you should use the tools available to complete "
                   "the task. Complete the task fully -- don't gold-plate, but don't leave it "
                   "half-done. When you complete the task, respond with a concise report "
                   "covering what was done and any key findings.")


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def claude_code(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return expand({"cwd": "/home/dev/app", "messages": list(messages), **extra})


def test_title_request_is_a_chore_by_its_structure(gate: Gate) -> None:
    body = claude_code(user("design a sharding plan for the events table across regions"))
    body["tools"] = []
    body["output_config"] = {"format": {"type": "json_schema", "schema": {
        "type": "object", "properties": {"title": {"type": "string"}}}}}
    decision = gate.classify(body)
    assert (decision.tier, decision.kind, decision.reason) == ("compact", "title", "kind:title")
    assert decision.event_fields()["request_kind"] == "title"


def test_title_request_of_another_client_is_recognised_by_meaning(gate: Gate) -> None:
    openai_body = {"model": "m", "messages": [
        {"role": "system", "content": "You are a title generator. You output ONLY a thread "
                                      "title. Nothing else."},
        {"role": "user", "content": "Generate a title for this conversation:\nplan the "
                                    "migration of our billing service to event sourcing"}]}
    decision = gate.classify(anthropic_view(openai_body, "openai"))
    assert (decision.tier, decision.reason) == ("compact", "kind:title")


def test_same_words_with_tools_are_not_a_title_request(gate: Gate) -> None:
    body = claude_code(user("Generate a title for this conversation"),
                       {"role": "system", "content": "$ENV"})
    assert gate.classify(body).kind == "main"


def test_compaction_after_plan_mode_was_left_is_compact(gate: Gate) -> None:
    plan = ("Plan mode is active. The user does not want anything executed yet -- you MUST "
            "NOT edit files; gather information read-only and present your plan.")
    msgs = [user("plan the zero-downtime move of the api behind a load balancer"),
            {"role": "system", "content": "$ENV\n\n" + plan},
            {"role": "assistant", "content": "Plan: 1) ... 4) ..."},
            {"role": "system", "content": "You have exited plan mode. You can now make edits."},
            user(COMPACT_TEXT)]
    left = gate.classify(claude_code(*msgs))
    assert (left.tier, left.reason) == ("compact", "kind:compaction")
    still_on = gate.classify(claude_code(*msgs[:3], user(COMPACT_TEXT),
                                         safeguards=[{"classifier_context":
                                                      {"permission_mode": "plan"}}]))
    assert (still_on.tier, still_on.kind) == ("compact", "compaction")


def test_subagent_is_judged_on_its_own_task_in_its_own_lane(gate: Gate) -> None:
    def subagent(task: str) -> dict[str, Any]:
        return {"model": "m", "max_tokens": 32000,
                "system": [{"type": "text", "text": SUBAGENT_SYSTEM}],
                "messages": [user(task)],
                "tools": [{"name": "Read", "input_schema": {"type": "object"}}]}

    find = gate.classify(subagent("Find every call site of the Reserve method and list "
                                  "file:line for each."))
    assert find.kind == "subagent" and find.reason.startswith("kind:subagent,lr:")
    again = gate.classify(subagent("Find every call site of the Reserve method and list "
                                   "file:line for each."))
    other = gate.classify(subagent("Design the error-handling architecture of the parser "
                                   "with spans, recovery and diagnostics, in milestones."))
    assert find.lane and find.lane == again.lane != other.lane
    assert other.kind == "subagent"
    assert gate.classify(claude_code(user("what does ls -la print"),
                                     {"role": "system", "content": "$ENV"})).kind == "main"


def test_kind_rules_are_stated_in_one_place() -> None:
    none = KindSignals()
    assert decide_kind(Structure(tools_declared_empty=True, structured_output=True), none,
                       0.65, 0.05).kind == RequestKind.TITLE
    # JSON output alone, or no tools alone, is not a title request.
    assert decide_kind(Structure(structured_output=True, tools_offered=3), none,
                       0.65, 0.05).kind == RequestKind.MAIN
    assert decide_kind(Structure(tools_declared_empty=True), none, 0.65, 0.05).kind == \
        RequestKind.MAIN
    close = KindSignals(compaction=0.8, compaction_negative=0.78)
    assert decide_kind(Structure(), close, 0.65, 0.05).kind == RequestKind.MAIN
    clear = KindSignals(compaction=0.8, compaction_negative=0.5)
    assert decide_kind(Structure(), clear, 0.65, 0.05).kind == RequestKind.COMPACTION
    titled = KindSignals(title=0.9, title_negative=0.2)
    assert decide_kind(Structure(tools_offered=4), titled, 0.65, 0.05).kind == RequestKind.MAIN


def test_explain_shows_the_kind_and_what_weighed_most(gate: Gate,
                                                     make_settings: Callable[..., Settings]
                                                     ) -> None:
    body = claude_code(user("design the migration of our monolith into three services with a "
                            "rollback plan for each phase"), {"role": "system", "content": "$ENV"})
    out = explain_body(make_settings(), gate, body, "anthropic")
    assert out["kind"] == "main"
    weighed = out["weighed_most"]
    assert weighed and {"input", "push"} <= set(weighed[0])
    assert abs(weighed[0]["push"]) >= abs(weighed[-1]["push"])
    names = {w["input"] for w in weighed}
    assert "user" in names


def test_kinds_of_the_real_captures(gate: Gate) -> None:
    from fusion_tui.routing.corpus import REAL_CAPTURES, load_captures

    if not REAL_CAPTURES.is_file():
        pytest.skip("no real captures in this checkout")
    pairs = [(c.kind, gate.classify(c.body).kind) for c in load_captures(REAL_CAPTURES)]
    chores = [(want, got) for want, got in pairs if want in ("title", "compaction")]
    assert chores and all(want == got for want, got in chores)
    assert all(got in ("main", "subagent") for want, got in pairs if want == "main")
    subagents = [got for want, got in pairs if want == "subagent"]
    assert subagents and subagents.count("subagent") / len(subagents) >= 0.8
