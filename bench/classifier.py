"""Classifier benchmark: model load time, resident memory, classify latency (warm, with all
segments new, and fully cached). Run from the repo root:

    .venv/bin/python -m bench.classifier [--model DIR_OR_HUB_ID] [--file ONNX] [--n 200]

Default model: the offline test model (all-MiniLM-L6-v2 int8) on CPU."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

from fusion_tui.routing.data import HELDOUT, load_examples
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.modelstore import TEST_MODEL_FILE, assemble_test_model, resolve_model


def rss_mb() -> float:
    """Resident set size now, in MiB (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="model folder or hub id")
    parser.add_argument("--file", default=None, help="ONNX file inside the model")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--n", type=int, default=143, help="requests to time")
    args = parser.parse_args()

    before = rss_mb()
    start = time.perf_counter()
    if args.model:
        resolved = resolve_model(args.model, args.file or "onnx/model_quantized.onnx")
        folder, file, name = resolved.folder, resolved.file, resolved.name
    else:
        folder, file, name = assemble_test_model(), TEST_MODEL_FILE, "all-MiniLM-L6-v2 int8"
    embedder = Embedder.load(folder, file, device=args.device, model_name=name)
    load_s = time.perf_counter() - start
    gate = Gate.train(embedder)
    after = rss_mb()

    bodies = [e.body for e in load_examples(HELDOUT)][: args.n]
    gate.classify(bodies[0])  # first call pays for the constant harness text once
    warm: list[float] = []
    for body in bodies:
        # Drop the per-request segments' cache so each is embedded as it would be the first
        # time; the system prompt and environment chunks stay cached, as in a live session.
        gate.embedder.clear_cache()
        gate.classify(bodies[0])
        t = time.perf_counter()
        gate.classify(body)
        warm.append((time.perf_counter() - t) * 1000)
    for body in bodies:
        gate.classify(body)
    cached: list[float] = []
    for body in bodies:
        t = time.perf_counter()
        gate.classify(body)
        cached.append((time.perf_counter() - t) * 1000)

    rows = [
        ("model", name),
        ("device", f"{embedder.device} ({os.cpu_count()} cpus)"),
        ("model load", f"{load_s * 1000:.0f} ms"),
        ("gate training", f"{gate.train_s * 1000:.0f} ms ({gate.trained_on} examples)"),
        ("RSS delta (load + train)", f"{after - before:.0f} MiB"),
        ("classify warm p50 / p90 / p99",
         f"{statistics.median(warm):.1f} / {pct(warm, .9):.1f} / {pct(warm, .99):.1f} ms"),
        ("classify cached p50 / p99",
         f"{statistics.median(cached):.2f} / {pct(cached, .99):.2f} ms"),
        ("requests timed", str(len(bodies))),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
