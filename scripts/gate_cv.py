"""Grouped cross-validation of the gate's head over the real captures' TRAIN split, in seconds.

Every text the gate reads (segments, harness chunks, extra inputs) is embedded once with the
offline test model and the vectors are kept in a file (default /tmp/gate_cv_vectors.npz), so
a second run only embeds what changed. Then each head variant is scored by grouped 5-fold CV:
whole train scenarios are held out per fold (a session never straddles), the synthetic set is
always in the training part. Requests a kind rule or plan mode decides are routed by the rule,
as in production, and counted. The held-out split is never read unless `--heldout` is given,
which reports (never tunes) the variants on it.

    .venv/bin/python scripts/gate_cv.py                   # every variant, with error analysis
    .venv/bin/python scripts/gate_cv.py -v shipped,mlp    # some variants
    .venv/bin/python scripts/gate_cv.py --list            # the variants
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fusion_tui.config.embeddings import GateSettings
from fusion_tui.config.tiers import TIERS
from fusion_tui.routing import segments as seg
from fusion_tui.routing.corpus import load_captures
from fusion_tui.routing.data import HELDOUT, TRAIN, expand, load_examples
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate, is_terse
from fusion_tui.routing.head import Layout, LinearHead, balanced_weights, softmax
from fusion_tui.routing.kinds import CHORE_TIER
from fusion_tui.routing.modelstore import TEST_MODEL_FILE, assemble_test_model

Matrix = np.ndarray


def out(line: str = "") -> None:
    """A line of the report."""
    sys.stdout.write(line + "\n")


# --- embedding once ------------------------------------------------------------------------

class VectorStore:
    """The embedder's own sha256 cache, saved to and loaded from an .npz file."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.embedder, self.path = embedder, path
        embedder.cache_entries = 10**7
        if path.is_file():
            with np.load(path) as data:
                for key, vec in zip(data["keys"], data["vectors"], strict=True):
                    embedder._remember(bytes(key), vec)
        self.loaded = embedder.cache_size

    def save(self) -> None:
        """Write the cache back when it grew."""
        cache = self.embedder._cache
        if len(cache) == self.loaded:
            return
        keys = np.array([np.frombuffer(k, dtype=np.uint8) for k in cache], dtype=np.uint8)
        vectors = np.stack(list(cache.values())).astype(np.float32)
        np.savez(self.path, keys=keys, vectors=vectors)


# --- the items -----------------------------------------------------------------------------

@dataclass
class Item:
    """One labelled request as the CV sees it."""

    id: str
    tier: str
    source: str  # real | synthetic
    group: str
    lang: str
    client: str
    kind: str
    segments: seg.Segments
    rule_tier: str | None = None  # the tier a kind rule or plan mode routes it at
    rows: dict[str, Matrix] = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        """Error-analysis categories of this request."""
        s = self.segments
        cats = [f"client:{self.client}", "lang:en" if self.lang == "en" else "lang:other"]
        if self.kind != "main":
            cats.append(f"kind:{self.kind}")
        if s.structure.last_is_tool_result:
            cats.append("turn:tool_result")
        elif is_terse(s.user):
            cats.append("turn:terse")
        else:
            cats.append("turn:ask")
        n = len(s.user)
        cats.append("ask:<40" if n < 40 else "ask:40-120" if n <= 120 else "ask:>120")
        return cats


def written_records(folder: Path) -> Iterator[dict[str, Any]]:
    """The requests written for training in round four (scripts/written_asks/*.jsonl: forms
    ask, followup, subagent) as synthetic records (`data.expand` builds their bodies)."""
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            h = hashlib.sha256(line.encode()).hexdigest()[:10]
            text = [{"type": "text", "text": d["ask"]}]
            if d.get("form") == "followup":
                messages = [{"role": "user", "content": [{"type": "text",
                                                          "text": d["first_ask"]}]},
                            {"role": "system", "content": "$ENV"},
                            {"role": "assistant", "content": d["assistant"]},
                            {"role": "user", "content": text}]
            else:
                messages = [{"role": "user", "content": text},
                            {"role": "system", "content": "$ENV"}]
            yield {"id": f"written-{h}", "label": d["tier"], "lang": d.get("lang", "en"),
                   "cwd": "/home/dev/project", "messages": messages}


