"""The gate: what kind of request is this, and how hard? compact | regular | plan.

Every segment of a request (the classifier's segments and the harness chunks) is embedded
together, each within its token budget (`token_budgets`), in as few model runs as padding
allows. Then, in order:

1. **Kind** (routing/kinds.py): the session-title request and compaction are harness chores,
   routed `compact` by the documented rule (`kind:title`, `kind:compaction`); a sub-agent's
   request is marked `kind:subagent` and judged on its own task below.
2. **Plan mode**, by meaning: harness chunks compared with plan-mode and exited-plan-mode
   exemplars, or `permission_mode: "plan"`, force `plan` (`harness:plan_mode`).
3. **The learned head** (routing/head.py): softmax regression over the weighted per-segment
   embeddings and the structural facts (turns, tool-result size, tool errors, files touched,
   size of the ask...), trained on the synthetic set, the real captured requests and the
   person's own overrides. The trained head is cached on disk (routing/headcache.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fusion_tui.config.embeddings import EmbeddingSettings, GateSettings
from fusion_tui.config.tiers import TIERS
from fusion_tui.events.model import ClassifierState
from fusion_tui.routing import segments as seg
from fusion_tui.routing.data import exemplars as ex
from fusion_tui.routing.embedder import Embedder, EmbedderService, TokenBudget
from fusion_tui.routing.head import Layout, LinearHead, structural_vector
from fusion_tui.routing.headcache import SHIPPED_DIR, HeadCache, data_fingerprint
from fusion_tui.routing.kinds import (
    CHORE_TIER,
    KindSignals,
    KindVerdict,
    RequestKind,
    decide_kind,
    lane_id,
)
from fusion_tui.routing.lexical import NGRAM_BUCKETS, char_ngrams
from fusion_tui.routing.multilingual import AskEncoder, load_ask_encoder, preload
from fusion_tui.routing.steering import SteeringExamples

log = logging.getLogger(__name__)

# Relative weight of each classifier segment's embedding (see segments.CLASSIFIER_SEGMENTS).
SEGMENT_WEIGHTS = {"user": 1.0, "history": 0.6, "assistant": 0.5, "tools": 0.7, "code": 0.4,
                   "system": 0.1}
# A terse reply ("yes do it", "continue") means whatever was proposed before it.
TERSE_WEIGHTS = {"user": 0.3, "history": 1.0, "assistant": 0.8, "tools": 0.7, "code": 0.4,
                 "system": 0.1}
STRUCT_SCALE = 0.5
"""Scale of the structural columns against the unit-length embedding part."""
ANCHOR_SCALE = 1.0
"""Scale of the tier-anchor similarities (grouped CV with the n-gram block: 1.0 beat 2.0 and
3.0, docs/routing.md)."""
NGRAM_SCALE = 2.0
"""Scale of the ask's hashed character n-grams (grouped CV, docs/routing.md)."""
MULTILINGUAL_SCALE = 2.0
"""Scale of the optional multilingual encoder's vector of the ask (grouped CV)."""
TRANSLATED_ANCHORS = False
"""Whether the tier anchors include their paraphrases in the corpus's other languages."""

Matrix = npt.NDArray[np.float32]


def token_budgets(settings: GateSettings) -> dict[str, TokenBudget]:
    """How much of each segment the model reads (`harness`: each harness chunk); the
    assistant's words and the tool results are read from their end."""
    s = settings
    return {"user": TokenBudget(s.user_tokens), "history": TokenBudget(s.history_tokens),
            "assistant": TokenBudget(s.assistant_tokens, tail=True),
            "tools": TokenBudget(s.tool_tokens, tail=True), "code": TokenBudget(s.code_tokens),
            "system": TokenBudget(s.system_tokens), "harness": TokenBudget(s.harness_tokens)}


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def is_terse(text: str) -> bool:
    """A short reply whose meaning comes from the context (at most 4 words, or 12 characters
    for scripts written without spaces)."""
    text = text.strip()
    return len(text.split()) <= 4 and len(text) <= 40 if " " in text else len(text) <= 12


