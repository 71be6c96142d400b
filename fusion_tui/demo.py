"""`fusion-tui demo`: a short scripted agent session played through the proxy's real HTTP
surface, so a new user sees the gate, a council and the panel at work without a coding agent.

The script (one session, `x-fusion-session: demo-…`, Anthropic Messages, non-streaming):

1. a trivial question (the gate should say compact);
2. a regular edit request (regular);
3. a hard tool turn: the request carries a `Read` tool and asks to read a file and plan a
   refactor (plan: a council convenes, the judge writes a briefing, the actor calls Read);
4. the same turn continued with the tool's result, so the actor finishes;
5. a tool-free design question at plan (the panel answers and the judge fuses it).

Before the first step it waits for the classifier to load (`GET /health`), so the gate, not a
loading model, decides. Before each step the client asks `POST /fusion/route` what the gate
would say. Where the gate disagrees with the script (the offline test model stands in, say) or
cannot answer (routing is single, the classifier failed), the step is sent with `x-fusion-tier`
and the log line says so: the route is forced, never faked. The session plays once and stops;
the proxy keeps serving. No Textual here: `fusion-tui demo` runs this beside the dashboard,
`--headless` beside a bare proxy, printing what happened.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from fusion_tui import __version__
from fusion_tui.config import Settings
from fusion_tui.events import EventBus
from fusion_tui.runtime import Runtime

READ_TOOL = {
    "name": "Read", "description": "Read a file from the local filesystem.",
    "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                     "required": ["file_path"]},
}
SYSTEM = "You are a coding agent working in the repository at /work/demo."
FILE_TEXT = ("def load(path):\n    raw = yaml.safe_load(open(path))\n    if 'port' not in raw:\n"
             "        raise ValueError('port missing')\n    return Config(**raw)\n")
USER_AGENT = f"fusion-tui-demo/{__version__}"


@dataclass(frozen=True)
class Step:
    """One scripted request: what a person is told, the tier the script wants (None: the
    gate's call), and what it sends (a function of the replies so far)."""

    name: str
    say: str
    tier: str | None
    build: Callable[[list[StepResult]], dict[str, Any]]


@dataclass
class StepResult:
    """What one step got back."""

    step: Step
    status: int
    route: str = ""
    forced: str = ""
    """Why the tier was forced with x-fusion-tier ('' when the gate agreed)."""
    stop_reason: str = ""
    content: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        """True for a 200 answer."""
        return self.status == 200

    def line(self) -> str:
        """One line for people: step, status, route, what came back."""
        tools = [f"{b.get('name')}({_summary(b.get('input'))})" for b in self.content
                 if b.get("type") == "tool_use"]
        text = " ".join(str(b.get("text", "")) for b in self.content if b.get("type") == "text")
        said = ("tool_use " + ", ".join(tools)) if tools else _short(text, 60)
        forced = f" [forced: {self.forced}]" if self.forced else ""
        if not self.ok:
            return f"{self.step.name:<12} {self.status} {self.error}{forced}"
        return (f"{self.step.name:<12} {self.status} {self.route}{forced}\n"
                f"{'':<12} -> {self.stop_reason}: {said}")


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _summary(data: Any) -> str:
    if isinstance(data, dict):
        return ", ".join(f"{k}={_short(str(v), 40)}" for k, v in data.items())
    return ""


def _ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "claude-demo", "max_tokens": 300, "system": SYSTEM,
            "messages": [{"role": "user", "content": text}], **extra}


TOOL_ASK = ("Read src/app/config.py and plan how to split loading from validation without "
            "breaking the CLI; we need a migration path and tests.")


def _tool_result(done: list[StepResult]) -> dict[str, Any]:
    """The tool turn again, with the actor's tool_use answered (as Claude Code would)."""
    previous = done[-1].content if done else []
    uses = [b for b in previous if b.get("type") == "tool_use"] or [
        {"type": "tool_use", "id": "toolu_demo", "name": "Read",
         "input": {"file_path": "src/app/config.py"}}]
    results = [{"type": "tool_result", "tool_use_id": u["id"], "content": FILE_TEXT}
               for u in uses]
    return _ask(TOOL_ASK, tools=[READ_TOOL], messages=[
        {"role": "user", "content": TOOL_ASK},
        {"role": "assistant", "content": previous or uses},
        {"role": "user", "content": results}])


SCRIPT: tuple[Step, ...] = (
    Step("trivial", "a trivial question: the gate should pick the compact tier", "compact",
         lambda _: _ask("thanks! what does len() return in python?")),
    Step("regular", "an everyday edit: the regular tier", "regular",
         lambda _: _ask("Rename the parameter cfg to settings in this function and update "
                        "its docstring:\n\ndef load(cfg):\n    \"\"\"Load cfg.\"\"\"\n"
                        "    return cfg.path\n")),
    Step("tool turn", "a hard tool turn: a council deliberates, the actor reads the file",
         "plan", lambda _: _ask(TOOL_ASK, tools=[READ_TOOL])),
    Step("tool result", "the file comes back: the actor finishes the turn", None,
         _tool_result),
    Step("panel", "a hard question without tools: the panel answers, the judge fuses it",
         "plan", lambda _: _ask(
             "Design question, no code yet: should config validation live in pydantic "
             "models or in a separate schema layer? Weigh testability, error messages and "
             "migration cost, and recommend one.")),
)


