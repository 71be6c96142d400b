"""Deterministic council sequences (fixed ids, times and text) for Pilot and snapshot tests.

    .venv/bin/python -m tests.tui.council_factory

writes tests/fixtures/sessions/council-demo.jsonl.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fusion_tui.core.controls import Controls
from fusion_tui.council.hold import HoldDesk
from fusion_tui.events import (
    ActorStarted,
    ActorToolCalled,
    AdvisorDelta,
    AdvisorFinished,
    BreakerChanged,
    BriefingHeld,
    BriefingReady,
    ClassifierStateChanged,
    CostRecorded,
    CouncilConvened,
    Event,
    EventBus,
    GateDecided,
    RequestReceived,
    ResponseFinished,
    RouteChosen,
    UpstreamFailed,
)
from fusion_tui.events.codec import SCHEMA_VERSION, encode_line
from fusion_tui.routing.router import PinTable
from fusion_tui.tui.status import StatusInfo, UpstreamInfo

T0 = 1_700_000_000.0
M0 = 1000.0
SESSION = "cc-7f3a9e21"
ADVISORS = ("sim-architect", "sim-skeptic", "sim-tester")
PERSPECTIVES = {"sim-architect": "design", "sim-skeptic": "risks", "sim-tester": "tests"}
UPSTREAMS = ("sim-actor", "sim-fast", *ADVISORS, "opus")
OPINIONS = {
    "sim-architect": "## Plan\n\n- Read `config.py` first\n- Keep the loader pure\n- Then "
                     "wire it into `cli.py`\n",
    "sim-skeptic": "**Risk:** the YAML may hold secrets.\n\n1. Never log the values\n"
                   "2. Check the env overrides\n",
    "sim-tester": "Add a test for the *missing file* case and one for a bad key; run "
                  "`pytest -q tests/unit`.\n",
}
BRIEFING = ("Read `fusion_tui/config.py`, keep parsing pure, never log secret values; add "
            "tests for a missing file and a bad key.")

INFO = StatusInfo(listen="127.0.0.1:8787", sessions_dir="~/.local/share/fusion-tui/sessions",
                  source="live", upstreams=tuple(UpstreamInfo(u, simulated=u != "opus",
                                                              key_missing=u == "opus")
                                                 for u in UPSTREAMS),
                  advisors=ADVISORS, actors=("sim-actor",), classifier="starting")


def make_controls(bus: EventBus, hold: str = "off") -> Controls:
    """Controls over the factory's upstreams, publishing into `bus`."""
    return Controls(UPSTREAMS, PinTable(), bus.publish, HoldDesk(), hold)


class Clock:
    """Fixed event times: every event 0.05 s after the previous one."""

    def __init__(self) -> None:
        self.n = 0
        self.seq = 0

    def at(self) -> dict[str, float | int]:
        """seq, t and ts for the next event."""
        self.n += 1
        self.seq += 1
        return {"seq": 10_000 + self.seq, "t": M0 + self.n * 0.05, "ts": T0 + self.n * 0.05}


def classifier(clock: Clock, state: str = "ready") -> Event:
    """The classifier reports its state."""
    return ClassifierStateChanged(state=state, model="bge-small-en-v1.5", device="cpu",
                                  **clock.at())  # type: ignore[arg-type]