def load_items(gate: Gate, settings: GateSettings, heldout: bool,
               synthetic_heldout: bool, written: Path | None = None) -> list[Item]:
    """The synthetic train set and the real captures' train split (and the held-out splits
    if asked)."""
    items = [Item(e.id, e.label, "synthetic", "", "", "synthetic", "main",
                  seg.extract(e.body, settings)) for e in load_examples(TRAIN)]
    if written is not None:
        items += [Item(r["id"], r["label"], "written", "", r["lang"], "written", "main",
                       seg.extract(expand(r), settings)) for r in written_records(written)]
    if synthetic_heldout:
        items += [Item(e.id, e.label, "synthetic-heldout", "", "", "synthetic", e.kind,
                       seg.extract(e.body, settings)) for e in load_examples(HELDOUT)]
    for c in load_captures():
        if c.split == "heldout" and not heldout:
            continue
        source = "real" if c.split == "train" else "heldout"
        items.append(Item(c.id, c.tier, source, c.scenario, c.lang, c.client, c.kind,
                          seg.extract(c.body, settings)))
    for item in items:
        if item.source in ("synthetic", "written"):
            continue
        vectors = gate.vectors(item.segments)
        kind = gate.kind_of(item.segments, vectors)[0].kind
        if kind in CHORE_TIER:
            item.rule_tier = CHORE_TIER[kind]
        elif gate.harness_mode(item.segments, vectors).mode is not None:
            item.rule_tier = "plan"
    for item in items:
        if item.source in ("synthetic", "written"):
            # As Gate.fit: a non-plan example's harness is not read.
            segments = item.segments if item.tier == "plan" else \
                dataclasses.replace(item.segments, harness=())
            vectors = gate.vectors(segments)
            if gate._decided_by_rules(segments, vectors):
                item.rule_tier = item.tier
    return items


# --- the MLP head tried in round three ------------------------------------------------

def _gelu(z: Matrix) -> Matrix:
    out: Matrix = (0.5 * z * (1.0 + np.tanh(0.7978845608 * (z + 0.044715 * z ** 3)))
                   ).astype(np.float32)
    return out


def _gelu_grad(z: Matrix) -> Matrix:
    inner = 0.7978845608 * (z + 0.044715 * z ** 3)
    t = np.tanh(inner)
    out: Matrix = (0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * 0.7978845608 *
                   (1.0 + 3 * 0.044715 * z * z)).astype(np.float32)
    return out


