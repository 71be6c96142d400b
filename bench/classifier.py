"""Classifier benchmark: start-up (first start training the head, second start loading it from
the head cache), model load + first classification in a fresh process, and classify latency
(warm with the request's own segments new, with the model runs and tokens that cost; fully
cached; real sessions replayed in order from an empty cache) over the synthetic held-out set,
the real captures' held-out split when present, and long tool-result turns. Run from the repo
root:

    .venv/bin/python -m bench.classifier [--model DIR_OR_HUB_ID] [--file ONNX] [--n 200]
        [--ask-model use-multilingual-v3|none]

`--ask-model` is routing.gate.ask_model (default: the setting's default, use-multilingual-v3;
`none` for no ask encoder). With an ask encoder "warm" means a NEW ask: the encoder's cache
is emptied before each timed request (a human turn); a second row times the same requests
with the ask already encoded (the tool-result turns of a task). The fresh process starts
loading the ask encoder before the embedding model, as the server does.

Default model: the offline test model (all-MiniLM-L6-v2 int8) on CPU."""

from __future__ import annotations

import argparse
import copy
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fusion_tui.config.embeddings import GateSettings
from fusion_tui.routing.corpus import REAL_CAPTURES, load_captures
from fusion_tui.routing.data import HELDOUT, load_examples
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate, token_budgets
from fusion_tui.routing.headcache import HeadCache
from fusion_tui.routing.modelstore import TEST_MODEL_FILE, assemble_test_model, resolve_model
from fusion_tui.routing.segments import extract

FRESH_PROCESS = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from fusion_tui.routing.corpus import REAL_CAPTURES, load_captures
from fusion_tui.routing.data import HELDOUT, load_examples
from fusion_tui.routing.embedder import Embedder
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.headcache import SHIPPED_DIR, HeadCache
from fusion_tui.routing.multilingual import preload
from fusion_tui.config.embeddings import GateSettings
folder, file, cache = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
settings = GateSettings(ask_model=sys.argv[5])
body = load_examples(HELDOUT)[0].body
if REAL_CAPTURES.is_file():
    body = load_captures(REAL_CAPTURES, "heldout")[0].body
