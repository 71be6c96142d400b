"""UI flood: four advisors streaming markdown at 200 tokens/s each plus a busy feed, through
the bridge into a headless dashboard, with a real proxy serving small requests on the same
loop. Prints one table.

    .venv/bin/python -m bench.ui_flood [--seconds 10]

Three phases share one event loop, one bus and one running proxy (a `Runtime` with a
zero-delay simulated upstream, single routing): the flood runs in all three.

1. *no dashboard*: the bus has no subscriber; a client fires small requests at the proxy.
2. *dashboard*: a headless `FusionApp` consumes every event; the same client fires the same
   requests, and a key press (`1`, force the next tier) is posted every 0.4 s the way a
   terminal driver posts it; the time to its action handler is its latency.
3. *no dashboard* again, so the spread between 1 and 3 shows the noise.

With `--attach` a fourth phase runs between 2 and 3: *attached*, the dashboard in another
process (`fusion-tui attach`: a headless `AttachedApp` started by this script) reading the
proxy's `/fusion/events` stream, so the proxy's loop only encodes and writes the stream; the
same key press is timed there, and the table gets a column per mode. Compare the ratios to
*none* within one run: the machine's load moves the absolute numbers.

Memory: resident size sampled through phase 2, and live objects (after a full collection)
before and after it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from textual import events

from fusion_tui.config import Settings, load_settings
from fusion_tui.events import (
    AdvisorDelta,
    AdvisorFinished,
    BriefingDelta,
    BriefingReady,
    CostRecorded,
    CouncilConvened,
    EventBus,
    GateDecided,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
)
from fusion_tui.runtime import Runtime
from fusion_tui.tui.app import FusionApp, tune_gc
from fusion_tui.tui.screens.dashboard import DashboardScreen
from fusion_tui.tui.status import StatusInfo

ADVISORS = ("adv-a", "adv-b", "adv-c", "adv-d")
SESSION = "bench-session"
WORDS = ("the", "loader", "should", "stay", "pure", "and", "`config.py`", "reads", "YAML",
         "then", "**risk**", "is", "a", "secret", "in", "logs", "so", "we", "test", "it")
BODY = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def deliberation() -> Iterator[str]:
    """Endless markdown-ish tokens: sentences, bullets, paragraphs, now and then a heading."""
    n = 0
    while True:
        n += 1
        token = WORDS[(n * 7) % len(WORDS)] + " "
        if n % 12 == 0:
            token = token.rstrip() + ".\n" + ("- " if n % 36 else "\n")
        if n % 240 == 0:
            token += "\n## Step " + str(n // 240) + "\n\n"
        yield token


class Flood:
    """Publishes council deltas and feed traffic at fixed rates (by the clock, so a slow loop
    publishes bigger bursts, never fewer events). A new council turn every `turn_s`."""

    def __init__(self, bus: EventBus, tokens_per_s: float, requests_per_s: float,
                 turn_s: float) -> None:
        self.bus = bus
        self.tokens_per_s = tokens_per_s
        self.requests_per_s = requests_per_s
        self.turn_s = turn_s
        self.published = 0
        self.turn = 0
        self.feed_n = 0
        self.text = deliberation()

    def publish(self, event: Any) -> None:
        """Publish one event and count it."""
        self.bus.publish(event)
        self.published += 1

    def open_turn(self) -> str:
        """Finish the previous council turn (if any) and convene the next."""
        if self.turn:
            rid = f"req_council_{self.turn}"
            for advisor in ADVISORS:
                self.publish(AdvisorFinished(session_id=SESSION, request_id=rid,
                                             advisor=advisor, state="ok", output_tokens=900,
                                             latency_ms=self.turn_s * 1000))
            for word in ("Keep ", "the ", "loader ", "pure."):
                self.publish(BriefingDelta(session_id=SESSION, request_id=rid, text=word))
            self.publish(BriefingReady(session_id=SESSION, request_id=rid,
                                       text="Keep the loader pure.", judge="judge",
                                       synthesized=True))
            self.publish(ResponseFinished(session_id=SESSION, request_id=rid, status=200,
                                          upstream_id="sim-actor", route="x",
                                          latency_ms=self.turn_s * 1000))
        self.turn += 1
        rid = f"req_council_{self.turn}"
        self.publish(RequestReceived(session_id=SESSION, request_id=rid, protocol="anthropic",
                                     path="/v1/messages", model="m", stream=True,
                                     client="bench", tools=3, messages=2, body_bytes=100))
        self.publish(CouncilConvened(session_id=SESSION, request_id=rid,
                                     advisors=list(ADVISORS), judge="judge",
                                     actor="sim-actor", deadline_s=60))
        return rid

    def feed_request(self) -> None:
        """One finished small request in another session (five events)."""
        self.feed_n += 1
        n = self.feed_n
        sid, rid = f"s{n % 7}", f"req_{n}"
        for event in (
                RequestReceived(session_id=sid, request_id=rid, protocol="openai",
                                path="/v1/chat/completions", model="m", stream=False,
                                client="bench", tools=0, messages=1, body_bytes=10),
                GateDecided(session_id=sid, request_id=rid, tier="compact",
                            scores={"compact": 0.8, "regular": 0.15, "plan": 0.05},
                            reason="bench"),
                RouteChosen(session_id=sid, request_id=rid, mode="single", tier="compact",
                            upstream_id="sim-fast", route="x"),
                CostRecorded(session_id=sid, request_id=rid, upstream_id="sim-fast",
                             stage="single", input_tokens=10, output_tokens=5),
                ResponseFinished(session_id=sid, request_id=rid, status=200,
                                 upstream_id="sim-fast", route="x", latency_ms=12.0)):
            self.publish(event)

    async def run(self, stop: asyncio.Event, tick: float = 0.01) -> None:
        """Publish until `stop` is set."""
        start = time.perf_counter()
        tokens = requests = 0
        rid, turn_started = self.open_turn(), start
        while not stop.is_set():
            now = time.perf_counter()
            if now - turn_started >= self.turn_s:
                rid, turn_started = self.open_turn(), now
            due = int((now - start) * self.tokens_per_s)
            for _ in range(due - tokens):
                for advisor in ADVISORS:
                    self.publish(AdvisorDelta(session_id=SESSION, request_id=rid,
                                              advisor=advisor, text=next(self.text)))
            tokens = max(tokens, due)
            due = int((now - start) * self.requests_per_s)
            for _ in range(due - requests):
                self.feed_request()
            requests = max(requests, due)
            await asyncio.sleep(tick)


class Counter:
    """A bus listener that counts every event (the flood's and the proxy's own)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, event: object) -> None:
        """Count one."""
        self.n += 1