def effective_ask(segments: seg.Segments) -> str:
    """What the request asks, as the rubric reads it: the latest human ask (a tool-result
    turn carries the ask that started it: `segments.user` already skips tool results), and
    for a terse reply the assistant's proposal it agrees to, followed by the reply."""
    if is_terse(segments.user) and segments.assistant:
        return f"{segments.assistant}\n{segments.user}"
    return segments.user


class GateUnavailable(RuntimeError):
    """The gate cannot classify now (model loading or failed); the message says why."""


@dataclass(frozen=True)
class Decision:
    """What the gate decided: tier, per-tier scores (sum ~1), a machine-readable reason
    (e.g. `lr:plan`, `harness:plan_mode`, `kind:compaction`, `kind:subagent,lr:regular`),
    the segments used, the latency, the signals (best similarities), the request kind, the
    sub-agent lane (the task's hash, "" unless a sub-agent) and what weighed most."""

    tier: str
    scores: dict[str, float]
    reason: str
    segments: list[str]
    latency_ms: float
    signals: dict[str, float] = field(default_factory=dict)
    kind: str = RequestKind.MAIN.value
    lane: str = ""
    evidence: list[tuple[str, float]] = field(default_factory=list)

    def event_fields(self) -> dict[str, Any]:
        """Keyword arguments for events.GateDecided (add session_id / request_id / overrides)."""
        return {"tier": self.tier, "scores": self.scores, "reason": self.reason,
                "segments": self.segments, "latency_ms": self.latency_ms,
                "request_kind": self.kind, "lane": self.lane}


@dataclass(frozen=True)
class HarnessMode:
    """The plan mode found in a request: "plan" or None, with why."""

    mode: str | None
    reason: str
    signals: dict[str, float]


def tier_anchor_texts(tier: str) -> tuple[str, ...]:
    """The tier's anchors: the English ones and, when `TRANSLATED_ANCHORS`, the same task types
    in the corpus's other languages."""
    texts = ex.TIER_ANCHORS[tier]
    if TRANSLATED_ANCHORS:
        texts += tuple(t for lang in ex.TIER_ANCHORS_TRANSLATED.values() for t in lang[tier])
    return texts


class _Exemplars:
    def __init__(self, embedder: Embedder, cache: HeadCache | None = None) -> None:
        self.GROUPS = {
            "plan": ex.PLAN_MODE, "exit": ex.EXIT_PLAN, "negative": ex.HARNESS_NEGATIVE,
            "compaction": ex.COMPACTION + ex.COMPACTION_CLIENTS,
            "compaction_negative": ex.COMPACTION_NEGATIVE, "title": ex.TITLE,
            "title_negative": ex.TITLE_NEGATIVE, "subagent": ex.SUBAGENT,
            "main_agent": ex.MAIN_AGENT,
            **{f"anchor_{tier}": tier_anchor_texts(tier) for tier in TIERS}}
        texts = [t for group in self.GROUPS.values() for t in group]
        if cache is not None and embedder.fingerprint:
            matrix = cache.vectors(embedder.fingerprint, texts, embedder.embed)
        else:
            matrix = embedder.embed(texts)
        start = 0
        for name, group in self.GROUPS.items():
            setattr(self, name, matrix[start:start + len(group)])
            start += len(group)

    plan: Matrix
    exit: Matrix
    negative: Matrix
    compaction: Matrix
    compaction_negative: Matrix
    title: Matrix
    title_negative: Matrix
    subagent: Matrix
    main_agent: Matrix
    anchor_compact: Matrix
    anchor_regular: Matrix
    anchor_plan: Matrix

    def anchors(self, vector: Matrix | None) -> list[float]:
        """Per tier: best and top-3 mean similarity to the tier's anchors (zeros if None)."""
        out: list[float] = []
        for tier in TIERS:
            if vector is None:
                out += [0.0, 0.0]
                continue
            sims = np.sort(getattr(self, f"anchor_{tier}") @ vector)[::-1]
            out += [float(sims[0]), float(sims[:3].mean())]
        return out


