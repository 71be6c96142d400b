"""The gate: harness modes recognised by meaning, the classifier, latency."""

from __future__ import annotations

from typing import Any

from fusion_tui.routing.data import expand
from fusion_tui.routing.gate import TIERS, Gate

# Wordings that appear neither in the gate's exemplars nor in the dataset.
PLAN_TEXT = ("Plan mode is active. The user does not want anything executed yet -- you MUST "
             "NOT edit files or run tools that modify state; gather information read-only and "
             "then present your plan using ExitPlanMode for the user's approval.")
COMPACT_TEXT = ("Your task is to create a detailed summary of the conversation so far. Cover "
                "the user's requests, the approach taken, key files and code, errors you hit "
                "and how you solved them, and the next step. Wrap it in <summary> tags.")


def body(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return expand({"cwd": "/home/dev/app", "messages": list(messages), **extra})


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def test_plan_mode_forces_plan_on_a_trivial_request(gate: Gate) -> None:
    trivial = user("what does ls -la print")
    assert gate.classify(body(trivial, {"role": "system", "content": "$ENV"})).tier == "compact"
    for where in ("inline", "trailing"):
        msgs = ([trivial, {"role": "system", "content": "$ENV\n\n" + PLAN_TEXT}]
                if where == "inline" else
                [trivial, {"role": "system", "content": "$ENV"},
                 {"role": "system", "content": PLAN_TEXT}])
        decision = gate.classify(body(*msgs))
        assert decision.tier == "plan" and decision.reason == "harness:plan_mode", where
        assert decision.scores["plan"] == 1.0 and "harness" in decision.segments
        assert decision.signals["plan_mode"] > 0.75


def test_exiting_plan_mode_ends_it(gate: Gate) -> None:
    decision = gate.classify(body(
        user("what does ls -la print"), {"role": "system", "content": "$ENV\n\n" + PLAN_TEXT},
        {"role": "assistant", "content": "Plan ready."},
        {"role": "system", "content": "You have exited plan mode. You may now edit files and "
                                      "run commands; the user approved the plan."},
        user("thanks, what's the flag for hidden files again")))
    assert not decision.reason.startswith("harness:")


def test_permission_mode_field_keeps_plan_mode(gate: Gate) -> None:
    decision = gate.classify(body(user("print the branch"), {"role": "system", "content": "$ENV"},
                                  safeguards=[{"classifier_context":
                                               {"permission_mode": "plan"}}]))
    assert (decision.tier, decision.reason) == ("plan", "harness:permission_mode")


def test_user_talking_about_plan_mode_is_not_plan_mode(gate: Gate) -> None:
    # Harness detection looks at harness text only; the user's words go to the classifier.
    decision = gate.classify(body(user("quick: what's the shortcut for plan mode?"),
                                  {"role": "system", "content": "$ENV"}))
    assert not decision.reason.startswith("harness:")


def test_compaction_forces_compact(gate: Gate) -> None:
    msgs = [user("design a sharding plan for the events table across regions"),
            {"role": "system", "content": "$ENV"},
            {"role": "assistant", "content": "Here is the phased plan..."},
            user(COMPACT_TEXT)]
    decision = gate.classify(body(*msgs))
    assert (decision.tier, decision.reason, decision.kind) == ("compact", "kind:compaction",
                                                               "compaction")
    continued = user("This session is being continued from a previous conversation that ran "
                     "out of context. The conversation is summarized below: design a sharding "
                     "plan for the events table. Continue with the last task.")
    assert gate.classify(body(continued)).kind == "main"


def test_scores_and_reason_shape(gate: Gate) -> None:
    decision = gate.classify(body(user("design the migration of our monolith into three "
                                       "services with a rollback plan for each phase"),
                                  {"role": "system", "content": "$ENV"}))
    assert decision.tier == "plan" and decision.reason == "lr:plan"
    assert set(decision.scores) == set(TIERS) and abs(sum(decision.scores.values()) - 1) < 1e-3
    assert all(0 <= v <= 1 for v in decision.scores.values()) and " " not in decision.reason
    assert "user" in decision.segments and "system" in decision.segments
    assert decision.event_fields()["tier"] == "plan"


def test_terse_reply_takes_its_meaning_from_context(gate: Gate) -> None:
    plan = [user("plan a zero-downtime move of every service from REST to gRPC"),
            {"role": "system", "content": "$ENV"},
            {"role": "assistant", "content": "Phased plan: 1) inventory 2) dual stack 3) "
                                             "migrate per service 4) cut over. Start?"},
            user("go ahead")]
    tiny = [user("fix the typo 'teh' in README.md"), {"role": "system", "content": "$ENV"},
            {"role": "assistant", "content": "It's a one-word fix. Apply it?"}, user("go ahead")]
    assert gate.classify(body(*plan)).tier == "plan"
    assert gate.classify(body(*tiny)).tier == "compact"
