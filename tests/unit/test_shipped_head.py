"""The package ships the gate's head for the bundled offline model, so a first start (a fresh
install, a new HOME) loads it instead of training. It must match the shipped data, features
and default settings: when this fails, run `python scripts/ship_gate_head.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusion_tui.config.embeddings import GateSettings
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.headcache import SHIPPED_DIR, HeadCache
from fusion_tui.routing.multilingual import USE_MULTILINGUAL


def test_a_first_start_with_the_offline_model_loads_the_shipped_head(
        embedder: Embedder, tmp_path: Path) -> None:
    empty_user_cache = HeadCache(tmp_path / "cache", shipped=SHIPPED_DIR)
    gate = Gate.load_or_train(embedder, GateSettings(), cache=empty_user_cache)
    assert gate.from_cache, (f"no shipped head for key {gate.cache_key}: "
                             "run `python scripts/ship_gate_head.py` and commit the result")
    assert not (tmp_path / "cache").exists()  # nothing trained, nothing written


def test_without_the_shipped_folder_the_same_start_trains_and_caches(
        embedder: Embedder, tmp_path: Path) -> None:
    cache = HeadCache(tmp_path / "cache")
    gate = Gate.load_or_train(embedder, GateSettings(), cache=cache)
    assert not gate.from_cache
    assert cache.path(gate.cache_key).is_file()
    shipped = HeadCache(tmp_path / "other", shipped=SHIPPED_DIR).load(gate.cache_key)
    assert shipped is not None and shipped[0].layout == gate.layout


def test_the_default_reads_the_ask_with_the_multilingual_encoder() -> None:
    assert GateSettings().ask_model == USE_MULTILINGUAL


@pytest.mark.parametrize("ask_model", [USE_MULTILINGUAL, ""])
def test_the_head_of_each_ask_model_setting_is_shipped(embedder: Embedder, tmp_path: Path,
                                                       ask_model: str) -> None:
    settings = GateSettings(ask_model=ask_model)  # type: ignore[arg-type]
    gate = Gate.load_or_train(embedder, settings, cache=HeadCache(tmp_path / "cache",
                                                                  shipped=SHIPPED_DIR))
    assert gate.from_cache, (f"no shipped head for key {gate.cache_key}: "
                             "run `python scripts/ship_gate_head.py` and commit the result")
    names = [name for name, _ in gate.layout.blocks()]
    assert "ask_ngrams" in names
    assert ("ask_multilingual" in names) == bool(ask_model)
