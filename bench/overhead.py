"""What the proxy adds over a direct call to the same local upstream, in one interleaved run.

Method (shared/bench-tools/README.md): the reference fake upstream; loadgen with a 21 KB
coding-agent body against the fake directly (A) and through `fusion-tui serve` in single mode
(B), alternating A B for N rounds; the median of per-round differences; the proxy's CPU
seconds per request from /proc. Run: `python -m bench.overhead [--rounds 3] [-n 300]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from typing import Any

from bench._procs import BENCH_TOOLS, cpu_seconds, fake_upstream, fusion_proxy


def loadgen(port: int, protocol: str, stream: bool, n: int, c: int) -> dict[str, Any]:
    """One loadgen run; its JSON result."""
    args = [sys.executable, str(BENCH_TOOLS / "loadgen.py"), "--url", f"http://127.0.0.1:{port}",
            "--protocol", protocol, "-n", str(n), "-c", str(c), "--warmup", "20"]
    if stream:
        args.append("--stream")
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out))


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
    rows = []
    with fake_upstream() as up, fusion_proxy(up, args.protocol, args.record) as (proxy, pid):
        for label, stream, c in SCENARIOS:
            added_p50, added_first, ratios, cpu_ms, errors = [], [], [], [], 0
            for _ in range(args.rounds):
                direct = loadgen(up, args.protocol, stream, args.n, c)
                before = cpu_seconds(pid)
                via = loadgen(proxy, args.protocol, stream, args.n, c)
                cpu_ms.append((cpu_seconds(pid) - before) * 1000 / (args.n + 20))
                errors += int(via["errors"]) + int(direct["errors"])
                added_p50.append(via["latency_ms"]["p50"] - direct["latency_ms"]["p50"])
                if stream:
                    added_first.append(via["ttfc_ms"]["p50"] - direct["ttfc_ms"]["p50"])
                ratios.append(via["rps"] / direct["rps"])
            rows.append((label, statistics.median(added_p50),
                         statistics.median(added_first) if added_first else None,
                         statistics.median(cpu_ms), statistics.median(ratios), errors))
    print(f"proxy overhead, {args.protocol}, record={args.record}, {args.rounds} rounds x "
          f"{args.n} requests, 21 KB body, single mode")
    print(f"{'scenario':<18} {'added p50 ms':>13} {'added 1st ms':>13} {'CPU ms/req':>11} "
          f"{'rps vs direct':>14} {'errors':>7}")
    for label, p50, first, cpu, ratio, errors in rows:
        first_text = f"{first:.2f}" if first is not None else "-"
        print(f"{label:<18} {p50:>13.2f} {first_text:>13} {cpu:>11.2f} {ratio:>13.0%} "
              f"{errors:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