def _best(vectors: Matrix, exemplars: Matrix) -> npt.NDArray[np.float32]:
    result: npt.NDArray[np.float32] = (vectors @ exemplars.T).max(axis=1)
    return result


class RequestVectors:
    """Every text of one request embedded together (each within its token budget, in as few
    model runs as padding allows): the classifier segments by name and the harness chunks in
    order."""

    def __init__(self, segments: seg.Segments, embedder: Embedder,
                 vectors: Matrix | None = None,
                 budgets: dict[str, TokenBudget] | None = None) -> None:
        self.named = segments.named()
        texts = list(self.named.values()) + [c.text for c in segments.harness]
        if vectors is None:
            budgets = budgets or {}
            vectors = embedder.embed(texts, [budgets.get(n) for n in self.named] + [
                budgets.get("harness")] * len(segments.harness))
        n = len(self.named)
        self.by_name = {name: vectors[i] for i, name in enumerate(self.named)}
        self.harness = vectors[n:]

    def get(self, name: str) -> Matrix | None:
        """The named segment's vector, if the request has that segment."""
        return self.by_name.get(name)


@dataclass(frozen=True)
class TrainingExample:
    """A request as the gate reads it, with its tier and a weight (and where it came from)."""

    segments: seg.Segments
    tier: str
    weight: float = 1.0
    source: str = ""