t1 = time.perf_counter()
preload(settings.ask_model)
embedder = Embedder.load(folder, file, device=sys.argv[4])
gate = Gate.load_or_train(embedder, settings, cache=HeadCache(cache, shipped=SHIPPED_DIR))
assert gate.from_cache, "the head was not in the cache"
gate.classify(body)
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.0f} {(t2 - t1) * 1000:.0f}")
"""


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


def long_tool_turn(body: dict[str, Any], i: int) -> dict[str, Any]:
    """The request with a long failing tool result appended (a test run's log, ~20 KB)."""
    body = copy.deepcopy(body)
    log = "\n".join(f"FAILED tests/test_mod_{i}.py::test_case_{n} - AssertionError: expected "
                    f"{n * 7} got {n * 7 + i}\n  at module_{n % 13}.py:{40 + n}"
                    for n in range(200))
    body["messages"] += [
        {"role": "assistant", "content": [{"type": "tool_use", "id": f"t{i}", "name": "Bash",
                                           "input": {"command": "pytest -q"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}",
                                      "is_error": True, "content": log}]}]
    return body


def replay_sessions(gate: Gate, limit: int) -> tuple[list[float], list[float]]:
    """Classify the real held-out captures session by session, in the order they were sent,
    with the embedding cache emptied at each session's start: (latencies of each session's
    first request, latencies of the later ones). Unlike "warm", a later request embeds
    whatever harness text is new since the previous one (reminders that changed)."""
    if not REAL_CAPTURES.is_file():
        return [0.0], [0.0]
    sessions: dict[str, list[dict[str, Any]]] = {}
    for capture in load_captures(REAL_CAPTURES, "heldout")[:limit]:
        sessions.setdefault(capture.scenario, []).append(capture.body)
    first: list[float] = []
    later: list[float] = []
    for bodies in sessions.values():
        gate.embedder.clear_cache()
        if gate.ask_encoder is not None:
            gate.ask_encoder.clear_cache()
        for i, body in enumerate(bodies):
            t = time.perf_counter()
            gate.classify(body)
            (later if i else first).append((time.perf_counter() - t) * 1000)
    return first, later or [0.0]


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="model folder or hub id")
    parser.add_argument("--file", default=None, help="ONNX file inside the model")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--n", type=int, default=200, help="requests to time")
    parser.add_argument("--ask-model", default=GateSettings().ask_model,
                        help="routing.gate.ask_model (default %(default)s; none for no encoder)")
    args = parser.parse_args()
    if args.ask_model == "none":
        args.ask_model = ""
    settings = GateSettings(ask_model=args.ask_model)

    before = rss_mb()
    start = time.perf_counter()
    if args.model:
        resolved = resolve_model(args.model, args.file or "onnx/model_quantized.onnx")
        folder, file, name = resolved.folder, resolved.file, resolved.name
    else:
        folder, file, name = assemble_test_model(), TEST_MODEL_FILE, "all-MiniLM-L6-v2 int8"
    embedder = Embedder.load(folder, file, device=args.device, model_name=name)
    load_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        cache = HeadCache(Path(tmp), shipped=None)  # the first start trains
        first = Gate.load_or_train(embedder, settings, cache=cache)
        after = rss_mb()
        embedder.clear_cache()
        second = Gate.load_or_train(embedder, settings, cache=cache)
        fresh = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(folder), file, tmp,
                                args.device, args.ask_model], capture_output=True, text=True,
                               check=False)
    if fresh.returncode != 0:
        raise SystemExit(f"fresh-process start failed: {fresh.stderr.strip()[-500:]}")
    imports_ms, ready_ms = (float(v) for v in fresh.stdout.split())
    gate = second

    real = [c.body for c in load_captures(REAL_CAPTURES, "heldout")] \
        if REAL_CAPTURES.is_file() else []
    synthetic = [e.body for e in load_examples(HELDOUT)]
    longs = [long_tool_turn(b, i) for i, b in enumerate(synthetic[: max(10, args.n // 5)])]
    # Real captures first (half the sample at most), then synthetic, then the long turns.
    own = real[: args.n // 2]
    sample = (own + synthetic[: args.n - len(longs) - len(own)] + longs)[: args.n]
    gate.classify(sample[0])
    budgets = token_budgets(gate.settings)
    warm: list[float] = []
    warm_ask_known: list[float] = []
    runs = tokens = positions = 0
    for body in sample:
        # As in a live session: the harness text and the system prompt were embedded with
        # the session's first request; this request's own segments are new.
        gate.classify(body)
        own_segments = {name: text for name, text in extract(body, gate.settings).named().items()
                        if name != "system"}
        gate.embedder.forget(list(own_segments.values()),
                             [budgets[name] for name in own_segments])
        if gate.ask_encoder is not None:
            t = time.perf_counter()
            gate.classify(body)
            warm_ask_known.append((time.perf_counter() - t) * 1000)
            gate.embedder.forget(list(own_segments.values()),
                                 [budgets[name] for name in own_segments])
            gate.ask_encoder.clear_cache()
        e = gate.embedder
        before_counts = (e.runs, e.tokens, e.positions)
        t = time.perf_counter()
        gate.classify(body)
        warm.append((time.perf_counter() - t) * 1000)
        runs += e.runs - before_counts[0]
        tokens += e.tokens - before_counts[1]
        positions += e.positions - before_counts[2]
    cached: list[float] = []
    for body in sample:
        gate.classify(body)
        t = time.perf_counter()
        gate.classify(body)
        cached.append((time.perf_counter() - t) * 1000)
    first_of_session, later = replay_sessions(gate, args.n)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = [
        ("model", name + (f" + ask model {args.ask_model}" if args.ask_model else "")),
        ("device", f"{embedder.device} ({os.cpu_count()} cpus, load avg {load:.1f})"),
        ("model load", f"{load_s * 1000:.0f} ms"),
        ("first start: train head + cache",
         f"{first.train_s * 1000:.0f} ms ({first.trained_on} examples)"),
        ("second start: head from cache", f"{second.train_s * 1000:.0f} ms"),
        ("fresh process: load + head + 1st classify",
         f"{ready_ms:.0f} ms (+ {imports_ms:.0f} ms imports)"),
        ("RSS delta (load + train)", f"{after - before:.0f} MiB"),
        ("classify warm p50 / p90 / p99",
         f"{statistics.median(warm):.1f} / {pct(warm, .9):.1f} / {pct(warm, .99):.1f} ms"),
        *([("classify warm, ask already encoded p50 / p90 / p99",
            f"{statistics.median(warm_ask_known):.1f} / {pct(warm_ask_known, .9):.1f} / "
            f"{pct(warm_ask_known, .99):.1f} ms")] if warm_ask_known else []),
        ("warm: model runs / tokens (padded) per request",
         f"{runs / len(sample):.2f} / {tokens / len(sample):.0f} "
         f"({positions / len(sample):.0f})"),
        ("session replay: 1st request p50 / p99",
         f"{statistics.median(first_of_session):.1f} / {pct(first_of_session, .99):.1f} ms"),
        ("session replay: later requests p50 / p99",
         f"{statistics.median(later):.1f} / {pct(later, .99):.1f} ms "
         f"({len(first_of_session)} sessions, {len(later)} requests)"),
        ("classify cached p50 / p99",
         f"{statistics.median(cached):.2f} / {pct(cached, .99):.2f} ms"),
        ("requests timed", f"{len(sample)} ({len(own)} real captures, {len(longs)} long "
                           f"tool-result turns)"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
