"""Settings of the embedding model and of the gate that classifies requests with it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MODEL = "jinaai/jina-embeddings-v2-base-code"
DEFAULT_FILE = "onnx/model_quantized.onnx"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class EmbeddingSettings(_Strict):
    """The local ONNX embedding model the gate runs on."""

    model: str = DEFAULT_MODEL
    """A Hugging Face hub id, or a local folder in hub layout (tokenizer.json and an .onnx file)."""
    file: str = DEFAULT_FILE
    """The ONNX file inside the repo or folder (default: the 8-bit quantized export)."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) to fetch; null: the default branch."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto: CUDA when onnxruntime has it and a session starts on the GPU, else CPU."""
    max_tokens: int = Field(512, ge=8, le=8192)
    """Inputs longer than this many tokens are truncated."""
    batch_size: int = Field(16, ge=1, le=1024)
    """Texts embedded per forward pass."""
    cache_dir: Path | None = None
    """Hub cache folder; null: the usual Hugging Face cache (HF_HOME / HF_HUB_CACHE)."""
    offline_fallback: bool = True
    """When the configured model cannot be fetched, run the bundled offline test model instead
    and say so (classifier state and events carry the fallback and its reason)."""
    wait_s: float = Field(10.0, ge=0)
    """How long a request waits for a model still loading before it is answered 503."""
    cache_entries: int = Field(4096, ge=0)
    """Embeddings kept in memory, keyed by the sha256 of the text (0: no cache)."""


class GateSettings(_Strict):
    """Knobs of the gate: segment bounds, harness detection, the classifier."""

    user_chars: int = Field(1500, ge=50)
    """Longest latest-user-text segment, in characters."""
    history_chars: int = Field(1200, ge=0)
    """Longest previous-user-turns segment, in characters."""
    history_turns: int = Field(3, ge=0)
    """Previous user turns kept (newest first)."""
    tool_chars: int = Field(1200, ge=0)
    """Longest tool-results segment of the current turn, in characters."""
    code_chars: int = Field(1200, ge=0)
    """Longest code-block segment, in characters."""
    system_chars: int = Field(600, ge=0)
    """Prefix of the system prompt kept, in characters."""
    harness_chars: int = Field(700, ge=100)
    """Longest harness chunk (system messages and reminders are cut into chunks this size)."""
    user_tokens: int = Field(256, ge=8, le=8192)
    """Tokens of the ask the model reads (its beginning). This and the other token budgets
    (capped by the model's max_tokens) bound what one request costs the model."""
    history_tokens: int = Field(64, ge=8, le=8192)
    """Tokens of the previous user turns the model reads (the newest first)."""
    assistant_tokens: int = Field(64, ge=8, le=8192)
    """Tokens of the assistant's last words the model reads (their end: the proposal)."""
    tool_tokens: int = Field(64, ge=8, le=8192)
    """Tokens of this turn's tool results the model reads (their end: a log's verdict)."""
    code_tokens: int = Field(64, ge=8, le=8192)
    """Tokens of the largest code block the model reads (its beginning)."""
    system_tokens: int = Field(128, ge=8, le=8192)
    """Tokens of the system prompt's prefix the model reads."""
    harness_tokens: int = Field(128, ge=8, le=8192)
    """Tokens of each harness chunk the model reads (its beginning)."""
    harness_threshold: float = Field(0.65, ge=0, le=1)
    """Cosine similarity to a plan-mode or compaction exemplar above which a mode is detected."""
    harness_margin: float = Field(0.05, ge=0, le=1)
    """How much closer to the mode's exemplars than to the counter-exemplars a chunk must be."""
    k: int = Field(11, ge=1)
    """Neighbours consulted by the kNN part of the classifier."""
    knn_weight: float = Field(0.0, ge=0, le=1)
    """Share of the kNN vote in the scores (the rest: softmax regression). 0 measured best on
    the held-out set with the test model."""
    ask_model: Literal["", "use-multilingual-v3"] = "use-multilingual-v3"
    """A second encoder of the ask for the head: `use-multilingual-v3` (Google's USE
    multilingual, pure numpy, the default: it reads the asks the English test model cannot)
    or "" (none: the embedding model and the ask's character n-grams only). See
    docs/routing.md."""
    l2: float = Field(3e-2, ge=0)
    """L2 penalty of the gate's softmax-regression head (3e-2 measured best in grouped
    cross-validation over the real captures' train split)."""
