"""`fusion-tui model export`: a Hugging Face embedding model (hub id or local folder with
weights and a tokenizer) -> the 8-bit ONNX folder the gate loads, with its vectors checked
against the original's.

optimum's ONNX exporter writes the float model, optimum's ORTQuantizer makes the dynamic int8
copy, and the original (transformers + torch) and the result (fusion-tui's own Embedder, the
code the gate runs) embed the same sentences, mean-pooled and L2-normalised both; the cosine of
each pair is the parity. All of it needs the `export` extra (torch), imported only here.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fusion_tui.config.embeddings import DEFAULT_FILE

PARITY_SENTENCES = (
    "rename the variable x to count in utils.py",
    "Design a plugin system for the build tool, with versioned interfaces and a migration plan.",
    "why does this test fail only on CI?",
    "def add(a, b):\n    return a + b",
    "Summarise the conversation so far in a few lines.",
    "Refactor the payment service so retries are idempotent across the three providers.",
)
"""Short and long, prose and code: what the gate sees."""

TOKENIZER_FILES = ("tokenizer.json", "config.json", "tokenizer_config.json",
                   "special_tokens_map.json", "vocab.txt", "sentencepiece.bpe.model",
                   "spiece.model")

EXTRA_HINT = ("model export needs the export extra (optimum, transformers, torch): "
              "pip install 'fusion-tui[export]'; see docs/install.md for a CPU-only torch")


class ExportError(RuntimeError):
    """The export could not be done or did not match the source; the message says why."""


@dataclass(frozen=True)
class ExportResult:
    """Where the exported model is and how closely it matches the source."""

    folder: Path
    file: str
    cosines: tuple[float, ...]
    sentences: tuple[str, ...]

    @property
    def min_cosine(self) -> float:
        """The worst sentence's cosine similarity."""
        return min(self.cosines)


def _require_extra() -> None:
    try:
        import optimum.onnxruntime  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ExportError(f"{EXTRA_HINT} ({exc})") from exc


def export_model(source: str, dest: Path, *, quantize: bool = True, force: bool = False,
                 sentences: Sequence[str] = PARITY_SENTENCES) -> ExportResult:
    """Export `source` to `dest` (hub layout: tokenizer.json, config.json and
    onnx/model_quantized.onnx, or onnx/model.onnx unquantized) and measure parity.
    Raises ExportError with the reason (extra missing, source unusable, dest not empty)."""
    _require_extra()
    dest = dest.expanduser()
    if dest.exists() and any(dest.iterdir()) and not force:
        raise ExportError(f"{dest} exists and is not empty (--force replaces its contents)")
    from optimum.exporters.onnx import main_export
    from optimum.onnxruntime import ORTQuantizer
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    local = Path(source).expanduser()
    spec = str(local.resolve()) if local.is_dir() else source
    with tempfile.TemporaryDirectory(prefix="fusion-export-") as tmp:
        work = Path(tmp)
        try:
            main_export(spec, output=work, task="feature-extraction", library_name="transformers",
                        do_validation=False)
        except Exception as exc:
            raise ExportError(f"cannot export {source} to ONNX: {type(exc).__name__}: "
                              f"{exc}") from exc
        if not (work / "tokenizer.json").is_file():
            raise ExportError(f"{source} has no fast tokenizer (tokenizer.json), which the "
                              f"gate's tokenizers library needs")
        onnx_dir = dest / "onnx"
        onnx_dir.mkdir(parents=True, exist_ok=True)
        if quantize:
            # Dynamic int8 (weights quantized, activations at run time): no calibration data.
            # Signed per-channel weights (optimum's AVX-512 VNNI configuration; the graph is
            # plain ONNX and runs on any CPU): on all-MiniLM-L6-v2 the worst parity sentence
            # is 0.991 against 0.9887 with unsigned weights (AVX2 configuration), whose
            # vectors fell under the 0.99 bar as soon as the gate batched texts differently.
            # The parity check below runs on the user's machine and says if it does not hold.
            qconfig = AutoQuantizationConfig.avx512_vnni(is_static=False, per_channel=True)
            try:
                ORTQuantizer.from_pretrained(work, file_name="model.onnx").quantize(
                    quantization_config=qconfig, save_dir=onnx_dir)
            except Exception as exc:
                raise ExportError(f"cannot quantize {source}: {type(exc).__name__}: "
                                  f"{exc}") from exc
            file = DEFAULT_FILE
            leftover = onnx_dir / "ort_config.json"
            if leftover.exists():
                leftover.unlink()
        else:
            shutil.copyfile(work / "model.onnx", onnx_dir / "model.onnx")
            file = "onnx/model.onnx"
        for name in TOKENIZER_FILES:
            if (work / name).is_file():
                shutil.copyfile(work / name, dest / name)
    cosines = parity(spec, dest, file, sentences)
    return ExportResult(folder=dest, file=file, cosines=tuple(cosines),
                        sentences=tuple(sentences))


def reference_vectors(source: str, sentences: Sequence[str]) -> Any:
    """The source model's own vectors (transformers + torch), mean-pooled and normalised the
    way the gate's Embedder does it."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source)
    model.eval()
    batch = tokenizer(list(sentences), padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    vectors = pooled.numpy().astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def parity(source: str, folder: Path, file: str, sentences: Sequence[str]) -> list[float]:
    """Cosine similarity, sentence by sentence, of the source model's vectors and those of the
    exported folder as the gate loads it."""
    from fusion_tui.routing.embedder import Embedder

    exported = Embedder.load(folder, file, device="cpu", cache_entries=0)
    ours = exported.embed(list(sentences))
    theirs = reference_vectors(source, sentences)
    return [float(np.dot(a, b)) for a, b in zip(ours, theirs, strict=True)]
