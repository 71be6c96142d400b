"""The gate: how hard is this request? compact | regular | plan.

Two stages. Harness modes first, recognised by meaning rather than by substring: the system
messages, reminders and the latest user text are compared with exemplars of Claude Code's
plan-mode instructions and of its compaction request; plan mode forces `plan`, a compaction
request forces `compact`. Otherwise a light classifier trained at start-up on the shipped
labelled set decides: softmax regression plus k nearest neighbours over a concatenation of
per-segment embeddings, weighted so that what changes between turns (the user's words, the
tool results) counts more than the constant system prompt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fusion_tui.config.embeddings import EmbeddingSettings, GateSettings
from fusion_tui.config.tiers import TIERS
from fusion_tui.routing import segments as seg
from fusion_tui.routing.data.exemplars import (
    COMPACTION,
    COMPACTION_NEGATIVE,
    EXIT_PLAN,
    HARNESS_NEGATIVE,
    PLAN_MODE,
)
from fusion_tui.routing.embedder import Embedder, EmbedderService

# Relative weight of each classifier segment (see segments.CLASSIFIER_SEGMENTS).
SEGMENT_WEIGHTS = {"user": 1.0, "history": 0.6, "assistant": 0.5, "tools": 0.7, "code": 0.4,
                   "system": 0.1}
# A terse reply ("yes do it", "continue") means whatever was proposed before it.
TERSE_WEIGHTS = {"user": 0.3, "history": 1.0, "assistant": 0.8, "tools": 0.7, "code": 0.4,
                 "system": 0.1}

Matrix = npt.NDArray[np.float32]


def is_terse(text: str) -> bool:
    """A short reply whose meaning comes from the context (at most 4 words, or 12 characters
    for scripts written without spaces)."""
    text = text.strip()
    return len(text.split()) <= 4 and len(text) <= 40 if " " in text else len(text) <= 12


class GateUnavailable(RuntimeError):
    """The gate cannot classify now (model loading or failed); the message says why."""


@dataclass(frozen=True)
class Decision:
    """What the gate decided: tier, per-tier scores (sum ~1), a machine-readable reason
    (e.g. `lr:plan`, `harness:plan_mode`, `harness:compaction`), the segments used,
    the latency, and the harness signals (best similarities) for explaining it."""

    tier: str
    scores: dict[str, float]
    reason: str
    segments: list[str]
    latency_ms: float
    signals: dict[str, float] = field(default_factory=dict)

    def event_fields(self) -> dict[str, Any]:
        """Keyword arguments for events.GateDecided (add session_id / request_id / overrides)."""
        return {"tier": self.tier, "scores": self.scores, "reason": self.reason,
                "segments": self.segments, "latency_ms": self.latency_ms}


@dataclass(frozen=True)
class HarnessMode:
    """The harness mode found in a request: "plan", "compact" or None, with why."""

    mode: str | None
    reason: str
    signals: dict[str, float]


class _Exemplars:
    def __init__(self, embedder: Embedder) -> None:
        self.plan = embedder.embed(PLAN_MODE)
        self.exit = embedder.embed(EXIT_PLAN)
        self.negative = embedder.embed(HARNESS_NEGATIVE)
        self.compaction = embedder.embed(COMPACTION)
        self.compaction_negative = embedder.embed(COMPACTION_NEGATIVE)


def _best(vectors: Matrix, exemplars: Matrix) -> npt.NDArray[np.float32]:
    result: npt.NDArray[np.float32] = (vectors @ exemplars.T).max(axis=1)
    return result


class Gate:
    """Classifies Anthropic request bodies. Build it with `Gate.train(embedder)`."""

    def __init__(self, embedder: Embedder, settings: GateSettings | None = None) -> None:
        self.embedder = embedder
        self.settings = settings or GateSettings()
        self._ex = _Exemplars(embedder)
        self._weights: Matrix | None = None
        self._bias: Matrix | None = None
        self._train_x: Matrix | None = None
        self._train_y: npt.NDArray[np.int64] | None = None
        self.trained_on = 0
        self.train_s = 0.0

    @classmethod
    def train(cls, embedder: Embedder, settings: GateSettings | None = None,
              path: Path | str | None = None) -> Gate:
        """A gate trained on `path` (default: the shipped train.jsonl). Examples whose harness
        mode decides them are left out: the rules, not the classifier, handle those."""
        from fusion_tui.routing.data import TRAIN, load_examples

        start = time.perf_counter()
        gate = cls(embedder, settings)
        bodies, labels = [], []
        for example in load_examples(path or TRAIN):
            segments = seg.extract(example.body, gate.settings)
            if gate.harness_mode(segments).mode is not None:
                continue
            bodies.append(segments)
            labels.append(TIERS.index(example.label))
        gate.fit(bodies, labels)
        gate.train_s = time.perf_counter() - start
        return gate

    def features(self, segments: seg.Segments) -> Matrix:
        """The weighted concatenation of the classifier segments' embeddings, L2-normalised."""
        named = segments.named()
        texts = list(named.values())
        vectors = self.embedder.embed(texts) if texts else None
        dim = self.embedder.dim
        out = np.zeros(dim * len(seg.CLASSIFIER_SEGMENTS), dtype=np.float32)
        weights = TERSE_WEIGHTS if is_terse(segments.user) else SEGMENT_WEIGHTS
        for i, name in enumerate(seg.CLASSIFIER_SEGMENTS):
            if name in named and vectors is not None:
                row = list(named).index(name)
                out[i * dim:(i + 1) * dim] = weights[name] * vectors[row]
        norm = float(np.linalg.norm(out))
        return out / norm if norm > 0 else out

    def fit(self, examples: Sequence[seg.Segments], labels: Sequence[int],
            epochs: int = 300, lr: float = 0.5) -> None:
        """Train softmax regression (full-batch gradient descent) and store kNN references."""
        x = np.stack([self.features(s) for s in examples]).astype(np.float32)
        y = np.asarray(labels, dtype=np.int64)
        n, d = x.shape
        k = len(TIERS)
        onehot = np.eye(k, dtype=np.float32)[y]
        w = np.zeros((d, k), dtype=np.float32)
        b = np.zeros(k, dtype=np.float32)
        # Balanced class weights: the set is roughly balanced, real traffic may not be.
        counts = np.bincount(y, minlength=k).astype(np.float32)
        sample_w = (n / (k * np.clip(counts, 1, None)))[y][:, None]
        for _ in range(epochs):
            p = _softmax(x @ w + b)
            grad = (p - onehot) * sample_w / n
            w -= lr * (x.T @ grad + self.settings.l2 * w)
            b -= lr * grad.sum(axis=0)
        self._weights, self._bias = w, b
        self._train_x, self._train_y = x, y
        self.trained_on = n

    def harness_mode(self, segments: seg.Segments) -> HarnessMode:
        """Plan mode or a compaction request, judged by similarity to exemplars."""
        s = self.settings
        signals: dict[str, float] = {}
        state: str | None = None
        if segments.harness:
            vectors = self.embedder.embed([c.text for c in segments.harness])
            plan = _best(vectors, self._ex.plan)
            exit_ = _best(vectors, self._ex.exit)
            other = _best(vectors, self._ex.negative)
            signals["plan_mode"] = round(float(plan.max()), 3)
            signals["exit_plan"] = round(float(exit_.max()), 3)
            # The last mode message in conversation order wins: entering, then leaving.
            for p, e, o in zip(plan, exit_, other, strict=True):
                if p >= s.harness_threshold and p >= max(e, o) + s.harness_margin:
                    state = "plan"
                elif e >= s.harness_threshold and e >= max(p, o) + s.harness_margin:
                    state = "exited"
        if segments.permission_mode is not None:
            if segments.permission_mode == "plan":
                return HarnessMode("plan", "harness:permission_mode", signals)
            state = None if state == "plan" else state
        if state == "plan":
            return HarnessMode("plan", "harness:plan_mode", signals)
        if segments.user:
            vector = self.embedder.embed([segments.user])
            comp = float(_best(vector, self._ex.compaction)[0])
            neg = float(_best(vector, self._ex.compaction_negative)[0])
            signals["compaction"] = round(comp, 3)
            if comp >= s.harness_threshold and comp >= neg + s.harness_margin:
                return HarnessMode("compact", "harness:compaction", signals)
        return HarnessMode(None, "", signals)

    def predict(self, segments: seg.Segments) -> tuple[dict[str, float], str]:
        """Classifier scores per tier (sum 1) and the reason (`lr:TIER` or `knn:TIER`)."""
        if self._weights is None or self._bias is None or self._train_x is None \
                or self._train_y is None:
            raise GateUnavailable("the gate is not trained")
        x = self.features(segments)
        probs = _softmax((x @ self._weights + self._bias)[None, :])[0]
        share = self.settings.knn_weight
        if share > 0:
            sims = self._train_x @ x
            k = min(self.settings.k, len(sims))
            top = np.argpartition(-sims, k - 1)[:k]
            knn = np.zeros(len(TIERS), dtype=np.float32)
            for i in top:
                knn[self._train_y[i]] += max(float(sims[i]), 0.0) ** 4
            total = float(knn.sum())
            knn = knn / total if total > 0 else np.full(len(TIERS), 1 / 3, dtype=np.float32)
            probs = (1 - share) * probs + share * knn
        scores = {t: round(float(v), 4) for t, v in zip(TIERS, probs, strict=True)}
        tier = TIERS[int(np.argmax(probs))]
        return scores, f"{'knn' if share >= 0.5 else 'lr'}:{tier}"

    def classify(self, body: dict[str, Any]) -> Decision:
        """Judge one Messages request body."""
        start = time.perf_counter()
        segments = seg.extract(body, self.settings)
        mode = self.harness_mode(segments)
        used = list(segments.named())
        if mode.mode is not None:
            scores = {t: (1.0 if t == mode.mode else 0.0) for t in TIERS}
            tier, reason = mode.mode, mode.reason
            used = ["harness", *used] if mode.mode == "plan" else ["user"]
        else:
            scores, reason = self.predict(segments)
            tier = reason.split(":", 1)[1]
        latency = (time.perf_counter() - start) * 1000
        return Decision(tier=tier, scores=scores, reason=reason, segments=used,
                        latency_ms=round(latency, 3), signals=mode.signals)


