"""Soak: N concurrent streaming sessions through `fusion-tui serve` for a fixed time against
the simulated upstream (loopback only; stops by itself). Reports errors (must be 0), latency
p50/p99, and the proxy's RSS and open file descriptors at start and end. Exits 1 on any
error, or when RSS or the open fds grew more than 10%.

Run: `python -m bench.soak [--sessions 50] [--seconds 60]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

from bench._procs import child, free_port, open_fds, rss_mb

MAX_GROWTH = 0.10
"""The most RSS or open file descriptors may grow from the start to the end of the soak."""

BODY = {"model": "m", "max_tokens": 200, "stream": True, "system": "You are a coding agent.",
        "messages": [{"role": "user", "content": "explain what this function does: "
                      + "def f(x):\n    return x * 2\n" * 40}]}


async def session(address: str, deadline: float, latencies: list[float],
                  errors: list[str], index: int) -> None:
    """One client sending streamed requests back to back until the deadline."""
    headers = {"x-fusion-session": f"soak-{index}"}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                async with http.post(address + "/v1/messages", json=BODY,
                                     headers=headers) as resp:
                    text = await resp.text()
                if resp.status != 200 or "event: message_stop" not in text:
                    errors.append(f"HTTP {resp.status}: {text[:120]}")
                    continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append((time.monotonic() - started) * 1000)


async def soak(address: str, sessions: int, seconds: float) -> tuple[list[float], list[str]]:
    """Run the sessions; returns (latencies ms, errors)."""
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    async with asyncio.TaskGroup() as group:
        for i in range(sessions):
            group.create_task(session(address, deadline, latencies, errors, i))
    return latencies, errors


def main() -> int:
    """Run the soak and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = {"server": {"host": "127.0.0.1", "port": port},
                  "upstreams": [{"id": "sim", "type": "simulated", "model": "sim",
                                 "first_token_ms": 20, "tokens_per_s": 2000}],
                  "pools": {"actor": ["sim"]}, "routing": {"mode": "single"},
                  "sessions": {"dir": f"{tmp}/sessions"}}
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        with child([sys.executable, "-m", "fusion_tui.cli", "serve", "--config", str(path)],
                   port) as pid:
            address = f"http://127.0.0.1:{port}"
            asyncio.run(soak(address, args.sessions, args.warmup))
            rss0, fds0 = rss_mb(pid), open_fds(pid)
            latencies, errors = asyncio.run(soak(address, args.sessions, args.seconds))
            rss1, fds1 = rss_mb(pid), open_fds(pid)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(f"soak: {args.sessions} streaming sessions, {args.seconds:g} s, simulated upstream "
          f"(20 ms first token, 2000 tok/s), single mode")
    print(f"{'requests':>9} {'errors':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'RSS MB start->end':>18} {'fds start->end':>15}")
    print(f"{len(latencies):>9} {len(errors):>7} {len(latencies) / args.seconds:>7.1f} "
          f"{cuts[49]:>8.1f} {cuts[98]:>8.1f} {f'{rss0:.0f} -> {rss1:.0f}':>18} "
          f"{f'{fds0} -> {fds1}':>15}")
    growth = (rss1 - rss0) / rss0 if rss0 else 0.0
    fd_growth = (fds1 - fds0) / fds0 if fds0 else 0.0
    print(f"RSS growth {growth:+.1%}, fd growth {fds1 - fds0:+d} ({fd_growth:+.1%})")
    for sample in errors[:5]:
        print("error:", sample)
    failures = [what for what, failed in (
        (f"{len(errors)} errors", bool(errors)), (f"RSS grew {growth:.1%}", growth > MAX_GROWTH),
        (f"open fds grew {fd_growth:.1%}", fd_growth > MAX_GROWTH)) if failed]
    if failures:
        print("FAILED: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