async def _gate_says(http: aiohttp.ClientSession, address: str,
                     body: dict[str, Any]) -> tuple[str | None, str]:
    """The gate's tier for `body` (None and why when it cannot say)."""
    async with http.post(address + "/fusion/route", json=body) as resp:
        data = await resp.json(content_type=None)
    if resp.status != 200:
        message = data.get("error", {}).get("message", "") if isinstance(data, dict) else ""
        return None, message or f"/fusion/route answered {resp.status}"
    return str(data.get("tier")), ""


async def play_step(http: aiohttp.ClientSession, address: str, step: Step,
                    done: list[StepResult], session_id: str) -> StepResult:
    """Send one step (forcing its tier when the gate disagrees) and read the answer."""
    body = step.build(done)
    headers = {"x-fusion-session": session_id, "user-agent": USER_AGENT}
    forced = ""
    if step.tier is not None:
        tier, why = await _gate_says(http, address, body)
        if tier != step.tier:
            headers["x-fusion-tier"] = step.tier
            forced = (f"the gate said {tier}" if tier else why) + f"; sent at {step.tier}"
    async with http.post(address + "/v1/messages", json=body, headers=headers) as resp:
        data = await resp.json(content_type=None)
        route = resp.headers.get("x-fusion-route", "")
    if resp.status != 200:
        error = data.get("error", {}).get("message", "") if isinstance(data, dict) else ""
        return StepResult(step, resp.status, route, forced, error=error or str(data))
    return StepResult(step, resp.status, route, forced, stop_reason=data.get("stop_reason", ""),
                      content=list(data.get("content", [])))


CLASSIFIER_WAIT_S = 600.0
"""How long the demo waits for the classifier to load (a first run downloads the model)."""

WAITING = ("idle", "loading")
"""Classifier states worth waiting out; any other (ready, failed, disabled) is an answer."""


async def wait_for_classifier(http: aiohttp.ClientSession, address: str, *,
                              within_s: float = CLASSIFIER_WAIT_S, poll_s: float = 0.25,
                              on_wait: Callable[[str], None] | None = None) -> str:
    """Ask `/health` until the classifier has loaded (or failed, or is not used), so the
    first step is judged by the gate rather than forced because it was still loading.
    `on_wait` is told once, with the state, when there is something to wait for. Returns
    the state it settled in ('loading' when `within_s` ran out: the steps are then forced,
    and each says so)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    told = False
    while True:
        try:
            async with http.get(address + "/health") as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, ValueError):
            data = {}
        classifier = data.get("classifier") if isinstance(data, dict) else None
        state = str(classifier.get("state", "")) if isinstance(classifier, dict) else ""
        if state and state not in WAITING:
            return state
        if loop.time() >= deadline:
            return state or "unknown"
        if not told and on_wait is not None:
            progress = classifier.get("progress") if isinstance(classifier, dict) else None
            on_wait(f"{state or 'starting'}" + (f" {progress:.0%}"
                                                if isinstance(progress, float) else ""))
            told = True
        await asyncio.sleep(poll_s)


async def play(address: str, *, pause_s: float = 4.0, session_id: str | None = None,
               on_step: Callable[[Step], None] | None = None,
               on_result: Callable[[StepResult], None] | None = None,
               on_wait: Callable[[str], None] | None = None,
               classifier_wait_s: float = CLASSIFIER_WAIT_S) -> list[StepResult]:
    """Play `SCRIPT` once against the proxy at `address`, pausing `pause_s` between steps so
    a person can watch; returns every step's result (it goes on after a failed step). The
    first step waits for the classifier (`wait_for_classifier`, `on_wait` told)."""
    session_id = session_id or f"demo-{uuid.uuid4().hex[:8]}"
    done: list[StepResult] = []
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        await wait_for_classifier(http, address, within_s=classifier_wait_s, on_wait=on_wait)
        for index, step in enumerate(SCRIPT):
            if index and pause_s > 0:
                await asyncio.sleep(pause_s)
            if on_step is not None:
                on_step(step)
            try:
                result = await play_step(http, address, step, done, session_id)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                result = StepResult(step, 0, error=f"{type(exc).__name__}: {exc}")
            done.append(result)
            if on_result is not None:
                on_result(result)
    return done


async def run_headless(settings: Settings, *, pause_s: float = 0.0,
                       write: Callable[[str], None] = print,
                       bus: EventBus | None = None) -> list[StepResult]:
    """Start a headless proxy (as `serve` does), play the script against it, stop it."""
    runtime = Runtime(settings, bus=bus)
    try:
        address = await runtime.start()
        write(f"fusion-tui demo: proxy on {address}, routing {settings.routing.mode}")
        return await play(address, pause_s=pause_s,
                          on_step=lambda s: write(f"\n== {s.name}: {s.say}"),
                          on_result=lambda r: write(r.line()),
                          on_wait=lambda state: write(
                              f"waiting for the classifier ({state}) before the first step"))
    finally:
        await runtime.stop()