def council_turn(clock: Clock, n: int, session: str = SESSION, *, finish_advisors: bool = True,
                 brief: str = "ready", act: bool = True) -> list[Event]:
    """One plan-tier tool turn: gate, council, deltas, advisors done, briefing, actor, finish.
    `brief`: "ready", "held" or "none"."""
    rid = f"req_{n:04d}"
    ids: dict[str, Any] = {"session_id": session, "request_id": rid}
    out: list[Event] = [
        RequestReceived(protocol="anthropic", path="/v1/messages", model="claude-sonnet",
                        stream=True, client="claude-cli/2.0", tools=12, messages=3 + n,
                        body_bytes=4096, **ids, **clock.at()),  # type: ignore[arg-type]
        GateDecided(tier="plan", scores={"compact": 0.08, "regular": 0.31, "plan": 0.86},
                    reason="multi-file change with design questions (plan anchors 0.86)",
                    segments=["user"], latency_ms=4.2, **ids, **clock.at()),  # type: ignore[arg-type]
        RouteChosen(mode="council", tier="plan", upstream_id="sim-actor",
                    route="mode=council; tier=plan; served_by=sim-actor", **ids,
                    **clock.at()),  # type: ignore[arg-type]
        CouncilConvened(advisors=list(ADVISORS), judge="sim-fast", actor="sim-actor",
                        deadline_s=45.0, perspectives=PERSPECTIVES, **ids,
                        **clock.at()),  # type: ignore[arg-type]
    ]
    for advisor in ADVISORS:
        words = OPINIONS[advisor].split(" ")
        cut = len(words) if finish_advisors else len(words) // 2
        for i, word in enumerate(words[:cut]):
            out.append(AdvisorDelta(advisor=advisor, text=word + (" " if i < len(words) - 1
                                                                   else ""),
                                    **ids, **clock.at()))  # type: ignore[arg-type]
    if not finish_advisors:
        return out
    for k, advisor in enumerate(ADVISORS):
        out.append(AdvisorFinished(advisor=advisor, state="partial" if k == 2 else "ok",
                                   text=OPINIONS[advisor], output_tokens=60 + 10 * k,
                                   latency_ms=2100.0 + 400 * k, **ids, **clock.at()))  # type: ignore[arg-type]
        out.append(CostRecorded(upstream_id=advisor, stage="advisor", input_tokens=900,
                                output_tokens=60, cost_usd=0.0021, **ids, **clock.at()))  # type: ignore[arg-type]
    out.append(BriefingReady(text=BRIEFING, judge="sim-fast", synthesized=True,
                             order=list(ADVISORS), **ids, **clock.at()))  # type: ignore[arg-type]
    if brief == "held":
        out.append(BriefingHeld(text=BRIEFING, timeout_s=120.0, **ids, **clock.at()))  # type: ignore[arg-type]
        return out
    if not act:
        return out
    out += [
        ActorStarted(actor="sim-actor", briefed=True, **ids, **clock.at()),  # type: ignore[arg-type]
        ActorToolCalled(actor="sim-actor", name="Read",
                        input={"file_path": "/work/project/fusion_tui/config.py"},
                        tool_use_id=f"toolu_{n}a", **ids, **clock.at()),  # type: ignore[arg-type]
        ActorToolCalled(actor="sim-actor", name="Bash",
                        input={"command": "pytest -q tests/unit/test_config.py"},
                        tool_use_id=f"toolu_{n}b", **ids, **clock.at()),  # type: ignore[arg-type]
        CostRecorded(upstream_id="sim-actor", stage="actor", input_tokens=5000,
                     output_tokens=300, cost_usd=0.0180, **ids, **clock.at()),  # type: ignore[arg-type]
        ResponseFinished(status=200, upstream_id="sim-actor",
                         route="mode=council; tier=plan; served_by=sim-actor",
                         latency_ms=6400.0, input_tokens=5000, output_tokens=300,
                         stop_reason="tool_use", **ids, **clock.at()),  # type: ignore[arg-type]
    ]
    return out


def simple_turn(clock: Clock, n: int, session: str = SESSION, tier: str = "compact",
                upstream: str = "sim-fast") -> list[Event]:
    """A quick turn with no council."""
    rid = f"req_{n:04d}"
    ids: dict[str, Any] = {"session_id": session, "request_id": rid}
    scores = {"compact": 0.82, "regular": 0.2, "plan": 0.05}
    return [
        RequestReceived(protocol="anthropic", path="/v1/messages", model="claude-haiku",
                        stream=True, client="claude-cli/2.0", tools=0, messages=1,
                        body_bytes=512, **ids, **clock.at()),  # type: ignore[arg-type]
        GateDecided(tier=tier, scores=scores, reason="short question, no code context",
                    latency_ms=3.1, **ids, **clock.at()),  # type: ignore[arg-type]
        RouteChosen(mode="single", tier=tier, upstream_id=upstream,
                    route=f"mode=single; tier={tier}; served_by={upstream}", **ids,
                    **clock.at()),  # type: ignore[arg-type]
        CostRecorded(upstream_id=upstream, stage="actor", input_tokens=200, output_tokens=40,
                     cost_usd=0.0004, **ids, **clock.at()),  # type: ignore[arg-type]
        ResponseFinished(status=200, upstream_id=upstream,
                         route=f"mode=single; tier={tier}; served_by={upstream}",
                         latency_ms=310.0, input_tokens=200, output_tokens=40,
                         stop_reason="end_turn", **ids, **clock.at()),  # type: ignore[arg-type]
    ]


def breaker_down(clock: Clock, upstream: str = "sim-skeptic") -> list[Event]:
    """An upstream fails three times and its breaker opens."""
    fail = [UpstreamFailed(upstream_id=upstream, status=503, error="503 overloaded",
                           **clock.at()) for _ in range(3)]  # type: ignore[arg-type]
    return [*fail, BreakerChanged(upstream_id=upstream, state="open",
                                  reason="3 failures in a row", **clock.at())]  # type: ignore[arg-type]


def scenario(name: str) -> list[Event]:
    """The named sequences the snapshots use: idle, council, held, breaker, replay."""
    clock = Clock()
    events: list[Event] = [classifier(clock)]
    if name == "idle":
        return events
    events += simple_turn(clock, 1)
    if name == "council":
        return events + council_turn(clock, 2, finish_advisors=False)
    if name == "held":
        return events + council_turn(clock, 2, brief="held")
    if name == "breaker":
        return events + council_turn(clock, 2) + breaker_down(clock)
    return events + council_turn(clock, 2) + simple_turn(clock, 3) + council_turn(clock, 4)


def write_fixture(path: Path) -> None:
    """Write the full scenario as a recording."""
    import json

    lines = [json.dumps({"kind": "header", "schema": SCHEMA_VERSION, "session_id": SESSION,
                         "created": T0})]
    lines += [encode_line(e) for e in scenario("replay")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_fixture(Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "sessions"
                  / "council-demo.jsonl")
