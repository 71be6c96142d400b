"""Embedder (pooling, normalisation, cache, truncation, inputs, device), modelstore and the
background service."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fusion_tui.config.embeddings import EmbeddingSettings
from fusion_tui.events.model import ClassifierStateChanged, Event
from fusion_tui.routing import modelstore
from fusion_tui.routing.embedder import (
    CPU,
    CUDA,
    Embedder,
    EmbedderError,
    EmbedderService,
    TokenBudget,
    mean_pool,
    open_session,
    plan_runs,
)
from fusion_tui.routing.modelstore import TEST_MODEL_FILE, ModelStoreError


def test_mean_pool_ignores_padding_and_normalises() -> None:
    hidden = np.array([[[1, 0], [3, 0], [100, 100]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]], dtype=np.int64)
    out = mean_pool(hidden, mask)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[1.0, 0.0]], atol=1e-6)


def test_vectors_normalised_and_meaningful(embedder: Embedder) -> None:
    v = embedder.embed(["rename a variable in python", "rename the python variable",
                        "design a distributed payment architecture"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > 0.7 > v[0] @ v[2]


def test_batched_equals_single(embedder: Embedder) -> None:
    texts = ["short", "a much longer sentence about fixing a failing unit test in the parser"]
    embedder.clear_cache()
    together = embedder.embed(texts)
    embedder.clear_cache()
    alone = np.stack([embedder.embed_one(t) for t in texts])
    np.testing.assert_allclose(together, alone, atol=2e-3)


def test_cache_counts_hits_and_misses(embedder: Embedder) -> None:
    embedder.clear_cache()
    embedder.embed(["alpha one", "beta two"])
    assert (embedder.hits, embedder.misses) == (0, 2)
    embedder.embed(["alpha one", "gamma three", "alpha one"])
    assert embedder.hits == 1 and embedder.misses == 3 and embedder.cache_size == 3


def test_cache_is_bounded(test_model_dir: Path) -> None:
    small = Embedder.load(test_model_dir, TEST_MODEL_FILE, device="cpu", cache_entries=2)
    small.embed(["one", "two", "three"])
    assert small.cache_size == 2
    small.embed(["one"])
    assert small.hits == 0  # "one" was evicted first


def test_truncation(embedder: Embedder) -> None:
    assert embedder.max_tokens == 256  # the length MiniLM was trained on
    encoding = embedder.tokenizer.encode("word " * 3000)
    assert len(encoding.ids) == 256
    v = embedder.embed(["word " * 3000, "word " * 2000])
    np.testing.assert_allclose(v[0], v[1], atol=1e-4)  # both cut to the same 256 tokens


def test_plan_runs_keeps_padding_small() -> None:
    # A short ask and a long log are cheaper apart than padded together...
    assert sorted(map(sorted, plan_runs([12, 250], max_rows=16, overhead=24))) == [[0], [1]]
    # ...texts of about the same length share a run...
    assert plan_runs([40, 38, 41], max_rows=16, overhead=24) == [[1, 0, 2]]
    # ...and a run never has more rows than allowed.
    runs = plan_runs([10] * 5, max_rows=2, overhead=24)
    assert max(len(r) for r in runs) == 2
    assert sorted(i for r in runs for i in r) == list(range(5))
    assert plan_runs([], max_rows=4) == []


def test_token_budget_reads_the_head_or_the_tail(embedder: Embedder) -> None:
    words = "the failing test is test_parser and the fix is in the tokenizer"
    n = len(embedder.tokenizer.encode(words).ids)  # special tokens included
    filler = " filler" * 400
    embedder.clear_cache()
    alone = embedder.embed([words])[0]
    head = embedder.embed([words + filler], [TokenBudget(n)])[0]
    tail = embedder.embed([filler + " " + words], [TokenBudget(n, tail=True)])[0]
    np.testing.assert_allclose(head, alone, atol=2e-3)
    np.testing.assert_allclose(tail, alone, atol=2e-3)
    # The budget is part of the cache key: the same text read two ways is two entries.
    text = filler + " " + words
    both = embedder.embed([text, text], [TokenBudget(n, tail=True), None])
    assert float(both[0] @ both[1]) < 0.9
    assert embedder.cache_size == 4
    embedder.forget([text], [TokenBudget(n, tail=True)])
    assert embedder.cache_size == 3
    with pytest.raises(ValueError, match="budgets"):
        embedder.embed(["a", "b"], [None])


def test_a_request_is_not_padded_to_its_longest_text(embedder: Embedder) -> None:
    embedder.clear_cache()
    embedder.embed(["fix the typo", "FAILED tests/test_x.py " * 60])
    assert embedder.runs == 2 and embedder.positions == embedder.tokens
    embedder.embed(["rename foo to bar", "rename baz to qux"])
    assert embedder.runs == 3


def test_the_gate_reads_each_segment_within_its_budget(embedder: Embedder) -> None:
    from fusion_tui.config.embeddings import GateSettings
    from fusion_tui.routing.gate import Gate, token_budgets
    from fusion_tui.routing.segments import Segments

    settings = GateSettings()
    budgets = token_budgets(settings)
    assert budgets["tools"].tail and budgets["assistant"].tail and not budgets["user"].tail
    log = "collecting modules ok " * 80 + "FAILED tests/test_parser.py::test_tokens - KeyError"
    vectors = Gate(embedder, settings).vectors(Segments(user="why does it fail", tools=log))
    tail, head = embedder.embed([log, log], [budgets["tools"], TokenBudget(settings.tool_tokens)])
    tools = vectors.get("tools")
    assert tools is not None
    np.testing.assert_allclose(tools, tail, atol=2e-3)
    assert float(tools @ head) < 0.95


class FakeInput:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeSession:
    def __init__(self, names: list[str], providers: list[str] | None = None) -> None:
        self.names = names
        self.providers = providers or [CPU]
        self.feeds: dict[str, Any] = {}

    def get_inputs(self) -> list[FakeInput]:
        return [FakeInput(n) for n in self.names]

    def get_outputs(self) -> list[FakeInput]:
        return [FakeInput("last_hidden_state")]

    def get_providers(self) -> list[str]:
        return self.providers

    def run(self, outputs: list[str], feeds: dict[str, Any]) -> list[Any]:
        self.feeds = feeds
        ids = feeds["input_ids"]
        return [np.ones((*ids.shape, 4), dtype=np.float32)]


def test_feeds_only_declared_inputs(embedder: Embedder) -> None:
    session = FakeSession(["input_ids", "attention_mask"])
    fake = Embedder(session, embedder.tokenizer, model_name="fake", device="cpu")
    out = fake.embed(["hello world", "hi"])
    assert set(session.feeds) == {"input_ids", "attention_mask"}
    assert session.feeds["input_ids"].dtype == np.int64 and out.shape == (2, 4)
    with_types = FakeSession(["input_ids", "attention_mask", "token_type_ids"])
    Embedder(with_types, embedder.tokenizer, model_name="f", device="cpu").embed(["x"])
    assert not with_types.feeds["token_type_ids"].any()
    odd = FakeSession(["input_ids", "pixel_values"])
    with pytest.raises(EmbedderError, match="pixel_values"):
        Embedder(odd, embedder.tokenizer, model_name="f", device="cpu").embed(["x"])


def test_device_choice() -> None:
    calls: list[list[str]] = []

    def factory(gpu_works: bool) -> Any:
        def make(path: Path, providers: list[str]) -> FakeSession:
            calls.append(providers)
            used = providers if gpu_works or providers[0] != CUDA else [CPU]
            return FakeSession(["input_ids"], used)
        return make

    _, dev, note = open_session(Path("m"), "auto", [CPU], factory(True))
    assert dev == "cpu" and "not available" in note and calls[-1] == [CPU]
    _, dev, _ = open_session(Path("m"), "auto", [CUDA, CPU], factory(True))
    assert dev == "cuda"
    # Listed but not answering (missing CUDA libraries): auto says CPU and why.
    _, dev, note = open_session(Path("m"), "auto", [CUDA, CPU], factory(False))
    assert dev == "cpu" and "CUDA" in note and calls[-1] == [CPU]
    with pytest.raises(EmbedderError, match="cuda"):
        open_session(Path("m"), "cuda", [CUDA, CPU], factory(False))
    with pytest.raises(EmbedderError, match="no CUDAExecutionProvider"):
        open_session(Path("m"), "cuda", [CPU], factory(True))
    _, dev, _ = open_session(Path("m"), "cpu", [CUDA, CPU], factory(True))
    assert dev == "cpu" and calls[-1] == [CPU]


def test_local_folder_and_missing_files(test_model_dir: Path, tmp_path: Path) -> None:
    resolved = modelstore.resolve_model(str(test_model_dir), TEST_MODEL_FILE)
    assert resolved.onnx_path.is_file() and resolved.folder == test_model_dir.resolve()
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelStoreError, match=r"lacks onnx/model_quantized.onnx"):
        modelstore.resolve_model(str(tmp_path), TEST_MODEL_FILE)
    with pytest.raises(ModelStoreError, match="does not exist"):
        modelstore.resolve_model(str(tmp_path / "nope"), TEST_MODEL_FILE)


def test_assemble_is_idempotent(tmp_path: Path) -> None:
    first = modelstore.assemble_test_model(tmp_path / "m")
    second = modelstore.assemble_test_model(tmp_path / "m")
    assert first == second and (first / TEST_MODEL_FILE).is_file()
    assert (first / "tokenizer.json").is_file() and (first / "config.json").is_file()


def test_hub_fetch_reports_progress(test_model_dir: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    snapshot = tmp_path / "snapshots" / "abc"

    def fake_download(repo_id: str, filename: str, **kwargs: Any) -> str:
        if kwargs.get("local_files_only"):
            from huggingface_hub.errors import LocalEntryNotFoundError
            raise LocalEntryNotFoundError("not cached")
        src = test_model_dir / filename
        dst = snapshot / filename
        dst.parent.mkdir(parents=True, exist_ok=True)
        bar = kwargs["tqdm_class"](total=src.stat().st_size)
        shutil.copyfile(src, dst)
        bar.update(src.stat().st_size // 2)
        bar.update(src.stat().st_size - src.stat().st_size // 2)
        bar.close()
        return str(dst)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(modelstore, "hub_unreachable_reason", lambda: None)  # "online"
    seen: list[tuple[str, int, int | None]] = []
    resolved = modelstore.resolve_model("org/model", TEST_MODEL_FILE,
                                        progress=lambda *a: seen.append(a))
    assert resolved.folder == snapshot.resolve() and resolved.name == "org/model"
    onnx = [s for s in seen if s[0] == TEST_MODEL_FILE]
    assert onnx[-1][1] == onnx[-1][2] == (test_model_dir / TEST_MODEL_FILE).stat().st_size
    assert len(onnx) >= 3


def test_hub_offline_says_why(tmp_path: Path) -> None:
    with pytest.raises(ModelStoreError, match="not in the local cache"):
        modelstore.fetch_hub_model("jinaai/jina-embeddings-v2-base-code",
                                   "onnx/model_quantized.onnx", cache_dir=tmp_path,
                                   local_files_only=True)


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(model: str, file: str, **kwargs: Any) -> Any:
        raise ModelStoreError(f"{model}: hub unreachable")
    monkeypatch.setattr("fusion_tui.routing.embedder.resolve_model", fail)


async def test_service_fallback_is_announced(test_model_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _offline(monkeypatch)
    events: list[Event] = []
    service = EmbedderService(EmbeddingSettings(device="cpu"), publish=events.append,
                              test_model_dir=test_model_dir)
    service.start()
    assert await service.wait_ready(60)
    assert service.state == "ready" and service.fallback_reason
    assert "offline fallback" in service.model and service.device == "cpu"
    states = [e.state for e in events if isinstance(e, ClassifierStateChanged)]
    assert states[0] == "loading" and states[-1] == "ready"
    last = events[-1]
    assert isinstance(last, ClassifierStateChanged) and "hub unreachable" in (last.error or "")
    await service.aclose()


async def test_service_failure_is_surfaced(monkeypatch: pytest.MonkeyPatch) -> None:
    _offline(monkeypatch)
    events: list[Event] = []
    service = EmbedderService(EmbeddingSettings(offline_fallback=False),
                              publish=events.append)
    await service.run()
    assert service.state == "failed" and "hub unreachable" in (service.error or "")
    assert not await service.wait_ready(0)
    assert "failed to load" in service.unavailable_reason()
    assert isinstance(events[-1], ClassifierStateChanged) and events[-1].state == "failed"


async def test_wait_ready_times_out_while_loading() -> None:
    service = EmbedderService(EmbeddingSettings(wait_s=0.01))
    service.state = "loading"
    assert not await service.wait_ready()
    assert "still loading" in service.unavailable_reason()
    await asyncio.sleep(0)


def test_unreachable_hub_is_detected_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    reason = modelstore.hub_unreachable_reason(timeout_s=2)
    assert reason is not None and f"127.0.0.1:{port}" in reason
    assert time.monotonic() - started < 2.5
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert modelstore.hub_unreachable_reason() == "HF_HUB_OFFLINE is set"


def test_the_trained_sequence_length_caps_the_tokens(test_model_dir: Path) -> None:
    from fusion_tui.routing.embedder import _model_max_positions

    # all-MiniLM-L6-v2: 512 positions, trained on 256 tokens (sentence_bert_config.json).
    assert _model_max_positions(test_model_dir) == 256
    loaded = Embedder.load(test_model_dir, TEST_MODEL_FILE, device="cpu", cache_entries=4)
    assert loaded.max_tokens == 256
    loaded.embed(["one", "two"])
    loaded.forget(["one"])
    loaded.embed(["one", "two"])
    assert (loaded.hits, loaded.misses) == (1, 3)
