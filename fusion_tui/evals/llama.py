"""`python -m fusion_tui.evals.llama`: serve the local model with llama.cpp (xllamacpp) on
127.0.0.1 until SIGTERM/SIGINT. It speaks /v1/chat/completions and /v1/messages (and
/v1/responses), so it can be an `openai-compatible` and an `anthropic` upstream at once.
Prints one JSON line {"listening": URL, "model": PATH} on stderr when ready."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from fusion_tui.evals.localmodel import TOOL_TEMPLATE, ModelFetchError, ensure_model


def main(argv: list[str] | None = None) -> int:
    """Start the server and wait for a signal."""
    parser = argparse.ArgumentParser(prog="python -m fusion_tui.evals.llama",
                                     description=__doc__)
    parser.add_argument("--model", type=Path, help="GGUF file (default: fetch the pinned one)")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--ctx", type=int, default=8192, help="context size in tokens")
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--parallel", type=int, default=1, help="request slots")
    parser.add_argument("--temp", type=float, default=0.0, help="default temperature")
    parser.add_argument("--gpu-layers", type=int, default=0,
                        help="layers offloaded to a GPU (needs a GPU build of xllamacpp)")
    args = parser.parse_args(argv)
    try:
        import xllamacpp
    except ImportError:
        sys.stderr.write("fusion-tui: xllamacpp is not installed "
                         "(pip install 'fusion-tui[real-model]')\n")
        return 2
    try:
        model = args.model or ensure_model().path
    except (ModelFetchError, OSError) as exc:
        sys.stderr.write(f"fusion-tui: {exc}\n")
        return 1
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = args.ctx * args.parallel
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.n_gpu_layers = args.gpu_layers
    params.warmup = False
    params.use_jinja = True
    params.chat_template = TOOL_TEMPLATE.read_text(encoding="utf-8")
    params.sampling.temp = args.temp
    params.sampling.seed = 42
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = xllamacpp.Server(params)
    sys.stderr.write(json.dumps({"listening": server.listening_address.rstrip("/"),
                                 "model": str(model)}) + "\n")
    sys.stderr.flush()
    stop.wait()
    del server
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
