"""Sentence embeddings on onnxruntime + tokenizers (no torch): per-text token budgets (the
first or the last tokens), runs planned by token length so little is padded, mean pooling, L2
norm, an LRU cache keyed by the text and its budget, and a service that loads the model in the
background."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from fusion_tui.config.embeddings import EmbeddingSettings
from fusion_tui.events.model import ClassifierState, ClassifierStateChanged, Event
from fusion_tui.routing import onnx_builds
from fusion_tui.routing.modelstore import (
    TEST_MODEL_FILE,
    TEST_MODEL_NAME,
    ModelStoreError,
    ResolvedModel,
    assemble_test_model,
    is_local_spec,
    resolve_model,
)

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Device = Literal["auto", "cpu", "cuda"]
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


class EmbedderError(RuntimeError):
    """The model could not be loaded or run; the message says why."""


def _session(path: Path, providers: list[str]) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Spinning worker threads wait for work by burning CPU; on a machine shared with other
    # processes (the dashboard on the same loop, a busy laptop) that made a 16-token batch
    # take 160 ms instead of 20 ms here. Sleeping threads cost a few microseconds per call.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # A failed CUDA start logs at error level from C++ straight to stderr, which the
    # dashboard owns; failures still raise, so nothing is lost.
    ort.set_default_logger_severity(4)
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)


def open_session(path: Path, device: Device,
                 available: Sequence[str] | None = None,
                 factory: Callable[[Path, list[str]], Any] = _session) -> tuple[Any, str, str]:
    """Open an ONNX session on `device`. Returns (session, "cuda"|"cpu", note).

    auto takes CUDA only when onnxruntime lists it AND a session actually runs on it (it
    silently drops to CPU when the CUDA libraries are missing); else CPU, with the reason in
    the note. An explicit "cuda" that cannot be had is an error, never a quiet CPU run."""
    problem = onnx_builds.install_problem()
    if available is None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EmbedderError(problem or f"cannot import onnxruntime: {exc}") from exc
        available = ort.get_available_providers()
    if device in ("auto", "cuda"):
        if CUDA not in available:
            if device == "cuda":
                raise EmbedderError("device cuda: onnxruntime has no CUDAExecutionProvider "
                                    f"(available: {', '.join(available)})"
                                    + (f"; {problem}" if problem else ""))
            note = "CUDAExecutionProvider not available" + (f"; {problem}" if problem else "")
            return factory(path, [CPU]), "cpu", note
        try:
            onnx_builds.preload_cuda_libraries()
            session = factory(path, [CUDA, CPU])
            if session.get_providers()[0] != CUDA:
                raise EmbedderError("CUDA provider did not initialise (missing CUDA/cuDNN?)")
        except Exception as exc:
            if device == "cuda":
                raise EmbedderError(f"device cuda: {exc}") from exc
            return factory(path, [CPU]), "cpu", f"CUDA unusable: {exc}"
        return session, "cuda", ""
    return factory(path, [CPU]), "cpu", ""


def _sha(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class TokenBudget:
    """How much of a text the model reads: at most `tokens` tokens (special tokens included),
    the first ones or, with `tail`, the last ones (a log's verdict is at its end)."""

    tokens: int
    tail: bool = False


RUN_OVERHEAD_TOKENS = 24
"""What one more model run costs, in padded token positions (measured on the 2-core dev
machine with the test model: a run of 1 x 8 tokens costs about as much as 1 x 32). Used to
decide when texts of different lengths are cheaper in separate runs than padded together."""


def plan_runs(lengths: Sequence[int], max_rows: int,
              overhead: int = RUN_OVERHEAD_TOKENS) -> list[list[int]]:
    """Indices of `lengths` grouped into model runs at the least padded cost: each run costs
    `overhead` plus its rows times its longest row (every row is padded to that). Sorted by
    length, an optimal grouping is contiguous, so this is a small dynamic programme."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    n = len(order)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        longest = lengths[order[end - 1]]
        for start in range(max(0, end - max_rows), end):
            cost = best[start] + overhead + (end - start) * longest
            if cost < best[end]:
                best[end], cut[end] = cost, start
    runs: list[list[int]] = []
    end = n
    while end > 0:
        runs.append(order[cut[end]:end])
        end = cut[end]
    return runs[::-1]


class Embedder:
    """A loaded embedding model. `embed(texts)` gives L2-normalised float32 rows."""

    def __init__(self, session: Any, tokenizer: Any, *, model_name: str, device: str,
                 max_tokens: int = 512, batch_size: int = 16, cache_entries: int = 4096,
                 device_note: str = "") -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.device = device
        self.device_note = device_note
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.cache_entries = cache_entries
        self.hits = 0
        self.misses = 0
        self.runs = 0
        """Model runs so far."""
        self.tokens = 0
        """Tokens the model read so far (padding not counted)."""
        self.positions = 0
        """Token positions the model computed so far (padding counted)."""
        self.load_s = 0.0
        self.fingerprint = ""
        self._cache: OrderedDict[bytes, Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self.input_names = [i.name for i in session.get_inputs()]
        outputs = session.get_outputs()
        self._output = next((o.name for o in outputs if o.name == "last_hidden_state"),
                            outputs[0].name)
        self.dim = 0
        # The tokenizer as configured (truncation at max_tokens, padding) stays public; the
        # embedder itself tokenizes with a copy that neither cuts nor pads, and applies each
        # text's budget (head or tail) and the padding per run itself.
        self._raw = type(tokenizer).from_str(tokenizer.to_str())
        self._raw.no_truncation()
        self._raw.no_padding()
        self._specials = int(self._raw.num_special_tokens_to_add(False))
        self._pad_id = _pad_of(tokenizer)[0]

    @classmethod
    def load(cls, folder: Path, file: str = "model.onnx", *, device: Device = "auto",
             max_tokens: int = 512, batch_size: int = 16, cache_entries: int = 4096,
             model_name: str | None = None) -> Embedder:
        """Load tokenizer.json and the ONNX `file` from a hub-layout folder."""
        from tokenizers import Tokenizer

        start = time.perf_counter()
        folder = Path(folder)
        try:
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:
            raise EmbedderError(f"cannot read {folder / 'tokenizer.json'}: {exc}") from exc
        max_tokens = min(max_tokens, _model_max_positions(folder) or max_tokens)
        tokenizer.enable_truncation(max_length=max_tokens)
        pad_id, pad_token = _pad_of(tokenizer)
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
        try:
            session, dev, note = open_session(folder / file, device)
        except EmbedderError:
            raise
        except Exception as exc:
            raise EmbedderError(f"cannot load {folder / file}: {exc}") from exc
        embedder = cls(session, tokenizer, model_name=model_name or folder.name, device=dev,
                       max_tokens=max_tokens, batch_size=batch_size,
                       cache_entries=cache_entries, device_note=note)
        embedder.dim = int(embedder._run(embedder._encode(["warm up"], [None])).shape[1])
        from fusion_tui.routing.headcache import model_fingerprint

        embedder.fingerprint = model_fingerprint(folder, file)
        embedder.load_s = time.perf_counter() - start
        return embedder

    def _budget(self, budget: TokenBudget | None) -> TokenBudget | None:
        """The budget in effect: None when it is the whole of max_tokens from the head."""
        if budget is None:
            return None
        tokens = max(self._specials + 1, min(budget.tokens, self.max_tokens))
        if tokens == self.max_tokens and not budget.tail:
            return None
        return TokenBudget(tokens, budget.tail)

    def _key(self, text: str, budget: TokenBudget | None) -> bytes:
        if budget is None:
            return _sha(text)
        return _sha(f"{'tail' if budget.tail else 'head'}:{budget.tokens}\0{text}")

    def _encode(self, texts: Sequence[str],
                budgets: Sequence[TokenBudget | None]) -> list[list[int]]:
        encodings = self._raw.encode_batch(list(texts), add_special_tokens=False)
        rows = []
        for encoding, budget in zip(encodings, budgets, strict=True):
            limit = (budget.tokens if budget else self.max_tokens) - self._specials
            if len(encoding.ids) > limit:
                encoding.truncate(limit, direction="left" if budget and budget.tail
                                  else "right")
            rows.append(list(self._raw.post_process(encoding).ids))
        return rows

    def _run(self, rows: Sequence[list[int]]) -> Vectors:
        """One model run over token rows, padded to the longest."""
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1
        feeds: dict[str, npt.NDArray[np.int64]] = {}
        for name in self.input_names:
            if name == "input_ids":
                feeds[name] = ids
            elif name == "attention_mask":
                feeds[name] = mask
            elif name == "token_type_ids":
                feeds[name] = np.zeros_like(ids)
            else:
                raise EmbedderError(f"the ONNX graph wants an input {name!r} this embedder "
                                    f"does not know")
        hidden = self.session.run([self._output], feeds)[0]
        self.runs += 1
        self.tokens += sum(len(r) for r in rows)
        self.positions += ids.size
        return mean_pool(np.asarray(hidden, dtype=np.float32), mask)

    def embed(self, texts: Sequence[str],
              budgets: Sequence[TokenBudget | None] | None = None) -> Vectors:
        """Embed texts (cached by sha256 of the text and its budget); returns an (n, dim)
        float32 array. `budgets` (one per text, None: the first max_tokens) says how much of
        each text the model reads. The texts not cached are tokenized, then grouped into as
        few runs as padding allows (`plan_runs`): one request's short ask and long tool log
        are not padded to the same length."""
        if budgets is None:
            budgets = [None] * len(texts)
        elif len(budgets) != len(texts):
            raise ValueError(f"{len(budgets)} budgets for {len(texts)} texts")
        effective = [self._budget(b) for b in budgets]
        keys = [self._key(t, b) for t, b in zip(texts, effective, strict=True)]
        found: dict[bytes, Vectors] = {}
        todo: dict[bytes, tuple[str, TokenBudget | None]] = {}
        with self._lock:
            for key, text, budget in zip(keys, texts, effective, strict=True):
                if key in found or key in todo:
                    continue
                vec = self._cache.get(key)
                if vec is not None:
                    self._cache.move_to_end(key)
                    found[key] = vec
                    self.hits += 1
                else:
                    todo[key] = (text, budget)
                    self.misses += 1
        if todo:
            pending = list(todo)
            rows = self._encode([todo[k][0] for k in pending], [todo[k][1] for k in pending])
            for run in plan_runs([len(r) for r in rows], self.batch_size):
                vectors = self._run([rows[i] for i in run])
                for i, vec in zip(run, vectors, strict=True):
                    found[pending[i]] = vec
            with self._lock:
                for key in todo:
                    self._remember(key, found[key])
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def embed_one(self, text: str) -> Vectors:
        """One text's vector, shape (dim,)."""
        return self.embed([text])[0]

    def _remember(self, key: bytes, vec: Vectors) -> None:
        if self.cache_entries <= 0:
            return
        self._cache[key] = vec
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_entries:
            self._cache.popitem(last=False)

    @property
    def cache_size(self) -> int:
        """Embeddings currently cached."""
        return len(self._cache)

    def forget(self, texts: Sequence[str],
               budgets: Sequence[TokenBudget | None] | None = None) -> None:
        """Drop these texts' cached embeddings, read with these budgets (a benchmark times
        them as new)."""
        with self._lock:
            for text, budget in zip(texts, budgets or [None] * len(texts), strict=True):
                self._cache.pop(self._key(text, self._budget(budget)), None)

    def clear_cache(self) -> None:
        """Forget cached embeddings and reset the counters."""
        with self._lock:
            self._cache.clear()
            self.hits = self.misses = 0
            self.runs = self.tokens = self.positions = 0


def mean_pool(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> Vectors:
    """Mean of token vectors where mask is 1, then L2-normalised; (b, t, d) -> (b, d)."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _pad_of(tokenizer: Any) -> tuple[int, str]:
    padding = tokenizer.padding
    if padding:
        return int(padding["pad_id"]), str(padding["pad_token"])
    for token in ("[PAD]", "<pad>", "<|pad|>"):
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return int(token_id), token
    return 0, "[PAD]"


def _model_max_positions(folder: Path) -> int | None:
    limits = []
    for name, key in (("config.json", "max_position_embeddings"),
                      ("sentence_bert_config.json", "max_seq_length")):
        try:
            value = json.loads((folder / name).read_text()).get(key)
        except (OSError, ValueError, AttributeError):
            continue
        # ALiBi models (jina v2) declare 8192 and extrapolate; absolute ones (BERT) cannot.
        # A sentence-transformers model also states the length it was trained on (MiniLM:
        # 256 of 512 positions); longer inputs cost time and embed no better.
        if isinstance(value, int) and value > 0:
            limits.append(value)
    return min(limits) if limits else None


class EmbedderService:
    """Loads an Embedder in a worker thread and tracks its state for /health and the UI.

    States: idle -> loading (progress 0..1) -> ready | failed (with `error`). When the
    configured hub model cannot be fetched and `offline_fallback` is on, the bundled test
    model is loaded instead and announced: `fallback_reason` is set and `model` names it.
    `prepare` runs in the same worker after loading (the gate trains there); the state turns
    ready only after it succeeds; its result is `prepared`."""

    def __init__(self, settings: EmbeddingSettings, *,
                 publish: Callable[[Event], None] | None = None,
                 prepare: Callable[[Embedder], object] | None = None,
                 test_model_dir: Path | None = None) -> None:
        self.settings = settings
        self._publish = publish
        self._prepare = prepare
        self._test_model_dir = test_model_dir
        self.state = ClassifierState.IDLE
        self.progress: float | None = None
        self.error: str | None = None
        self.fallback_reason: str | None = None
        self.model: str = settings.model
        self.embedder: Embedder | None = None
        self.prepared: object = None
        self._ready = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_progress = 0.0

    @property
    def device(self) -> str:
        """"cuda" or "cpu" once loaded, else ""."""
        return self.embedder.device if self.embedder else ""

    def start(self) -> asyncio.Task[None]:
        """Start loading in the background; the task is kept (see `aclose`)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(),
                                                                name="embedder-load")
        return self._task

    async def aclose(self) -> None:
        """Cancel a load still running (the worker thread finishes on its own)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def run(self) -> None:
        """Load now (in a thread); never raises for a load failure, which sets `failed`."""
        self._loop = asyncio.get_running_loop()
        self._set(ClassifierState.LOADING, progress=0.0)
        try:
            await asyncio.to_thread(self._load_sync)
        except Exception as exc:
            log.exception("embedding model failed to load")
            self._set(ClassifierState.FAILED, error=str(exc) or type(exc).__name__)
        else:
            self._set(ClassifierState.READY, progress=1.0)
        finally:
            self._ready.set()

    async def wait_ready(self, wait_s: float | None = None) -> bool:
        """Wait until loading ends (ready or failed), at most `wait_s` seconds
        (default: settings.wait_s). True when ready."""
        wait = self.settings.wait_s if wait_s is None else wait_s
        if not self._ready.is_set():
            try:
                await asyncio.wait_for(self._ready.wait(), wait)
            except TimeoutError:
                return False
        return self.state == ClassifierState.READY

    def unavailable_reason(self) -> str:
        """Why smart requests cannot be classified now (for a 503 and /health)."""
        if self.state == ClassifierState.FAILED:
            return f"embedding model {self.model} failed to load: {self.error}"
        if self.state == ClassifierState.LOADING:
            pct = f" ({self.progress:.0%})" if self.progress is not None else ""
            return f"embedding model {self.model} is still loading{pct}"
        if self.state == ClassifierState.IDLE:
            return "embedding model not started"
        return ""

    def snapshot(self) -> dict[str, Any]:
        """State for /health: state, model, device, progress, error, fallback_reason."""
        return {"state": self.state, "model": self.model, "device": self.device,
                "progress": self.progress, "error": self.error,
                "fallback_reason": self.fallback_reason,
                "cache": ({"hits": self.embedder.hits, "misses": self.embedder.misses,
                           "size": self.embedder.cache_size} if self.embedder else None)}

    def _load_sync(self) -> None:
        resolved = self._resolve()
        s = self.settings
        self._set(ClassifierState.LOADING, progress=0.95)
        self.embedder = Embedder.load(resolved.folder, resolved.file, device=s.device,
                                      max_tokens=s.max_tokens, batch_size=s.batch_size,
                                      cache_entries=s.cache_entries, model_name=resolved.name)
        if self._prepare is not None:
            self.prepared = self._prepare(self.embedder)

    def _resolve(self) -> ResolvedModel:
        s = self.settings
        try:
            return resolve_model(s.model, s.file, revision=s.revision, cache_dir=s.cache_dir,
                                 progress=self._on_download)
        except ModelStoreError as exc:
            if not s.offline_fallback or is_local_spec(s.model):
                raise
            reason = str(exc)
        folder = assemble_test_model(self._test_model_dir)
        name = f"{TEST_MODEL_NAME} (offline fallback)"
        log.warning("embedding model %s unavailable, using the test model: %s", s.model, reason)
        self.fallback_reason = reason
        self.model = name
        self._set(ClassifierState.LOADING, progress=0.9)
        return ResolvedModel(folder=folder, file=TEST_MODEL_FILE, name=name)

    def _on_download(self, name: str, done: int, total: int | None) -> None:
        if not name.endswith(".onnx") or not total:
            return
        fraction = 0.9 * done / total
        now = time.monotonic()
        if fraction < 0.9 and now - self._last_progress < 0.25:
            return
        self._last_progress = now
        self._set(ClassifierState.LOADING, progress=fraction)

    def _set(self, state: ClassifierState, *, progress: float | None = None,
             error: str | None = None) -> None:
        self.state = state
        self.progress = progress
        self.error = error
        if self._publish is None:
            return
        detail = error
        if self.fallback_reason and state != ClassifierState.FAILED:
            detail = f"offline fallback: {self.fallback_reason}"
        event = ClassifierStateChanged(state=state, model=self.model, device=self.device,
                                       progress=progress, error=detail)
        loop = self._loop
        if loop is not None and loop.is_running() and not _on_loop(loop):
            loop.call_soon_threadsafe(self._publish, event)
        else:
            self._publish(event)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