class Gate:
    """Classifies Anthropic request bodies. Build it with `Gate.load_or_train(embedder)` (or
    `Gate.train`), or give it a head."""

    def __init__(self, embedder: Embedder, settings: GateSettings | None = None,
                 head: LinearHead | None = None, cache: HeadCache | None = None) -> None:
        self.embedder = embedder
        self.settings = settings or GateSettings()
        self._ex = _Exemplars(embedder, cache)
        self.head = head
        self.ask_encoder: AskEncoder | None = load_ask_encoder(self.settings.ask_model)
        extras = [("ask_ngrams", NGRAM_BUCKETS)]
        if self.ask_encoder is not None:
            extras.append(("ask_multilingual", self.ask_encoder.dim))
        self.layout = Layout(embedder.dim, extras=tuple(extras))
        self.trained_on = head.trained_on if head else 0
        self.train_s = 0.0
        self.from_cache = False
        self.cache_key = ""

    # --- evidence ------------------------------------------------------------------------

    def vectors(self, segments: seg.Segments) -> RequestVectors:
        """Embed every text of the request (as few model runs as padding allows), each read
        within its token budget."""
        return RequestVectors(segments, self.embedder, budgets=token_budgets(self.settings))

    def harness_mode(self, segments: seg.Segments,
                     vectors: RequestVectors | None = None) -> HarnessMode:
        """Plan mode, judged by similarity to exemplars (the last mode message wins), or the
        `permission_mode` field."""
        s = self.settings
        vectors = vectors or self.vectors(segments)
        signals: dict[str, float] = {}
        state: str | None = None
        if len(vectors.harness):
            plan = _best(vectors.harness, self._ex.plan)
            exit_ = _best(vectors.harness, self._ex.exit)
            other = _best(vectors.harness, self._ex.negative)
            signals["plan_mode"] = round(float(plan.max()), 3)
            signals["exit_plan"] = round(float(exit_.max()), 3)
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
        return HarnessMode(None, "", signals)

    def kind_of(self, segments: seg.Segments,
                vectors: RequestVectors | None = None) -> tuple[KindVerdict, dict[str, float]]:
        """The request's kind and the similarities it was judged on."""
        vectors = vectors or self.vectors(segments)
        e = self._ex
        user, system = vectors.get("user"), vectors.get("system")
        signals = KindSignals()
        values: dict[str, float] = {}
        if user is not None:
            u = user[None, :]
            values["compaction"] = float(_best(u, e.compaction)[0])
            values["compaction_negative"] = float(_best(u, e.compaction_negative)[0])
        title_texts = [v for v in (user, system) if v is not None]
        if title_texts:
            t = np.stack(title_texts)
            values["title"] = float(_best(t, e.title).max())
            values["title_negative"] = float(_best(t, e.title_negative).max())
        if system is not None:
            values["subagent"] = float(_best(system[None, :], e.subagent)[0])
            values["main_agent"] = float(_best(system[None, :], e.main_agent)[0])
        signals = KindSignals(**values)
        verdict = decide_kind(segments.structure, signals, self.settings.harness_threshold,
                              self.settings.harness_margin)
        return verdict, {k: round(v, 3) for k, v in values.items()}

    def features(self, segments: seg.Segments,
                 vectors: RequestVectors | None = None) -> Matrix:
        """The head's input: weighted per-segment embeddings (the embedding part
        L2-normalised), the effective ask's character n-grams (and its multilingual vector
        when `routing.gate.ask_model` is set), then the scaled structural facts and anchors."""
        vectors = vectors or self.vectors(segments)
        dim = self.embedder.dim
        emb = np.zeros(dim * len(seg.CLASSIFIER_SEGMENTS), dtype=np.float32)
        weights = TERSE_WEIGHTS if is_terse(segments.user) else SEGMENT_WEIGHTS
        for i, name in enumerate(seg.CLASSIFIER_SEGMENTS):
            vec = vectors.get(name)
            if vec is not None:
                emb[i * dim:(i + 1) * dim] = weights[name] * vec
        norm = float(np.linalg.norm(emb))
        if norm > 0:
            emb /= norm
        terse = is_terse(segments.user)
        anchors = self._ex.anchors(vectors.get("user")) + self._ex.anchors(
            vectors.get("assistant") if terse else None)
        ask = effective_ask(segments)
        extras = [NGRAM_SCALE * char_ngrams(ask)]
        if self.ask_encoder is not None:
            extras.append(MULTILINGUAL_SCALE * self.ask_encoder.encode(ask))
        return np.concatenate([emb, *extras,
                               STRUCT_SCALE * structural_vector(segments.structure),
                               ANCHOR_SCALE * np.asarray(anchors, dtype=np.float32)])

    # --- training ------------------------------------------------------------------------

    def fit(self, examples: Sequence[TrainingExample],
            progress: Progress | None = None) -> list[TrainingExample]:
        """Train the head on the examples the rules do not decide (kind chores and plan mode
        are left out, except a person's own overrides); returns the examples used."""
        rows, used = [], []
        for i, example in enumerate(examples):
            if progress is not None and i % 25 == 0:
                progress("embedding", i, len(examples))
            # Plan mode only ever decides plan, so only plan-labelled examples need their
            # harness text read (most of the embedding work of a real request).
            segments = example.segments if example.tier == "plan" else \
                dataclasses.replace(example.segments, harness=())
            vectors = self.vectors(segments)
            if example.source != "user" and self._decided_by_rules(segments, vectors):
                continue
            rows.append(self.features(example.segments, vectors))
            used.append(example)
        if not used:
            raise GateUnavailable("no training examples left for the gate's head")
        if progress is not None:
            progress("training", 0, 1)
        x = np.stack(rows).astype(np.float32)
        self.head = LinearHead.fit(self.layout, x, [TIERS.index(e.tier) for e in used],
                                   [e.weight for e in used], l2=self.settings.l2)
        if progress is not None:
            progress("training", 1, 1)
        self.trained_on = len(used)
        return used

    def _decided_by_rules(self, segments: seg.Segments, vectors: RequestVectors) -> bool:
        kind = self.kind_of(segments, vectors)[0].kind
        return kind in CHORE_TIER or self.harness_mode(segments, vectors).mode is not None

    @classmethod
    def train(cls, embedder: Embedder, settings: GateSettings | None = None,
              examples: Sequence[TrainingExample] | None = None,
              progress: Progress | None = None) -> Gate:
        """A gate whose head is trained now on `examples` (default: `training_examples`)."""
        start = time.perf_counter()
        gate = cls(embedder, settings)
        gate.fit(gate.training_examples() if examples is None else examples, progress)
        gate.train_s = time.perf_counter() - start
        return gate

    def training_examples(self, *, user_examples: SteeringExamples | None = None,
                          real: Path | None = None,
                          synthetic: Path | None = None) -> list[TrainingExample]:
        """The synthetic set, the real captures' train split and the person's overrides."""
        from fusion_tui.routing.corpus import REAL_CAPTURES, load_captures
        from fusion_tui.routing.data import TRAIN, load_examples

        out = [TrainingExample(seg.extract(e.body, self.settings), e.label,
                               self.settings_weight("synthetic"), "synthetic")
               for e in load_examples(synthetic or TRAIN)]
        real_path = real or REAL_CAPTURES
        if real_path.is_file():
            out += [TrainingExample(seg.extract(c.body, self.settings), c.tier,
                                    self.settings_weight("real"), "real")
                    for c in load_captures(real_path, "train")]
        if user_examples is not None:
            out += [TrainingExample(e.segments, e.tier, self.settings_weight("user"), "user")
                    for e in user_examples.load()]
        return out

    @staticmethod
    def settings_weight(source: str) -> float:
        """How much one example of each source counts in training."""
        return {"synthetic": 1.0, "real": 1.0, "user": 2.0}.get(source, 1.0)

    @classmethod
    def load_or_train(cls, embedder: Embedder, settings: GateSettings | None = None, *,
                      cache: HeadCache | None = None,
                      user_examples: SteeringExamples | None = None,
                      real: Path | None = None, synthetic: Path | None = None,
                      progress: Progress | None = None, force: bool = False) -> Gate:
        """The cached head when the model and the shipped data are unchanged, else train
        (with the person's examples) and cache. `force` retrains anyway: that is how
        `gate retrain` folds new overrides in."""
        from fusion_tui.routing.corpus import REAL_CAPTURES
        from fusion_tui.routing.data import TRAIN

        start = time.perf_counter()
        gate = cls(embedder, settings, cache=cache)
        # The person's examples are not part of the key: they are folded in by an explicit
        # `gate retrain` (force), so a new override never makes the next start retrain.
        files = [synthetic or TRAIN, real or REAL_CAPTURES]
        key = f"{embedder.fingerprint or embedder.model_name}-" + data_fingerprint(
            files, json.dumps(gate.settings.model_dump(mode="json"), sort_keys=True))
        key = key.replace("/", "_").replace(" ", "_")
        gate.cache_key = key
        if cache is not None and not force:
            found = cache.load(key)
            if found is not None and found[0].layout == gate.layout:
                gate.head, _ = found
                gate.trained_on = gate.head.trained_on
                gate.from_cache = True
                gate.train_s = time.perf_counter() - start
                return gate
        examples = gate.fit(gate.training_examples(user_examples=user_examples, real=real,
                                                   synthetic=synthetic), progress)
        gate.train_s = time.perf_counter() - start
        if cache is not None and gate.head is not None:
            counts = {s: sum(1 for e in examples if e.source == s)
                      for s in ("synthetic", "real", "user")}
            try:
                cache.save(key, gate.head, {"model": embedder.model_name, "counts": counts})
            except OSError as exc:
                log.warning("could not cache the gate head in %s: %s", cache.folder, exc)
        return gate

    # --- deciding ------------------------------------------------------------------------

    def predict(self, segments: seg.Segments,
                vectors: RequestVectors | None = None) -> tuple[dict[str, float], str, Matrix]:
        """Head scores per tier (sum 1), the reason `lr:TIER`, and the input row."""
        if self.head is None:
            raise GateUnavailable("the gate is not trained")
        x = self.features(segments, vectors)
        probs = self.head.proba(x)[0]
        scores = {t: round(float(v), 4) for t, v in zip(TIERS, probs, strict=True)}
        tier = TIERS[int(np.argmax(probs))]
        return scores, f"lr:{tier}", x

    def classify(self, body: dict[str, Any]) -> Decision:
        """Judge one Messages request body."""
        start = time.perf_counter()
        return self.classify_segments(seg.extract(body, self.settings), start)

    def classify_segments(self, segments: seg.Segments, start: float | None = None) -> Decision:
        """Judge a request already cut into segments."""
        start = time.perf_counter() if start is None else start
        vectors = self.vectors(segments)
        verdict, signals = self.kind_of(segments, vectors)
        used = list(segments.named())
        kind = verdict.kind
        lane = lane_id(segments.user or segments.history) if kind == RequestKind.SUBAGENT else ""
        evidence: list[tuple[str, float]] = []
        if kind in CHORE_TIER:
            tier = CHORE_TIER[kind]
            scores = {t: (1.0 if t == tier else 0.0) for t in TIERS}
            reason = f"kind:{kind.value}"
            evidence = [(f"kind:{kind.value}:{verdict.evidence}", 1.0)]
        else:
            mode = self.harness_mode(segments, vectors)
            signals.update(mode.signals)
            prefix = "kind:subagent," if kind == RequestKind.SUBAGENT else ""
            if mode.mode is not None:
                tier = mode.mode
                scores = {t: (1.0 if t == tier else 0.0) for t in TIERS}
                reason = prefix + mode.reason
                used = ["harness", *used]
                evidence = [(mode.reason, 1.0)]
            else:
                scores, lr, x = self.predict(segments, vectors)
                tier = lr.split(":", 1)[1]
                reason = prefix + lr
                assert self.head is not None
                evidence = self.head.contributions(x, TIERS.index(tier))[:6]
        latency = (time.perf_counter() - start) * 1000
        return Decision(tier=tier, scores=scores, reason=reason, segments=used,
                        latency_ms=round(latency, 3), signals=signals, kind=kind.value,
                        lane=lane, evidence=evidence)


