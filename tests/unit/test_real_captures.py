"""The captured real-request corpus (fusion_tui/routing/data/real/captures.jsonl.xz): its
schema, its split by scenario, the coverage of its held-out part, and that no credential or
device id is in it. See docs/routing.md, "Real captures" and "Labelling rubric"."""

from __future__ import annotations

import json
import lzma
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

CORPUS = (Path(__file__).resolve().parents[2] / "fusion_tui" / "routing" / "data" / "real"
          / "captures.jsonl.xz")
KEYS = {"id", "client", "protocol", "scenario", "turn", "kind", "tier", "split", "lang", "body"}
PROTOCOL = {"claude-code": "anthropic", "codex": "responses", "opencode": "openai"}
KINDS = {"main", "title", "compaction", "subagent"}
TIERS = {"compact", "regular", "plan"}
DUMMY_IDS = {"0" * 64, "", "00000000-0000-4000-8000-000000000000"}
SECRET = re.compile(r"sk-ant-[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9]{20,}|Bearer [A-Za-z0-9._-]{16,}"
                    r"|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{20,}|xox[bp]-[A-Za-z0-9-]{10,}")


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    with lzma.open(CORPUS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_schema(records: list[dict[str, Any]]) -> None:
    assert len(records) >= 200
    assert len({r["id"] for r in records}) == len(records)
    for r in records:
        assert set(r) == KEYS, r["id"]
        assert r["protocol"] == PROTOCOL[r["client"]], r["id"]
        assert r["kind"] in KINDS and r["tier"] in TIERS, r["id"]
        assert r["split"] in ("train", "heldout"), r["id"]
        assert isinstance(r["turn"], int) and r["turn"] >= 0, r["id"]
        assert isinstance(r["lang"], str) and 2 <= len(r["lang"]) <= 5, r["id"]
        assert r["id"].startswith(r["scenario"] + "/"), r["id"]
        body = r["body"]
        assert isinstance(body, dict) and body.get("model"), r["id"]
        if r["protocol"] == "responses":
            assert isinstance(body["input"], list), r["id"]
        else:
            assert isinstance(body["messages"], list) and body["messages"], r["id"]


def test_chores_are_compact(records: list[dict[str, Any]]) -> None:
    for r in records:
        if r["kind"] in ("title", "compaction"):
            assert r["tier"] == "compact", r["id"]
        if r["kind"] == "title" and r["protocol"] == "anthropic":
            assert not r["body"].get("tools") and r["body"]["output_config"]["format"], r["id"]


def test_plan_mode_requests_are_plan(records: list[dict[str, Any]]) -> None:
    """Where the request itself says plan mode is on (Claude Code's permission_mode), the
    label is plan, unless the request is a compaction."""
    seen = 0
    for r in records:
        modes = [s.get("classifier_context", {}).get("permission_mode")
                 for s in r["body"].get("safeguards") or [] if isinstance(s, dict)]
        if "plan" in modes and r["kind"] == "main":
            seen += 1
            assert r["tier"] == "plan", r["id"]
    assert seen > 0


def test_split_is_by_scenario_and_heldout_covers_everything(
        records: list[dict[str, Any]]) -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for r in records:
        splits[r["scenario"]].add(r["split"])
    assert all(len(s) == 1 for s in splits.values()), "a scenario straddles the split"
    held = [s for s, v in splits.items() if v == {"heldout"}]
    # Round four grew the train split (new train scenarios outnumber the new held-out ones).
    assert 0.15 <= len(held) / len(splits) <= 0.35
    heldout = [r for r in records if r["split"] == "heldout"]
    train = [r for r in records if r["split"] == "train"]
    for part in (heldout, train):
        assert {r["tier"] for r in part} == TIERS
        assert {r["kind"] for r in part} == KINDS
        assert {r["client"] for r in part} == set(PROTOCOL)
        assert len({r["lang"] for r in part}) >= 4
    counts = Counter(r["tier"] for r in heldout)
    assert min(counts.values()) >= 10, counts


def test_no_credentials_or_device_ids(records: list[dict[str, Any]]) -> None:
    for r in records:
        text = json.dumps(r["body"], ensure_ascii=False)
        assert not SECRET.search(text), r["id"]
        user_id = (r["body"].get("metadata") or {}).get("user_id")
        if user_id is not None:
            ids = json.loads(user_id)
            assert set(ids.values()) <= DUMMY_IDS, r["id"]


def test_file_stays_small() -> None:
    # It ships in the wheel; xz stores the system prompt and tools every request repeats once.
    assert CORPUS.stat().st_size < 4 * 1024 * 1024
