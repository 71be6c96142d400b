"""The gate on the held-out set (never trained on) with the test model."""

from __future__ import annotations

import json
from pathlib import Path

from fusion_tui.routing.corpus import load_labelled
from fusion_tui.routing.data import HELDOUT, TRAIN, load_examples
from fusion_tui.routing.evaluate import evaluate, format_report
from fusion_tui.routing.gate import Gate


def test_heldout_accuracy_and_plan_mode(gate: Gate) -> None:
    report = evaluate(load_labelled(HELDOUT), gate)
    assert report.total >= 100
    # The synthetic held-out set (never trained on); the real held-out captures are the
    # measure that matters (docs/routing.md), this floor catches a gate that regressed on
    # the templated requests it was first built for (88.8% by default, docs/routing.md).
    assert report.accuracy >= 0.8, format_report(report)
    assert report.plan_mode_total > 0 and report.plan_mode_below_plan == 0
    assert report.compaction_total > 0 and report.compaction_not_compact == 0
    assert sum(sum(row.values()) for row in report.confusion.values()) == report.total
    text = format_report(report)
    assert "accuracy" in text and "confusion" in text


def test_heldout_is_disjoint_from_train() -> None:
    def users(path: Path) -> set[str]:
        out = set()
        for ex in load_examples(path):
            last = [m for m in ex.body["messages"] if m["role"] == "user"][-1]
            out.add(json.dumps(last["content"], sort_keys=True))
        return out
    assert len(load_examples(TRAIN)) >= 300
    overlap = users(HELDOUT) & users(TRAIN)
    # Only terse replies ("go ahead") may repeat; the tasks themselves never do.
    assert all(len(json.loads(o)[-1].get("text", "")) < 40 for o in overlap)


def test_evaluate_accepts_whole_bodies(gate: Gate, tmp_path: Path) -> None:
    body = {"model": "m", "max_tokens": 5,
            "messages": [{"role": "user", "content": "what does git stash pop do"}]}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"label": "plan", "body": body}) + "\n")
    report = evaluate(load_labelled(path), gate)
    assert report.total == 1 and report.correct == 0 and report.misses[0][1] == "plan"
