"""The onnxruntime build check: one build is right; both or neither is said, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusion_tui.routing import embedder, onnx_builds


def only(*present: str) -> object:
    return lambda dist: dist in present


@pytest.mark.parametrize(("present", "problem"), [
    ((onnx_builds.CPU_DIST,), None),
    ((onnx_builds.GPU_DIST,), None),
    ((onnx_builds.CPU_DIST, onnx_builds.GPU_DIST), onnx_builds.FIX_BOTH),
    ((), onnx_builds.FIX_NONE),
])
def test_install_problem(monkeypatch: pytest.MonkeyPatch, present: tuple[str, ...],
                         problem: str | None) -> None:
    monkeypatch.setattr(onnx_builds, "_installed", only(*present))
    assert onnx_builds.install_problem() == problem


def test_the_default_install_is_the_cpu_build_alone() -> None:
    assert onnx_builds.install_problem() is None
    assert onnx_builds._installed(onnx_builds.CPU_DIST)


def test_auto_device_says_both_builds_are_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_builds, "_installed",
                        only(onnx_builds.CPU_DIST, onnx_builds.GPU_DIST))
    session, device, note = embedder.open_session(
        Path("m.onnx"), "auto", available=[embedder.CPU], factory=lambda p, prov: prov)
    assert (session, device) == ([embedder.CPU], "cpu")
    assert "both onnxruntime and onnxruntime-gpu" in note
    with pytest.raises(embedder.EmbedderError, match="overwrite each other"):
        embedder.open_session(Path("m.onnx"), "cuda", available=[embedder.CPU],
                              factory=lambda p, prov: prov)
