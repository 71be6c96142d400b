"""The head cache (ready in a second), a person's overrides as examples, `gate retrain`, and
the evaluation of real captures and of sessions folders."""

from __future__ import annotations

import gzip
import json
import logging
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fusion_tui.cli import main
from fusion_tui.config import Settings
from fusion_tui.routing.corpus import CorpusError, load_captures, load_labelled
from fusion_tui.routing.data import TRAIN, expand
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate, GateService
from fusion_tui.routing.headcache import HeadCache, model_fingerprint
from fusion_tui.routing.modelstore import TEST_MODEL_FILE
from fusion_tui.routing.segments import extract
from fusion_tui.routing.sessions_eval import agreement, format_agreement
from fusion_tui.routing.steering import SteeringExamples

NO_REAL = Path("/nonexistent/captures.jsonl.gz")


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def small_set(tmp_path: Path, n: int = 45) -> Path:
    """The first `n` synthetic examples of each tier (a fast training set)."""
    seen: dict[str, int] = {}
    lines = []
    for line in TRAIN.read_text().splitlines():
        record = json.loads(line)
        if seen.get(record["label"], 0) < n // 3:
            seen[record["label"]] = seen.get(record["label"], 0) + 1
            lines.append(line)
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_head_is_cached_by_model_and_data(embedder: Embedder, tmp_path: Path) -> None:
    cache = HeadCache(tmp_path / "cache")
    data = small_set(tmp_path)
    first = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL)
    assert not first.from_cache and first.trained_on > 0
    assert cache.path(first.cache_key).is_file()
    second = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL)
    assert second.from_cache and second.cache_key == first.cache_key
    assert first.head is not None and second.head is not None
    assert np.array_equal(first.head.weights, second.head.weights)
    body = expand({"messages": [user("rename the variable x to count in utils.py")]})
    assert first.classify(body).scores == second.classify(body).scores
    data.write_text(data.read_text() + data.read_text().splitlines()[0] + "\n")
    changed = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL)
    assert not changed.from_cache and changed.cache_key != first.cache_key


def test_a_damaged_cache_file_is_retrained_and_said(embedder: Embedder, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    cache = HeadCache(tmp_path / "cache")
    data = small_set(tmp_path)
    gate = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL)
    cache.path(gate.cache_key).write_bytes(b"not a numpy file")
    with caplog.at_level(logging.WARNING):
        again = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL)
    assert not again.from_cache and "damaged" in caplog.text
    assert Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL).from_cache


def test_model_fingerprint_follows_the_model_files(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "onnx").mkdir(parents=True)
    (folder / "tokenizer.json").write_text("{}")
    (folder / "onnx" / "model.onnx").write_bytes(b"a" * 5000)
    before = model_fingerprint(folder, "onnx/model.onnx")
    (folder / "onnx" / "model.onnx").write_bytes(b"a" * 4999 + b"b")
    assert model_fingerprint(folder, "onnx/model.onnx") != before


def test_steering_examples_keep_segments_not_bodies(tmp_path: Path) -> None:
    store = SteeringExamples(tmp_path / "gate" / "examples.jsonl")
    body = expand({"messages": [user("make the retry policy configurable per DAG"),
                                {"role": "system", "content": "$ENV"}]})
    segments = extract(body)
    store.add(segments, "plan", session_id="s1", gate_tier="regular")
    text = store.path.read_text()
    assert "make the retry policy" in text and "x-anthropic-billing-header" not in text
    assert '"body"' not in text and oct(store.path.stat().st_mode)[-3:] == "600"
    store.add(segments, "regular", body=body)
    with store.path.open("a") as handle:
        handle.write("{not json\n")
    loaded = store.load()
    assert [e.tier for e in loaded] == ["plan", "regular"]
    assert loaded[0].segments.user == segments.user
    assert loaded[0].segments.structure == segments.structure
    assert '"body"' in store.path.read_text().splitlines()[1]
    with pytest.raises(ValueError, match="tier"):
        store.add(segments, "huge")


def test_service_learns_overrides_with_the_body_only_when_recording_full(
        tmp_path: Path, test_model_dir: Path) -> None:
    from fusion_tui.config.embeddings import EmbeddingSettings

    settings = EmbeddingSettings(model=str(test_model_dir), file=TEST_MODEL_FILE)
    body = {"model": "m", "max_tokens": 5, "messages": [user("split the parser module")]}
    for keep in (False, True):
        store = SteeringExamples(tmp_path / f"{keep}.jsonl")
        service = GateService(settings, user_examples=store, keep_bodies=keep,
                              cache=HeadCache(tmp_path / "c"))
        service.learn(body, "plan", "sess")
        [example] = store.load()
        assert example.tier == "plan" and example.session_id == "sess"
        assert ('"body"' in store.path.read_text()) is keep


def test_retrain_folds_the_persons_examples_in(embedder: Embedder, tmp_path: Path) -> None:
    cache = HeadCache(tmp_path / "cache")
    data = small_set(tmp_path)
    ask = expand({"messages": [user("bump the lodash version in package.json to 4.17.21"),
                               {"role": "system", "content": "$ENV"}]})
    before = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL)
    judged = before.classify(ask).tier
    wanted = "compact" if judged != "compact" else "plan"
    store = SteeringExamples(tmp_path / "examples.jsonl")
    for wording in ("bump the lodash version in package.json to 4.17.21",
                    "bump the react version in package.json to 18.3.1",
                    "bump the axios version in package.json to 1.7.2",
                    "bump the express version in package.json to 4.19.2"):
        store.add(extract(expand({"messages": [user(wording),
                                               {"role": "system", "content": "$ENV"}]})), wanted)
    started = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL,
                                 user_examples=store)
    assert started.from_cache  # new overrides never make a start retrain
    after = Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL,
                               user_examples=store, force=True)
    assert not after.from_cache and after.trained_on == before.trained_on + 4
    assert Gate.load_or_train(embedder, cache=cache, synthetic=data, real=NO_REAL,
                              user_examples=store).classify(ask).tier == wanted
    assert after.classify(ask).tier == wanted


