"""What the proxy adds over a direct call to the same local upstream, in one interleaved run.

Method: the project's fake upstream (bench/fake_upstream.py); bench/loadgen.py with a 21 KB
coding-agent body against the fake directly (A) and through `fusion-tui serve` in single mode
(B), alternating A B for N rounds; the median of per-round differences; the proxy's CPU
seconds per request from /proc. Run: `python -m bench.overhead [--rounds 3] [-n 300]`.
Exits 1 when loadgen reports any error (measured or warm-up), direct or through the proxy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from typing import Any

from bench._procs import bench_tool, cpu_seconds, fake_upstream, fusion_proxy


def loadgen(port: int, protocol: str, stream: bool, n: int, c: int) -> dict[str, Any]:
    """One loadgen run; its JSON result (it exits 1 when it saw errors, and still reports
    them: only a run without a JSON result stops the benchmark)."""
    args = [sys.executable, str(bench_tool("loadgen.py")), "--url",
            f"http://127.0.0.1:{port}", "--protocol", protocol, "-n", str(n), "-c", str(c),
            "--warmup", "20"]
    if stream:
        args.append("--stream")
    done = subprocess.run(args, capture_output=True, text=True)
    try:
        return dict(json.loads(done.stdout))
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"bench: loadgen exited {done.returncode} without a result: "
                         f"{last}") from None


def error_count(result: dict[str, Any]) -> int:
    """Every error a loadgen run reports, its warm-up included."""
    return int(result["errors"]) + int(result.get("warmup_errors") or 0)


def median(values: list[float]) -> float | None:
    """The median, or None when there is nothing to take it of."""
    return statistics.median(values) if values else None


def shown(value: float | None, spec: str) -> str:
    """`value` formatted with `spec`, or "-" when there is none."""
    return "-" if value is None else format(value, spec)


SCENARIOS = [  # (label, stream, concurrency)
    ("non-stream c=1", False, 1),
    ("stream c=1", True, 1),
    ("non-stream c=16", False, 16),
    ("stream c=16", True, 16),
]


def main() -> int:
    """Run the scenarios and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=300, help="requests per run")
    parser.add_argument("--protocol", choices=["anthropic", "openai"], default="anthropic")
    parser.add_argument("--record", choices=["full", "metadata"], default="full")
    args = parser.parse_args()
    bench_tool("loadgen.py")  # before anything starts: a missing tool is one clear line
    rows = []
    samples: list[str] = []
    with fake_upstream() as up, fusion_proxy(up, args.protocol, args.record) as (proxy, pid):
        for label, stream, c in SCENARIOS:
            added_p50, added_first, ratios, cpu_ms, errors = [], [], [], [], 0
            for _ in range(args.rounds):
                direct = loadgen(up, args.protocol, stream, args.n, c)
                before = cpu_seconds(pid)
                via = loadgen(proxy, args.protocol, stream, args.n, c)
                cpu_ms.append((cpu_seconds(pid) - before) * 1000 / (args.n + 20))
                errors += error_count(via) + error_count(direct)
                samples += [f"{label} {name}: {sample}" for name, result in
                            (("direct", direct), ("via proxy", via))
                            for sample in result.get("error_samples") or []]
                # a run whose every request failed has no latencies: it counts as errors only
                if via["ok"] and direct["ok"]:
                    added_p50.append(via["latency_ms"]["p50"] - direct["latency_ms"]["p50"])
                    if stream:
                        added_first.append(via["ttfc_ms"]["p50"] - direct["ttfc_ms"]["p50"])
                    ratios.append(via["rps"] / direct["rps"])
            rows.append((label, median(added_p50), median(added_first),
                         statistics.median(cpu_ms), median(ratios), errors))
    print(f"proxy overhead, {args.protocol}, record={args.record}, {args.rounds} rounds x "
          f"{args.n} requests, 21 KB body, single mode")
    print(f"{'scenario':<18} {'added p50 ms':>13} {'added 1st ms':>13} {'CPU ms/req':>11} "
          f"{'rps vs direct':>14} {'errors':>7}")
    for label, p50, first, cpu, ratio, errors in rows:
        print(f"{label:<18} {shown(p50, '.2f'):>13} {shown(first, '.2f'):>13} {cpu:>11.2f} "
              f"{shown(ratio, '.0%'):>14} {errors:>7}")
    for sample in samples[:5]:
        print("error:", sample)
    total = sum(row[-1] for row in rows)
    if total:
        print(f"FAILED: loadgen reported {total} errors")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
