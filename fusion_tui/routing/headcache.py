"""The trained head, cached on disk so a start loads it instead of retraining.

Keyed by the model's fingerprint and the training data's: a head is reused only when the same
model would see the same examples through the same features. Stored in the platform cache
folder (`platformdirs.user_cache_dir("fusion-tui")/gate`), one `.npz` per key, written
atomically. A cache file that cannot be read is reported and retrained, never trusted.

The package ships the head (and the exemplar vectors) for the bundled offline model trained
on the shipped data (`SHIPPED_DIR`, written by scripts/ship_gate_head.py), so a first start
with that model, on a fresh install too, loads instead of training for a minute or more; a
head for any other model or data is trained once and cached in the user's folder."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fusion_tui.routing.head import LinearHead, Matrix

log = logging.getLogger(__name__)

FEATURE_VERSION = "gate-features-7"
"""Bumped whenever segment extraction, features or the head's training change meaning, so an
old cached head is not reused by new code."""

_EDGE = 1 << 20

SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "heads"
"""Heads and exemplar vectors that ship with the package (read-only)."""


def default_cache_dir() -> Path:
    """`<platform cache>/fusion-tui/gate` (FUSION_GATE_CACHE_DIR overrides it)."""
    env = os.environ.get("FUSION_GATE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("fusion-tui")) / "gate"


def model_fingerprint(folder: Path, file: str) -> str:
    """A hash of the tokenizer and the ONNX file (its size, first and last MiB: cheap even for
    a 160 MB model, and any re-export changes them)."""
    digest = hashlib.sha256()
    for name in ("tokenizer.json", "config.json", "sentence_bert_config.json"):
        path = folder / name
        if path.is_file():
            digest.update(path.read_bytes())
    onnx = folder / file
    size = onnx.stat().st_size
    digest.update(str(size).encode())
    with onnx.open("rb") as handle:
        digest.update(handle.read(_EDGE))
        handle.seek(max(0, size - _EDGE))
        digest.update(handle.read(_EDGE))
    return digest.hexdigest()[:16]


def data_fingerprint(files: Iterable[Path], settings_json: str) -> str:
    """A hash of the training files' bytes, the gate settings and FEATURE_VERSION."""
    digest = hashlib.sha256(FEATURE_VERSION.encode())
    digest.update(settings_json.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
    return digest.hexdigest()[:16]


class HeadCache:
    """Heads on disk, by key."""

    def __init__(self, folder: Path | None = None, shipped: Path | None = None) -> None:
        self.folder = folder or default_cache_dir()
        self.shipped = shipped
        """A read-only folder looked in after `folder` (the package's SHIPPED_DIR)."""

    def path(self, key: str) -> Path:
        """Where the head for `key` lives."""
        return self.folder / f"head-{key}.npz"

    def _find(self, name: str) -> Path:
        """`folder/name`, else the shipped copy when there is one."""
        path = self.folder / name
        if not path.is_file() and self.shipped is not None and (self.shipped / name).is_file():
            return self.shipped / name
        return path

    def load(self, key: str) -> tuple[LinearHead, dict[str, Any]] | None:
        """The cached head and its meta, or None (absent, or unreadable: logged)."""
        path = self._find(self.path(key).name)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("gate head cache %s unreadable, retraining: %s", path, exc)
            return None
        try:
            return LinearHead.from_bytes(blob)
        except ValueError as exc:
            log.warning("gate head cache %s is damaged, retraining: %s", path, exc)
            return None

    def save(self, key: str, head: LinearHead, meta: dict[str, Any]) -> Path:
        """Write the head atomically (temp file + rename); returns its path."""
        return self._write(self.path(key), head.to_bytes(meta))

    def _write(self, path: Path, blob: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".gate-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def vectors(self, key: str, texts: Sequence[str],
                embed: Callable[[Sequence[str]], Matrix]) -> Matrix:
        """Embeddings of fixed texts (the exemplars) for one model: read from the cache
        when the model and the texts are the same, else embedded now and written."""
        digest = hashlib.sha256(key.encode())
        for text in texts:
            digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
        path = self.folder / f"vectors-{digest.hexdigest()[:20]}.npy"
        try:
            found = np.load(self._find(path.name), allow_pickle=False)
            if found.shape[0] == len(texts):
                return found.astype(np.float32)
        except (OSError, ValueError, EOFError):
            pass
        vectors = embed(texts)
        buffer = io.BytesIO()
        np.save(buffer, vectors)
        try:
            self._write(path, buffer.getvalue())
        except OSError as exc:
            log.warning("could not cache exemplar vectors in %s: %s", self.folder, exc)
        return vectors