def write_captures(path: Path, records: list[dict[str, Any]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def capture(i: int, tier: str, protocol: str, body: dict[str, Any], split: str = "heldout",
            kind: str = "main") -> dict[str, Any]:
    return {"id": f"c{i}", "client": {"anthropic": "claude-code", "openai": "opencode",
                                      "responses": "codex"}[protocol],
            "protocol": protocol, "scenario": f"s{i}", "turn": 1, "kind": kind, "tier": tier,
            "split": split, "lang": "en", "body": body}


def test_captures_of_every_protocol_read_in_anthropic_shape(tmp_path: Path) -> None:
    path = write_captures(tmp_path / "c.jsonl.gz", [
        capture(1, "compact", "anthropic", {"model": "m", "max_tokens": 9,
                                            "messages": [user("what is 2+2")]}),
        capture(2, "plan", "openai", {"model": "m", "messages": [
            {"role": "user", "content": "design the sharding of the events table"}]}),
        capture(3, "regular", "responses", {"model": "m", "instructions": "be brief",
                                            "input": "fix the failing date test"}, "train")])
    heldout = load_captures(path, "heldout")
    assert [c.id for c in heldout] == ["c1", "c2"]
    assert all(isinstance(c.body.get("messages"), list) for c in load_captures(path))
    assert "sharding" in json.dumps(heldout[1].body)
    assert [i.tier for i in load_labelled(path)] == ["compact", "plan", "regular"]
    bad = write_captures(tmp_path / "bad.jsonl.gz", [capture(1, "huge", "anthropic", {})])
    with pytest.raises(CorpusError, match=r"bad.jsonl.gz:1: .*tier"):
        load_captures(bad)


def test_captures_read_from_xz_and_a_damaged_file_is_a_corpus_error(tmp_path: Path) -> None:
    records = [capture(1, "compact", "anthropic", {"model": "m", "max_tokens": 9,
                                                   "messages": [user("what is 2+2")]})]
    good = tmp_path / "c.jsonl.xz"
    with lzma.open(good, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    assert [c.tier for c in load_captures(good)] == ["compact"]
    cut = tmp_path / "cut.jsonl.xz"
    cut.write_bytes(good.read_bytes()[:-12])  # the end-of-stream marker is gone
    not_xz = tmp_path / "junk.jsonl.xz"
    not_xz.write_bytes(b"\xfd7zXZ\x00 not really xz")
    for damaged in (cut, not_xz):
        with pytest.raises(CorpusError, match=damaged.name):
            load_captures(damaged)


def test_eval_routing_command_on_captures(tmp_path: Path, test_model_dir: Path,
                                          make_settings: Callable[..., Settings],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    compact = ("Your task is to create a detailed summary of the conversation so far, with "
               "the requests, files, errors and next step, in <summary> tags.")
    path = write_captures(tmp_path / "c.jsonl.gz", [
        capture(1, "compact", "anthropic", {"model": "m", "max_tokens": 9,
                                            "messages": [user("what does ls -la print")]}),
        capture(2, "compact", "anthropic", {"model": "m", "max_tokens": 9, "tools": [
            {"name": "Read", "input_schema": {}}], "messages": [user("plan a thing"),
                                                                {"role": "assistant",
                                                                 "content": "ok"},
                                                                user(compact)]},
                kind="compaction")])
    config = tmp_path / "config.yaml"
    settings = make_settings(routing={"embeddings": {"model": str(test_model_dir),
                                                     "file": TEST_MODEL_FILE}})
    config.write_text(json.dumps(settings.model_dump(mode="json")))
    assert main(["eval", "routing", str(path), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "requests: 2" in out and "confusion" in out and "recall" in out
    assert "compaction requests: 1   not compact: 0" in out


def test_agreement_over_a_sessions_folder(gate: Gate, tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    trivial = {"model": "m", "max_tokens": 9, "messages": [user("what does git stash pop do")]}

    def lines(rid: str, body: dict[str, Any] | None, tier: str, reason: str) -> list[str]:
        received: dict[str, Any] = {"kind": "request_received", "request_id": rid,
                                    "protocol": "anthropic"}
        if body is not None:
            received["body"] = body
        return [json.dumps(received), json.dumps({"kind": "gate_decided", "request_id": rid,
                                                  "tier": tier, "reason": reason})]

    recorded = [json.dumps({"kind": "header", "session_id": "s"}),
                *lines("r1", trivial, "compact", "override:ui"),
                *lines("r2", trivial, "plan", "override:ui"),
                *lines("r3", None, "plan", "override:ui"),
                *lines("r4", trivial, "compact", "lr:compact"), "{damaged"]
    (folder / "s.jsonl").write_text("\n".join(recorded) + "\n")
    report = agreement(folder, gate)
    assert (report.sessions, report.judged, report.steered) == (1, 4, 3)
    assert (report.steered_with_body, report.agreed, report.damaged_lines) == (2, 1, 1)
    assert report.confusion["plan"]["compact"] == 1
    text = format_agreement(report)
    assert "the gate now agrees: 1 (50.0%)" in text and "no body recorded" in text
