"""A small LLM's vector of every effective ask of the gate's training and evaluation data, for
the round-four experiment in scripts/gate_cv.py (variants `gate+qmean`, `gate+qlast`, ...).

Runs Qwen2.5-Coder-0.5B-Instruct (the real-model tier's GGUF, `make real-model`) in llama.cpp
through `xllamacpp` with embeddings on, and writes `<tmp>/gate_llm_vectors_<pooling>.npz`
(keys: sha256 of the ask, vectors). `mean`: the mean of the last layer over the ask alone;
`last`: the last token's state after a prompt that asks how much work the request needs.
About 0.5 s (mean) and 1.2 s (last) per ask on two cores: 6 and 15 minutes for the 751 asks.

    .venv/bin/python scripts/gate_llm_vectors.py last
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fusion_tui.config.embeddings import GateSettings
from fusion_tui.evals.localmodel import ensure_model
from fusion_tui.routing import segments as seg
from fusion_tui.routing.corpus import load_captures
from fusion_tui.routing.data import HELDOUT, TRAIN, load_examples
from fusion_tui.routing.gate import effective_ask

PROMPT = ("Below is a request a user sent to a coding agent. Judge how much work and reasoning "
          "it needs: a trivial lookup or one-line edit, ordinary implementation or debugging, "
          "or design and planning.\nRequest: {ask}\nAmount of work needed:")


def output_path(pooling: str) -> Path:
    """Where the vectors of this pooling are written (and scripts/gate_cv.py reads them)."""
    return Path(tempfile.gettempdir()) / f"gate_llm_vectors_{pooling}.npz"


def asks() -> list[str]:
    """Every distinct effective ask of the synthetic sets and the real captures."""
    settings = GateSettings()
    bodies = [e.body for e in load_examples(TRAIN) + load_examples(HELDOUT)]
    bodies += [c.body for c in load_captures()]
    return sorted({effective_ask(seg.extract(b, settings)) for b in bodies})


def main(argv: list[str]) -> int:
    pooling = argv[0] if argv else "last"
    if pooling not in ("mean", "last"):
        sys.stderr.write("usage: gate_llm_vectors.py mean|last\n")
        return 2
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(ensure_model().path)
    params.embedding = True
    params.pooling_type = (xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
                           if pooling == "mean"
                           else xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_LAST)
    params.n_ctx = params.n_batch = params.n_ubatch = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 2
    params.warmup = False
    server = xllamacpp.Server(params)
    texts = asks()
    keys, vectors = [], []
    start = time.perf_counter()
    for i, text in enumerate(texts):
        prompt = text[:1500] if pooling == "mean" else PROMPT.format(ask=text[:1500])
        answer = server.handle_embeddings({"input": prompt})
        keys.append(hashlib.sha256(text.encode()).hexdigest())
        vectors.append(np.asarray(answer["data"][0]["embedding"], dtype=np.float32))
        if i % 100 == 0:
            sys.stderr.write(f"{i}/{len(texts)} in {time.perf_counter() - start:.0f}s\n")
    np.savez(output_path(pooling), keys=np.array(keys), vectors=np.stack(vectors))
    sys.stdout.write(f"{len(texts)} asks -> {output_path(pooling)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
