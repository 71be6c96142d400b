"""The gate's learned head: softmax regression over named feature blocks (one embedding block
per segment, one column per structural fact), with per-block contributions for `explain`.

Numpy only. The input layout is described by `Layout` so a saved head can say which column
is which, and explain can say which block weighed most."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fusion_tui.routing.segments import CLASSIFIER_SEGMENTS, Structure

Matrix = npt.NDArray[np.float32]
TIERS = ("compact", "regular", "plan")


def _log_scale(value: float, cap: float) -> float:
    return min(1.0, math.log1p(max(value, 0.0)) / math.log1p(cap))


# Structural inputs: name -> (how to read it from Structure, scaled to 0..1).
STRUCTURAL: dict[str, Any] = {
    "turns": lambda s: _log_scale(s.human_turns, 40),
    "messages": lambda s: _log_scale(s.messages, 200),
    "tool_results_now": lambda s: _log_scale(s.tool_results_now, 20),
    "tool_chars_now": lambda s: _log_scale(s.tool_chars_now, 100_000),
    "tool_errors_now": lambda s: _log_scale(s.tool_errors_now, 10),
    "tool_errors_total": lambda s: _log_scale(s.tool_errors_total, 20),
    "tool_calls_so_far": lambda s: _log_scale(s.tool_uses_total, 100),
    "files_touched": lambda s: _log_scale(s.files_touched, 50),
    "ask_chars": lambda s: _log_scale(s.ask_chars, 10_000),
    "last_is_tool_result": lambda s: float(s.last_is_tool_result),
    "code_in_ask": lambda s: float(s.code_in_ask),
    "no_ask": lambda s: float(s.ask_chars == 0),
}


ANCHOR_INPUTS = tuple(f"anchor:{src}:{tier}:{stat}" for src in ("user", "proposal")
                      for tier in TIERS for stat in ("max", "top3"))
"""Similarity of the ask (and of the proposal a terse reply agrees to) to each tier's anchors."""


def structural_vector(structure: Structure) -> Matrix:
    """The structural inputs of one request, each in 0..1."""
    return np.array([f(structure) for f in STRUCTURAL.values()], dtype=np.float32)


@dataclass(frozen=True)
class Layout:
    """Which columns of the input are which: one block of `dim` per segment, then the extra
    blocks of the ask (name, width), then one column per structural input and per anchor
    similarity."""

    dim: int
    segments: tuple[str, ...] = CLASSIFIER_SEGMENTS
    structural: tuple[str, ...] = tuple(STRUCTURAL) + ANCHOR_INPUTS
    extras: tuple[tuple[str, int], ...] = ()

    @property
    def width(self) -> int:
        """Columns in all."""
        return self.dim * len(self.segments) + sum(w for _, w in self.extras) + \
            len(self.structural)

    def blocks(self) -> list[tuple[str, slice]]:
        """(name, columns) for every block: segments first, then the extra blocks, then
        `struct:<name>` columns."""
        out = [(name, slice(i * self.dim, (i + 1) * self.dim))
               for i, name in enumerate(self.segments)]
        base = self.dim * len(self.segments)
        for name, width in self.extras:
            out.append((name, slice(base, base + width)))
            base += width
        out += [(f"struct:{name}", slice(base + j, base + j + 1))
                for j, name in enumerate(self.structural)]
        return out


def softmax(z: Matrix) -> Matrix:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Matrix = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def balanced_weights(labels: npt.NDArray[np.int64], k: int,
                     sample_weight: Sequence[float] | None = None) -> Matrix:
    """Per-row weights (a column) that give each of the k classes the same total weight,
    times the rows' own weights, normalised to mean 1."""
    counts = np.bincount(labels, minlength=k).astype(np.float32)
    weight = (labels.shape[0] / (k * np.clip(counts, 1, None)))[labels]
    if sample_weight is not None:
        weight = weight * np.asarray(sample_weight, dtype=np.float32)
    return (weight / weight.mean())[:, None].astype(np.float32)