class GateService(EmbedderService):
    """An EmbedderService whose preparation loads (or trains and caches) the gate, and which
    stores a person's overrides as examples. `await classify(body)` waits for the model (up
    to settings.wait_s) and raises GateUnavailable with the reason (503)."""

    def __init__(self, settings: EmbeddingSettings, gate_settings: GateSettings | None = None,
                 *, publish: Any = None, test_model_dir: Path | None = None,
                 cache: HeadCache | None = None,
                 user_examples: SteeringExamples | None = None,
                 keep_bodies: bool = False, train_progress: Progress | None = None,
                 force_retrain: bool = False) -> None:
        self.gate_settings = gate_settings or GateSettings()
        self.train_progress = train_progress
        self.force_retrain = force_retrain
        self.head_cache = cache or HeadCache(shipped=SHIPPED_DIR)
        self.user_examples = user_examples or SteeringExamples()
        self.keep_bodies = keep_bodies
        self.learn_errors = 0
        super().__init__(settings, publish=publish, test_model_dir=test_model_dir,
                         prepare=self._prepare_gate)

    def _load_sync(self) -> None:
        preload(self.gate_settings.ask_model)  # loads while the embedding model does
        super()._load_sync()

    def _prepare_gate(self, embedder: Embedder) -> Gate:
        def progress(stage: str, done: int, total: int) -> None:
            # Loading took the first 95%; training the head shares the rest.
            share = 0.95 + (0.04 * done / max(total, 1) if stage == "embedding" else 0.04)
            self._set(ClassifierState.LOADING, progress=round(share, 3))
            if self.train_progress is not None:
                self.train_progress(stage, done, total)

        return Gate.load_or_train(embedder, self.gate_settings, cache=self.head_cache,
                                  user_examples=self.user_examples, progress=progress,
                                  force=self.force_retrain)

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

    def learn(self, body: dict[str, Any], tier: str, session_id: str = "") -> None:
        """Store a person's override of this request as a labelled example (segments and
        tier; the body too when whole bodies are recorded anyway). Errors are logged and
        counted, never raised into the request."""
        try:
            segments = seg.extract(body, self.gate_settings)
            self.user_examples.add(segments, tier, session_id=session_id,
                                   body=body if self.keep_bodies else None)
        except (OSError, ValueError) as exc:
            self.learn_errors += 1
            log.warning("could not store the steering example: %s", exc)


__all__ = ["TIERS", "Decision", "Gate", "GateService", "GateUnavailable", "HarnessMode",
           "TrainingExample"]