@dataclass
class MLPHead:
    """One hidden layer (GELU) then softmax: `probs = softmax(gelu(x @ w1 + b1) @ w2 + b2)`.

    Tried in round three (docs/routing.md) and not shipped: it lost to LinearHead in CV.
    Trained deterministically (fixed seed), class-balanced, with L2, dropout on the hidden
    layer and the epoch count chosen by early stopping on an inner split of the rows, then
    refitted on all rows for that many epochs."""

    layout: Layout
    w1: Matrix
    b1: Matrix
    w2: Matrix
    b2: Matrix
    trained_on: int = 0

    @staticmethod
    def _train(x: Matrix, onehot: Matrix, weight: Matrix, *, hidden: int, l2: float,
               dropout: float, lr: float, epochs: int, seed: int,
               watch: tuple[Matrix, np.ndarray] | None = None
               ) -> tuple[tuple[Matrix, Matrix, Matrix, Matrix], int]:
        rng = np.random.default_rng(seed)
        n, d = x.shape
        k = onehot.shape[1]
        params = [(rng.standard_normal((d, hidden)) * math.sqrt(2.0 / d)).astype(np.float32),
                  np.zeros(hidden, dtype=np.float32),
                  (rng.standard_normal((hidden, k)) * math.sqrt(1.0 / hidden)
                   ).astype(np.float32),
                  np.zeros(k, dtype=np.float32)]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        best, best_epoch, best_params = -1.0, epochs, [p.copy() for p in params]
        for epoch in range(1, epochs + 1):
            w1, b1, w2, b2 = params
            z = x @ w1 + b1
            h = _gelu(z)
            mask = (rng.random(h.shape) >= dropout).astype(np.float32) / (1.0 - dropout)
            hd = h * mask
            p = softmax(hd @ w2 + b2)
            grad = (p - onehot) * weight / n
            gw2 = hd.T @ grad + l2 * w2
            gb2 = grad.sum(axis=0)
            gh = (grad @ w2.T) * mask * _gelu_grad(z)
            gw1 = x.T @ gh + l2 * w1
            gb1 = gh.sum(axis=0)
            for i, g in enumerate((gw1, gb1, gw2, gb2)):
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                mh = m[i] / (1 - 0.9 ** epoch)
                vh = v[i] / (1 - 0.999 ** epoch)
                params[i] = (params[i] - lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
            if watch is not None and epoch % 5 == 0:
                xv, yv = watch
                pv = softmax(_gelu(xv @ params[0] + params[1]) @ params[2] + params[3])
                # Class-balanced accuracy on the inner split (ties: the earlier epoch).
                pred = pv.argmax(axis=1)
                score = float(np.mean([np.mean(pred[yv == c] == c)
                                       for c in range(k) if np.any(yv == c)]))
                if score > best:
                    best, best_epoch, best_params = score, epoch, [q.copy() for q in params]
        final = best_params if watch is not None else params
        return (final[0], final[1], final[2], final[3]), best_epoch

    @classmethod
    def fit(cls, layout: Layout, x: Matrix, y: Sequence[int],
            sample_weight: Sequence[float] | None = None, *, hidden: int = 64,
            l2: float = 1e-3, dropout: float = 0.3, lr: float = 3e-3, epochs: int = 200,
            inner_share: float = 0.2, seed: int = 0) -> MLPHead:
        """Class-balanced, L2 and dropout; epochs by early stopping on `inner_share` of the
        rows (seeded), then refitted on all rows."""
        labels = np.asarray(y, dtype=np.int64)
        n = x.shape[0]
        k = len(TIERS)
        onehot = np.eye(k, dtype=np.float32)[labels]
        weight = balanced_weights(labels, k, sample_weight)
        order = np.random.default_rng(seed).permutation(n)
        cut = int(n * inner_share)
        inner, rest = order[:cut], order[cut:]
        opts = {"hidden": hidden, "l2": l2, "dropout": dropout, "lr": lr, "seed": seed}
        _, best_epoch = cls._train(x[rest], onehot[rest], weight[rest], epochs=epochs,
                                   watch=(x[inner], labels[inner]), **opts)
        (w1, b1, w2, b2), _ = cls._train(x, onehot, weight, epochs=best_epoch, **opts)
        return cls(layout, w1, b1, w2, b2, trained_on=n)

    def proba(self, x: Matrix) -> Matrix:
        """Tier probabilities for each row of x (or for one vector)."""
        rows = x[None, :] if x.ndim == 1 else x
        return softmax(_gelu(rows @ self.w1 + self.b1) @ self.w2 + self.b2)


# --- variants ------------------------------------------------------------------------------

Features = Callable[[Gate, Item], Matrix]


def shipped_features(gate: Gate, item: Item) -> Matrix:
    """The gate's own input row (routing/gate.py)."""
    return gate.features(item.segments)


@dataclass(frozen=True)
class Variant:
    """A head variant: its input row, its penalty, the synthetic set's weight, the head."""

    name: str
    features: Features = shipped_features
    l2: float = 3e-2
    synthetic_weight: float = 1.0
    written_weight: float = 0.0
    head: str = "lr"  # lr | mlp | knn+lr
    note: str = ""


def fit_predict(variant: Variant, x_train: Matrix, y_train: np.ndarray, w_train: np.ndarray,
                x_test: Matrix) -> np.ndarray:
    """Class probabilities of the test rows."""
    layout = Layout(1, ("x",), tuple(f"c{i}" for i in range(x_train.shape[1] - 1)))
    if variant.head.startswith("mlp"):
        # mlp:<hidden>:<l2>:<dropout>
        parts = [*variant.head.split(":"), "", "", ""][1:4]
        mlp = MLPHead.fit(layout, x_train, y_train.tolist(), w_train.tolist(),
                          hidden=int(parts[0] or 64), l2=float(parts[1] or 1e-3),
                          dropout=float(parts[2] or 0.3))
        mlp_proba: np.ndarray = mlp.proba(x_test)
        return mlp_proba
    head = LinearHead.fit(layout, x_train, y_train.tolist(), w_train.tolist(), l2=variant.l2)
    proba: np.ndarray = head.proba(x_test)
    if variant.head.startswith("knn"):
        # kNN over the train rows (cosine), class-balanced vote, blended with the regression.
        share = float(variant.head.split(":")[1]) if ":" in variant.head else 0.3
        a = x_train / np.linalg.norm(x_train, axis=1, keepdims=True)
        b = x_test / np.linalg.norm(x_test, axis=1, keepdims=True)
        sims = b @ a.T
        top = np.argsort(-sims, axis=1)[:, :11]
        counts = np.bincount(y_train, minlength=3).astype(np.float32)
        votes = np.zeros_like(proba)
        for r, idx in enumerate(top):
            for j in idx:
                votes[r, y_train[j]] += max(sims[r, j], 0.0) / counts[y_train[j]]
        votes /= np.clip(votes.sum(axis=1, keepdims=True), 1e-9, None)
        proba = (1 - share) * proba + share * votes
    return proba


def folds(groups: list[str], k: int = 5, seed: int = 0) -> list[set[str]]:
    """Scenarios dealt into k folds (shuffled, deterministic)."""
    names = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(names)
    return [set(names[i::k]) for i in range(k)]


@dataclass
class Result:
    """Per real request: label and prediction."""

    variant: str
    labels: list[str] = field(default_factory=list)
    preds: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    def accuracy(self, only: Callable[[Item], bool] = lambda i: True) -> tuple[int, int]:
        pairs = [(lab, pred) for lab, pred, it in zip(self.labels, self.preds, self.items,
                                                      strict=True) if only(it)]
        return sum(lab == pred for lab, pred in pairs), len(pairs)

    def recall(self, tier: str) -> float:
        c, n = self.accuracy(lambda i: i.tier == tier)
        return c / n if n else 0.0


def row(variant: Variant, gate: Gate, item: Item) -> Matrix:
    if variant.name not in item.rows:
        item.rows[variant.name] = variant.features(gate, item).astype(np.float32)
    return item.rows[variant.name]


def cross_validate(variant: Variant, gate: Gate, items: list[Item], k: int = 5,
                   evaluate_on: str = "real") -> Result:
    """Grouped k-fold CV over the real train scenarios (or train on all train, test on the
    held-out split when `evaluate_on` is "heldout")."""
    result = Result(variant.name)
    synthetic = [i for i in items if i.source == "synthetic" and i.rule_tier is None]
    synthetic += [i for i in items if i.source == "written" and i.rule_tier is None
                  and variant.written_weight > 0]
    real = [i for i in items if i.source == "real"]
    if evaluate_on in ("heldout", "synthetic-heldout"):
        splits = [({"__all__"}, [i for i in real if i.rule_tier is None],
                   [i for i in items if i.source == evaluate_on])]
    else:
        splits = []
        for fold in folds([i.group for i in real], k):
            train = [i for i in real if i.group not in fold and i.rule_tier is None]
            test = [i for i in real if i.group in fold]
            splits.append((fold, train, test))
    for _, train_real, test in splits:
        train = synthetic + train_real
        x = np.stack([row(variant, gate, i) for i in train])
        y = np.array([TIERS.index(i.tier) for i in train])
        w = np.array([variant.synthetic_weight if i.source == "synthetic" else
                      variant.written_weight if i.source == "written" else 1.0
                      for i in train], dtype=np.float32)
        judged = [i for i in test if i.rule_tier is None]
        probs = fit_predict(variant, x, y, w, np.stack([row(variant, gate, i)
                                                         for i in judged])) if judged else []
        by_id = {i.id: TIERS[int(np.argmax(p))] for i, p in zip(judged, probs, strict=True)}
        for i in test:
            result.labels.append(i.tier)
            result.preds.append(i.rule_tier or by_id[i.id])
            result.items.append(i)
    return result


def report(result: Result, errors: bool) -> None:
    c, n = result.accuracy()
    recalls = " / ".join(f"{result.recall(t):.2f}" for t in TIERS)
    head_c, head_n = result.accuracy(lambda i: i.rule_tier is None)
    out(f"{result.variant:<28} {c / n:6.1%} ({c}/{n})  recall c/r/p {recalls}   "
        f"head-judged {head_c / max(head_n, 1):.1%} of {head_n}")
    if not errors:
        return
    cats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for lab, pred, it in zip(result.labels, result.preds, result.items, strict=True):
        for cat in it.categories:
            cats[cat][0] += lab == pred
            cats[cat][1] += 1
    out("    " + ", ".join(f"{k} {v[0]}/{v[1]} ({v[0] / v[1]:.0%})"
                         for k, v in sorted(cats.items())))
    confusion = Counter(zip(result.labels, result.preds, strict=True))
    out("    confusion (label->pred): " + ", ".join(
        f"{a}->{b} {confusion[(a, b)]}" for a in TIERS for b in TIERS))


class MultilingualCache:
    """The optional ask encoder's vectors (slow: pure numpy), kept in a file between runs and
    fed into the encoder's own cache (same sha256 keys)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved: dict[bytes, Matrix] = {}
        if path.is_file():
            with np.load(path) as data:
                self.saved = {bytes(k): v for k, v in zip(data["keys"], data["vectors"],
                                                          strict=True)}

    def feed(self, gate: Gate) -> None:
        enc = gate.ask_encoder
        if enc is None:
            return
        enc.cache_entries = 10**7
        enc._cache.update(self.saved)

    def save(self, gates: list[Gate]) -> None:
        for gate in gates:
            if gate.ask_encoder is not None:
                self.saved.update(gate.ask_encoder._cache)
        if self.saved:
            keys = np.array([np.frombuffer(k, dtype=np.uint8) for k in self.saved])
            np.savez(self.path, keys=keys, vectors=np.stack(list(self.saved.values())))


GATES: dict[str, Gate] = {}


def gate_with(constants: dict[str, Any] | None = None, **overrides: Any) -> Features:
    """The production features (routing/gate.py) of a gate with these GateSettings (and these
    module constants of routing/gate.py while it is built and used)."""
    from fusion_tui.routing import gate as gate_module

    constants = constants or {}
    key = repr(sorted(overrides.items())) + repr(sorted(constants.items()))

    def features(gate: Gate, item: Item) -> Matrix:
        old = {k: getattr(gate_module, k) for k in constants}
        for k, v in constants.items():
            setattr(gate_module, k, v)
        try:
            if key not in GATES:
                GATES[key] = Gate(gate.embedder, GateSettings(**overrides))
                MULTI.feed(GATES[key])
            return GATES[key].features(item.segments)
        finally:
            for k, v in old.items():
                setattr(gate_module, k, v)
    return features


def without(block: str, base: Features) -> Features:
    """Ablation: zero one named block of the production layout."""
    def features(gate: Gate, item: Item) -> Matrix:
        x = base(gate, item).copy()
        g = next(iter(GATES.values()), gate)
        for name, cols in g.layout.blocks():
            if name == block:
                x[cols] = 0.0
        return x
    return features


def with_constants(base: Features, **values: Any) -> Features:
    """The same features computed with routing/gate.py's scale constants changed."""
    from fusion_tui.routing import gate as gate_module

    def features(gate: Gate, item: Item) -> Matrix:
        old = {k: getattr(gate_module, k) for k in values}
        for k, v in values.items():
            setattr(gate_module, k, v)
        try:
            return base(gate, item)
        finally:
            for k, v in old.items():
                setattr(gate_module, k, v)
    return features


def with_multilingual_anchors(base: Features, translated: bool = True) -> Features:
    """The base features plus the ask's similarity (best, top-3 mean per tier) to the tier
    anchors, both read by the multilingual ask encoder (base must use it)."""
    from fusion_tui.routing import gate as gate_module
    from fusion_tui.routing.data import exemplars as ex

    anchors: dict[str, Matrix] = {}

    def features(gate: Gate, item: Item) -> Matrix:
        x = base(gate, item)
        g = next(v for v in GATES.values() if v.ask_encoder is not None)
        enc = g.ask_encoder
        assert enc is not None
        if not anchors:
            for tier in TIERS:
                texts = ex.TIER_ANCHORS[tier]
                if translated:
                    texts += tuple(t for lang in ex.TIER_ANCHORS_TRANSLATED.values()
                                   for t in lang[tier])
                anchors[tier] = np.stack([enc.encode(t) for t in texts])
        ask = enc.encode(gate_module.effective_ask(item.segments))
        sims: list[float] = []
        for tier in TIERS:
            ordered = np.sort(anchors[tier] @ ask)[::-1]
            sims += [float(ordered[0]), float(ordered[:3].mean())]
        return np.concatenate([x, np.asarray(sims, dtype=np.float32)])
    return features


def with_ask_vectors(base: Features, pooling: str, scale: float = 2.0,
                     center: bool = True) -> Features:
    """The base features plus an LLM's vector of the effective ask, precomputed by
    scripts/gate_llm_vectors.py (keyed by the sha256 of the ask), centred on the mean of all
    vectors, L2-normalised and scaled (round four)."""
    path = Path(tempfile.gettempdir()) / f"gate_llm_vectors_{pooling}.npz"
    from fusion_tui.routing import gate as gate_module

    table: dict[str, Matrix] = {}

    def features(gate: Gate, item: Item) -> Matrix:
        if not table:
            with np.load(path) as data:
                vecs = data["vectors"].astype(np.float32)
                if center:
                    vecs = vecs - vecs.mean(axis=0, keepdims=True)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
                table.update(zip((str(k) for k in data["keys"]), vecs, strict=True))
        ask = gate_module.effective_ask(item.segments)
        vec = table[hashlib.sha256(ask.encode()).hexdigest()]
        return np.concatenate([base(gate, item), scale * vec])
    return features


MULTI = MultilingualCache(Path(tempfile.gettempdir()) / "gate_cv_ask_encoder.npz")
GATE = gate_with(ask_model="")  # the ask encoder off (the default until round four)
GATE_USE = gate_with(ask_model="use-multilingual-v3")

VARIANTS = [
    Variant("gate", GATE, note="routing/gate.py, ask encoder off"),
    Variant("gate-no-ngrams", without("ask_ngrams", GATE), note="ablation"),
    Variant("gate+use", GATE_USE, note="gate.ask_model: use-multilingual-v3 (the default)"),
    Variant("gate+use l2=1e-2", GATE_USE, l2=1e-2),
    Variant("gate+use l2=1e-1", GATE_USE, l2=1e-1),
    Variant("gate+use syn0.5", GATE_USE, synthetic_weight=0.5),
    Variant("gate l2=1e-2", GATE, l2=1e-2),
    Variant("gate ngram3", with_constants(GATE, NGRAM_SCALE=3.0)),
    Variant("gate+use ngram3 use3", with_constants(GATE_USE, NGRAM_SCALE=3.0,
                                                    MULTILINGUAL_SCALE=3.0)),
    Variant("gate+use use3", with_constants(GATE_USE, MULTILINGUAL_SCALE=3.0)),
    Variant("gate syn0.5", GATE, synthetic_weight=0.5),
    Variant("gate knn0.3", GATE, head="knn:0.3", note="kNN vote blended with the LR"),
    Variant("gate no-system", with_constants(GATE, SEGMENT_WEIGHTS={
        "user": 1.0, "history": 0.6, "assistant": 0.5, "tools": 0.7, "code": 0.4,
        "system": 0.0})),
    Variant("gate tools0.3", with_constants(GATE, SEGMENT_WEIGHTS={
        "user": 1.0, "history": 0.6, "assistant": 0.5, "tools": 0.3, "code": 0.4,
        "system": 0.1})),
    Variant("gate struct1", with_constants(GATE, STRUCT_SCALE=1.0)),
    Variant("gate anchors1", with_constants(GATE, ANCHOR_SCALE=1.0)),
    Variant("gate anchors3", with_constants(GATE, ANCHOR_SCALE=3.0)),
    Variant("gate anchors1 struct1", with_constants(GATE, ANCHOR_SCALE=1.0, STRUCT_SCALE=1.0)),
    Variant("gate+use anchors1", with_constants(GATE_USE, ANCHOR_SCALE=1.0)),
    Variant("gate+use knn0.3", GATE_USE, head="knn:0.3"),
    Variant("gate i18n-anchors", gate_with({"TRANSLATED_ANCHORS": True}),
            note="tier anchors also in de fr es pt it ja zh ko ru"),
    Variant("gate+use i18n-anchors", gate_with({"TRANSLATED_ANCHORS": True},
                                               ask_model="use-multilingual-v3")),
    Variant("gate+use use-anchors", with_multilingual_anchors(GATE_USE),
            note="+ ask-to-anchor similarities read by the multilingual encoder"),
    Variant("gate+use use-anchors en", with_multilingual_anchors(GATE_USE, translated=False)),
    Variant("gate+w1", GATE, written_weight=1.0),
    Variant("gate+w0.5", GATE, written_weight=0.5),
    Variant("gate+w1 syn0.5", GATE, written_weight=1.0, synthetic_weight=0.5),
    Variant("gate+use+w1", GATE_USE, written_weight=1.0),
    Variant("gate+use+w0.5", GATE_USE, written_weight=0.5),
    Variant("gate+qmean", with_ask_vectors(GATE, "mean")),
    Variant("gate+qmean1", with_ask_vectors(GATE, "mean", 1.0)),
    Variant("gate+qmean4", with_ask_vectors(GATE, "mean", 4.0)),
    Variant("gate+qlast", with_ask_vectors(GATE, "last")),
    Variant("gate+qlast1", with_ask_vectors(GATE, "last", 1.0)),
    Variant("gate+qlast4", with_ask_vectors(GATE, "last", 4.0)),
    Variant("gate+use+qmean", with_ask_vectors(GATE_USE, "mean")),
    Variant("gate+use+qlast", with_ask_vectors(GATE_USE, "last")),
    Variant("gate mlp64", GATE, head="mlp:64:1e-3:0.3", note="numpy MLP head (GELU)"),
    Variant("gate mlp128", GATE, head="mlp:128:1e-3:0.3"),
    Variant("gate mlp64 l2=1e-2", GATE, head="mlp:64:1e-2:0.3"),
    Variant("gate mlp64 drop0.5", GATE, head="mlp:64:1e-3:0.5"),
    Variant("gate mlp64 l2=3e-2 drop0.5", GATE, head="mlp:64:3e-2:0.5"),
    Variant("gate mlp16 l2=1e-2", GATE, head="mlp:16:1e-2:0.3"),
    Variant("gate mlp64 l2=1e-1 drop0.5", GATE, head="mlp:64:1e-1:0.5"),
    Variant("gate+use mlp64", GATE_USE, head="mlp:64:1e-3:0.3"),
    Variant("gate+use mlp64 l2=3e-2 drop0.5", GATE_USE, head="mlp:64:3e-2:0.5"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--variants", default="", help="comma-separated names")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--no-errors", action="store_true")
    parser.add_argument("--misses", type=int, default=0, help="print N misses per variant")
    parser.add_argument("--heldout", action="store_true",
                        help="also REPORT on the held-out split (never tune on it)")
    parser.add_argument("--synthetic-heldout", action="store_true",
                        help="also report on data/heldout.jsonl (tests/unit/test_evaluate.py)")
    parser.add_argument("--written", type=Path, default=None,
                        help="also train on the written requests of this folder "
                             "(scripts/written_asks; variants gate+w...)")
    parser.add_argument("--vectors", type=Path,
                        default=Path(tempfile.gettempdir()) / "gate_cv_vectors.npz")
    args = parser.parse_args(argv)
    if args.list:
        for v in VARIANTS:
            out(f"{v.name:<28} {v.note}")
        return 0
    chosen = [v for v in VARIANTS if not args.variants or v.name in args.variants.split(",")]
    start = time.perf_counter()
    embedder = Embedder.load(assemble_test_model(Path(tempfile.gettempdir()) / "gate-cv-model"),
                             TEST_MODEL_FILE, device="cpu")
    store = VectorStore(embedder, args.vectors)
    settings = GateSettings()
    gate = Gate(embedder, settings)
    items = load_items(gate, settings, args.heldout, args.synthetic_heldout, args.written)
    for variant in chosen:  # embed every variant's texts once, then save
        for item in items:
            row(variant, gate, item)
    store.save()
    MULTI.save(list(GATES.values()))
    real = [i for i in items if i.source == "real"]
    out(f"{len(real)} real train requests in {len({i.group for i in real})} scenarios, "
        f"{sum(i.source == 'synthetic' for i in items)} synthetic; "
        f"{sum(i.rule_tier is not None for i in real)} real decided by rules; "
        f"prepared in {time.perf_counter() - start:.0f}s "
        f"(digest {hashlib.sha256(TRAIN.read_bytes()).hexdigest()[:8]})")
    for variant in chosen:
        result = cross_validate(variant, gate, items)
        report(result, not args.no_errors)
        for lab, pred, it in list(zip(result.labels, result.preds, result.items,
                                      strict=True))[: 10**6]:
            if args.misses and lab != pred:
                args.misses -= 1
                out(f"      miss {it.id} {it.lang} {lab}->{pred} user={it.segments.user[:90]!r}"
                    f" asst={it.segments.assistant[-60:]!r}")
        if args.synthetic_heldout:
            report(cross_validate(variant, gate, items, evaluate_on="synthetic-heldout"),
                   False)
        if args.heldout:
            report(cross_validate(variant, gate, items, evaluate_on="heldout"), False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