def bench_settings(folder: Path) -> Settings:
    """A proxy on a free port with one zero-delay simulated upstream, single routing."""
    empty = folder / "empty.yaml"
    empty.write_text("{}\n")
    sim = {"id": "sim", "type": "simulated", "model": "sim", "first_token_ms": 0,
           "tokens_per_s": 100_000}
    return load_settings(empty, server={"host": "127.0.0.1", "port": 0}, upstreams=[sim],
                         pools={"actor": ["sim"]}, routing={"mode": "single"},
                         sessions={"dir": str(folder / "sessions"), "record": "metadata"})


async def client_latencies(address: str, stop: asyncio.Event, interval: float) -> list[float]:
    """Small non-streaming requests one after another (a pause between); ms each."""
    out: list[float] = []
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            began = time.perf_counter()
            async with http.post(address + "/v1/messages", json=BODY,
                                 headers={"x-fusion-session": "bench-client"}) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            out.append((time.perf_counter() - began) * 1000)
            await asyncio.sleep(interval)
    return out


async def loop_lag(stop: asyncio.Event, period: float = 0.01) -> list[float]:
    """How late a 10 ms sleep wakes up (ms each): the loop's responsiveness."""
    out: list[float] = []
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(period)
        out.append((time.perf_counter() - began - period) * 1000)
    return out