@dataclass
class LinearHead:
    """Softmax regression: `probs = softmax(x @ weights + bias)`."""

    layout: Layout
    weights: Matrix
    bias: Matrix
    trained_on: int = 0

    @classmethod
    def fit(cls, layout: Layout, x: Matrix, y: Sequence[int],
            sample_weight: Sequence[float] | None = None, *, l2: float = 1e-3,
            epochs: int = 400, lr: float = 0.5) -> LinearHead:
        """Class-balanced, L2-penalised, full-batch gradient descent with momentum."""
        labels = np.asarray(y, dtype=np.int64)
        n, d = x.shape
        k = len(TIERS)
        onehot = np.eye(k, dtype=np.float32)[labels]
        weight = balanced_weights(labels, k, sample_weight)
        w = np.zeros((d, k), dtype=np.float32)
        b = np.zeros(k, dtype=np.float32)
        vw = np.zeros_like(w)
        vb = np.zeros_like(b)
        for _ in range(epochs):
            p = softmax(x @ w + b)
            grad = (p - onehot) * weight / n
            gw = x.T @ grad + l2 * w
            gb = grad.sum(axis=0)
            vw = 0.9 * vw + gw
            vb = 0.9 * vb + gb
            w -= lr * vw
            b -= lr * vb
        return cls(layout, w.astype(np.float32), b.astype(np.float32), trained_on=n)

    def proba(self, x: Matrix) -> Matrix:
        """Tier probabilities for each row of x (or for one vector)."""
        rows = x[None, :] if x.ndim == 1 else x
        return softmax(rows @ self.weights + self.bias)

    def contributions(self, x: Matrix, tier: int) -> list[tuple[str, float]]:
        """How much each block pushed `tier` above the mean of the other tiers' logits,
        largest magnitude first."""
        others = [j for j in range(self.weights.shape[1]) if j != tier]
        direction = self.weights[:, tier] - self.weights[:, others].mean(axis=1)
        out = []
        for name, cols in self.layout.blocks():
            value = float(x[cols] @ direction[cols])
            if value != 0.0:
                out.append((name, round(value, 3)))
        return sorted(out, key=lambda kv: -abs(kv[1]))

    def to_bytes(self, meta: dict[str, Any]) -> bytes:
        """The head as an .npz blob (meta stored as JSON beside the arrays)."""
        buffer = io.BytesIO()
        info = {"dim": self.layout.dim, "segments": list(self.layout.segments),
                "structural": list(self.layout.structural),
                "extras": [list(e) for e in self.layout.extras], "trained_on": self.trained_on,
                **meta}
        np.savez(buffer, weights=self.weights, bias=self.bias,
                 meta=np.frombuffer(json.dumps(info).encode(), dtype=np.uint8))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> tuple[LinearHead, dict[str, Any]]:
        """A head saved by `to_bytes`, and its meta. ValueError when it is not one."""
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as data:
                weights = data["weights"].astype(np.float32)
                bias = data["bias"].astype(np.float32)
                meta: dict[str, Any] = json.loads(bytes(data["meta"]).decode())
        except (OSError, KeyError, ValueError, EOFError) as exc:
            raise ValueError(f"not a gate head: {exc}") from exc
        try:
            layout = Layout(int(meta["dim"]), tuple(meta["segments"]),
                            tuple(meta["structural"]),
                            tuple((str(n), int(w)) for n, w in meta.get("extras", [])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"gate head has a bad layout: {exc}") from exc
        if weights.shape != (layout.width, len(TIERS)) or bias.shape != (len(TIERS),):
            raise ValueError(f"gate head has shape {weights.shape}, expected "
                             f"{(layout.width, len(TIERS))}")
        return cls(layout, weights, bias, int(meta.get("trained_on", 0))), meta