def _softmax(z: Matrix) -> Matrix:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Matrix = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


class GateService(EmbedderService):
    """An EmbedderService whose preparation trains the gate. `await classify(body)` waits for
    the model (up to settings.wait_s) and raises GateUnavailable with the reason (503)."""

    def __init__(self, settings: EmbeddingSettings, gate_settings: GateSettings | None = None,
                 *, publish: Any = None, test_model_dir: Path | None = None) -> None:
        self.gate_settings = gate_settings or GateSettings()
        super().__init__(settings, publish=publish, test_model_dir=test_model_dir,
                         prepare=lambda e: Gate.train(e, self.gate_settings))

    @property
    def gate(self) -> Gate | None:
        """The trained gate once ready."""
        return self.prepared if isinstance(self.prepared, Gate) else None

    async def classify(self, body: dict[str, Any], wait_s: float | None = None) -> Decision:
        """Classify, waiting up to `wait_s` (default settings.wait_s) for a model still
        loading; GateUnavailable (answer 503 with its message) when not ready."""
        if not await self.wait_ready(wait_s) or self.gate is None:
            raise GateUnavailable(self.unavailable_reason() or "gate not ready")
        return await asyncio.to_thread(self.gate.classify, body)


__all__ = ["TIERS", "Decision", "Gate", "GateService", "GateUnavailable", "HarnessMode"]