async def phase_without_dashboard(runtime: Runtime, seconds: float,
                                  flood: Flood) -> dict[str, list[float]]:
    """The flood and the client with nobody subscribed to the bus."""
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(flood.run(stop))
        lat = group.create_task(client_latencies(runtime.address, stop, 0.02))
        lag = group.create_task(loop_lag(stop))
        await asyncio.sleep(seconds)
        stop.set()
    return {"proxy": lat.result(), "lag": lag.result()}


async def phase_with_dashboard(runtime: Runtime, seconds: float, flood: Flood,
                               settings: Settings, folder: Path) -> dict[str, Any]:
    """The flood and the client while a headless dashboard consumes every event."""
    app = FusionApp(runtime.bus, info=StatusInfo.from_settings(settings),
                    controls=runtime.state.controls, state_path=folder / "ui.json")
    keys: list[float] = []
    counted = Counter()
    stop_counting = runtime.bus.listen(counted)
    out: dict[str, Any] = {}
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        pressed: list[float] = []
        handler = screen.action_force_tier

        def timed(tier: str) -> None:
            if pressed:
                keys.append((time.perf_counter() - pressed.pop()) * 1000)
            handler(tier)

        screen.action_force_tier = timed  # type: ignore[method-assign]
        await pilot.pause(0.3)
        published0, handled0 = counted.n, app.bridge.events
        stop = asyncio.Event()
        gc.collect()
        objects_before, rss = len(gc.get_objects()), [rss_mb()]
        async with asyncio.TaskGroup() as group:
            group.create_task(flood.run(stop))
            lat = group.create_task(client_latencies(runtime.address, stop, 0.02))
            lag = group.create_task(loop_lag(stop))
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                await asyncio.sleep(0.4)
                rss.append(rss_mb())
                if screen.selected and not pressed:
                    key = events.Key("1", "1")
                    key.set_sender(app)
                    pressed.append(time.perf_counter())
                    app.post_message(key)
            stop.set()
        elapsed = time.perf_counter() - started
        published = counted.n - published0
        # everything published must come through: how long until the dashboard caught up
        caught = time.perf_counter()
        while app.bridge.events - handled0 < published - app.bridge.subscription.dropped:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await pilot.pause()
        out["catch_up_ms"] = (time.perf_counter() - caught) * 1000
        gc.collect()
        out["objects"] = (objects_before, len(gc.get_objects()))
        out["rss"] = rss
        out.update(published=published, handled=app.bridge.events - handled0,
                   elapsed=elapsed, batches=app.bridge.batches, max_batch=app.bridge.largest,
                   dropped=app.bridge.subscription.dropped, keys=keys,
                   proxy=lat.result(), lag=lag.result())
    stop_counting()
    return out


ATTACHED_MARK = "ATTACHED-RESULT "


