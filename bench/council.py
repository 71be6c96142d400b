"""Council overhead: wall time of a council turn against its critical path (slowest advisor +
judge + actor, each measured from its own events), and the streaming client's first byte.

Simulated upstreams with known latencies, in process. Run: `python -m bench.council [-n 10]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from fusion_tui.config import load_settings
from fusion_tui.events import Event
from fusion_tui.runtime import Runtime

READ = {"name": "Read", "input_schema": {"type": "object", "properties": {
    "file_path": {"type": "string"}}, "required": ["file_path"]}}
TURN = {"model": "m", "max_tokens": 500, "stream": True, "tools": [READ],
        "messages": [{"role": "user", "content": "read plan.md and refactor the parser"}]}


def sim(uid: str, first_token_ms: float, tokens_per_s: float = 400) -> dict[str, Any]:
    return {"id": uid, "type": "simulated", "model": uid, "first_token_ms": first_token_ms,
            "tokens_per_s": tokens_per_s}


async def one_turn(address: str, events: list[Event]) -> dict[str, float]:
    """Send one streamed council turn; derive its timings."""
    events.clear()
    started = time.monotonic()
    async with aiohttp.ClientSession() as http, http.post(
            address + "/v1/messages", json=TURN, headers={"x-fusion-tier": "plan"}) as resp:
        await resp.content.readany()
        first_byte = time.monotonic()
        await resp.read()
    wall = (time.monotonic() - started) * 1000
    advisors = [e for e in events if e.kind == "advisor_finished"]
    briefing = next(e for e in events if e.kind == "briefing_ready")
    actor_start = next(e for e in events if e.kind == "actor_started").t
    finished = next(e for e in events if e.kind == "response_finished").t
    slowest = max(a.latency_ms for a in advisors)  # type: ignore[attr-defined]
    judge = briefing.latency_ms  # type: ignore[attr-defined]
    actor = (finished - actor_start) * 1000
    critical = slowest + judge + actor
    return {"wall": wall, "critical": critical, "overhead": wall - critical,
            "ttfb": (first_byte - started) * 1000, "slowest": slowest, "judge": judge,
            "actor": actor}


async def run(n: int) -> list[dict[str, float]]:
    """Start a proxy with a simulated council and time `n` turns."""
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "c.yaml"
        empty.write_text("{}\n")
        settings = load_settings(
            empty, server={"host": "127.0.0.1", "port": 0},
            upstreams=[sim("actor", 100), sim("fast", 150), sim("slow", 450),
                       sim("medium", 300), sim("judge", 120)],
            pools={"actor": ["actor"], "council": ["fast", "slow", "medium"],
                   "judge": ["judge"]},
            council={"deadline_s": 10}, sessions={"dir": f"{tmp}/s"})
        runtime = Runtime(settings)
        events: list[Event] = []
        runtime.bus.listen(events.append)
        address = await runtime.start()
        try:
            await one_turn(address, events)  # warm-up
            return [await one_turn(address, events) for _ in range(n)]
        finally:
            await runtime.stop()


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    rows = asyncio.run(run(args.n))

    def col(key: str) -> tuple[float, float]:
        values = [r[key] for r in rows]
        return statistics.median(values), max(values)

    print(f"council turn, {args.n} runs: advisors 150/300/450 ms to first token, judge 120 ms, "
          "actor 100 ms (simulated), streamed")
    print(f"{'measure':<32} {'p50 ms':>8} {'max ms':>8}")
    for key, label in [("wall", "wall time"), ("critical", "critical path"),
                       ("overhead", "wall - critical path (target<50)"),
                       ("ttfb", "client first byte (target<50)"),
                       ("slowest", "slowest advisor"), ("judge", "judge"), ("actor", "actor")]:
        p50, worst = col(key)
        print(f"{label:<32} {p50:>8.1f} {worst:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