async def attached_client(url: str, token: str, seconds: float) -> dict[str, Any]:
    """Run a headless attached dashboard for `seconds` (in its own process), pressing `1`
    every 0.4 s; what it handled and its key latencies."""
    from fusion_tui.tui.attach import AttachedApp, connect

    link, controls, info = await connect(url, token)
    bus = EventBus()
    bus.listen(controls.observe)
    with tempfile.TemporaryDirectory() as folder:
        app = AttachedApp(link, bus, controls, info, state_path=Path(folder) / "ui.json")
        keys: list[float] = []
        async with app.run_test(size=(140, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            pressed: list[float] = []
            handler = screen.action_force_tier

            def timed(tier: str) -> None:
                if pressed:
                    keys.append((time.perf_counter() - pressed.pop()) * 1000)
                handler(tier)

            screen.action_force_tier = timed  # type: ignore[method-assign]
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                await asyncio.sleep(0.4)
                if screen.selected and not pressed:
                    key = events.Key("1", "1")
                    key.set_sender(app)
                    pressed.append(time.perf_counter())
                    app.post_message(key)
            await pilot.pause()
            result = {"handled": app.bridge.events, "received": app.stream.received,
                      "batches": app.bridge.batches, "keys": keys,
                      "reconnects": app.stream.connects - 1}
        await link.close()
    return result


async def phase_attached(runtime: Runtime, seconds: float, flood: Flood) -> dict[str, Any]:
    """The flood and the client while a dashboard in another process reads the stream."""
    from fusion_tui.server.events_stream import EVENT_LOG

    log = runtime._runner.app[EVENT_LOG]  # type: ignore[union-attr]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.ui_flood", "--attached-client", runtime.address,
        str(seconds + 1.0), env={**os.environ, "FUSION_CONTROL_TOKEN":
                                 runtime.state.control_token},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    for _ in range(3000):  # the attached app starts (imports, first frame) and connects
        if log.watchers:
            break
        await asyncio.sleep(0.01)
    counted = Counter()
    stop_counting = runtime.bus.listen(counted)
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(flood.run(stop))
        lat = group.create_task(client_latencies(runtime.address, stop, 0.02))
        lag = group.create_task(loop_lag(stop))
        await asyncio.sleep(seconds)
        stop.set()
    stop_counting()
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    lines = [ln for ln in out.decode().splitlines() if ln.startswith(ATTACHED_MARK)]
    if proc.returncode or not lines:
        raise SystemExit(f"the attached dashboard failed ({proc.returncode}): "
                         f"{err.decode()[-2000:]}")
    client = json.loads(lines[-1].removeprefix(ATTACHED_MARK))
    return {"proxy": lat.result(), "lag": lag.result(), "published": counted.n, **client}


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; max RSS elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank; -1 when empty."""
    if not values:
        return -1.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(seconds: float, tokens_per_s: float, requests_per_s: float,
              turn_s: float, attach: bool = False) -> list[tuple[str, str, str]]:
    """All phases; the rows of the table (metric, value, target)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = bench_settings(Path(folder))
        runtime = Runtime(settings)
        await runtime.start()
        flood = Flood(runtime.bus, tokens_per_s, requests_per_s, turn_s)
        try:
            tune_gc()  # as run_dashboard does
            before = await phase_without_dashboard(runtime, seconds / 2, flood)
            ui = await phase_with_dashboard(runtime, seconds, flood, settings, Path(folder))
            attached = await phase_attached(runtime, seconds, flood) if attach else None
            after = await phase_without_dashboard(runtime, seconds / 2, flood)
        finally:
            await runtime.stop()
    plain = before["proxy"] + after["proxy"]
    noise = abs(statistics.median(before["proxy"]) - statistics.median(after["proxy"]))
    rate = ui["published"] / ui["elapsed"]
    keys = ui["keys"]
    rss = ui["rss"]
    quarters = (len(rss) // 4, len(rss) // 2, len(rss) - 1)
    rows = [
        ("events/s published", f"{rate:,.0f}",
         f"{len(ADVISORS)}x{tokens_per_s:.0f} tok/s + {requests_per_s:.0f} req/s x5"),
        ("events/s handled", f"{ui['handled'] / ui['elapsed']:,.0f}", "= published"),
        ("events published / handled", f"{ui['published']:,} / {ui['handled']:,}", "equal"),
        ("dropped by the bus", f"{ui['dropped']:,}", "0"),
        ("catch-up after the flood", f"{ui['catch_up_ms']:,.0f} ms", "< 100 ms"),
        ("batches / max batch", f"{ui['batches']:,} / {ui['max_batch']:,}", "~30/s"),
        ("RSS at 1/4, 1/2, end", " / ".join(f"{rss[i]:.0f}" for i in quarters) + " MB",
         "flat in the 2nd half"),
        ("live objects before / after", f"{ui['objects'][0]:,} / {ui['objects'][1]:,}",
         "bounded"),
        ("key press p50 / max", f"{pct(keys, 0.5):.0f} / {max(keys, default=-1):.0f} ms "
                                f"({len(keys)} presses)", "< 100 ms"),
        ("loop lag p50 / p99, dashboard", f"{pct(ui['lag'], 0.5):.1f} / "
                                          f"{pct(ui['lag'], 0.99):.1f} ms", ""),
        ("loop lag p50 / p99, none", f"{pct(before['lag'] + after['lag'], 0.5):.1f} / "
                                     f"{pct(before['lag'] + after['lag'], 0.99):.1f} ms", ""),
        ("proxy latency p50 / p90, dashboard",
         f"{pct(ui['proxy'], 0.5):.2f} / {pct(ui['proxy'], 0.9):.2f} ms "
         f"(n={len(ui['proxy'])})", "= none, within noise"),
        ("proxy latency p50 / p90, none",
         f"{pct(plain, 0.5):.2f} / {pct(plain, 0.9):.2f} ms (n={len(plain)})", ""),
        ("noise (p50 before vs after)", f"{noise:.2f} ms", ""),
    ]
    if attached is not None:
        base50, base90 = pct(plain, 0.5), pct(plain, 0.9)
        akeys = attached["keys"]
        rows += [
            ("attached: events published / received / handled",
             f"{attached['published']:,} / {attached['received']:,} / {attached['handled']:,}",
             "published <= received (its replay adds the backlog)"),
            ("attached: reconnects", f"{attached['reconnects']}", "0"),
            ("attached: key press p50 / max", f"{pct(akeys, 0.5):.0f} / "
             f"{max(akeys, default=-1):.0f} ms ({len(akeys)} presses)", "< 100 ms"),
            ("loop lag p50 / p99, attached", f"{pct(attached['lag'], 0.5):.1f} / "
             f"{pct(attached['lag'], 0.99):.1f} ms", ""),
            ("proxy latency p50 / p90, attached",
             f"{pct(attached['proxy'], 0.5):.2f} / {pct(attached['proxy'], 0.9):.2f} ms "
             f"(n={len(attached['proxy'])})", "= none, within noise"),
            ("proxy p90 / none's p90: dashboard, attached",
             f"{pct(ui['proxy'], 0.9) / base90:.2f}x, "
             f"{pct(attached['proxy'], 0.9) / base90:.2f}x", "1.00x"),
            ("proxy p50 / none's p50: dashboard, attached",
             f"{pct(ui['proxy'], 0.5) / base50:.2f}x, "
             f"{pct(attached['proxy'], 0.5) / base50:.2f}x", "1.00x"),
        ]
    return rows


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of the dashboard phase (each plain phase is half)")
    parser.add_argument("--tokens-per-s", type=float, default=200.0, help="per advisor")
    parser.add_argument("--requests-per-s", type=float, default=20.0,
                        help="feed requests a second (five events each)")
    parser.add_argument("--turn-s", type=float, default=5.0,
                        help="a new council turn this often")
    parser.add_argument("--attach", action="store_true",
                        help="also measure a dashboard attached from another process")
    parser.add_argument("--attached-client", nargs=2, metavar=("URL", "SECONDS"),
                        help=argparse.SUPPRESS)  # the attached phase's own process
    args = parser.parse_args()
    if args.attached_client:
        url, secs = args.attached_client
        result = asyncio.run(attached_client(url, os.environ["FUSION_CONTROL_TOKEN"],
                                             float(secs)))
        print(ATTACHED_MARK + json.dumps(result))
        return
    rows = asyncio.run(run(args.seconds, args.tokens_per_s, args.requests_per_s, args.turn_s,
                           args.attach))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    widths = [max(w, len(h)) for w, h in zip(widths, ("metric", "value", "target"),
                                            strict=True)]
    print(f"{'metric':<{widths[0]}}  {'value':<{widths[1]}}  target")
    print(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * widths[2]}")
    for metric, value, target in rows:
        print(f"{metric:<{widths[0]}}  {value:<{widths[1]}}  {target}")


if __name__ == "__main__":
    main()
