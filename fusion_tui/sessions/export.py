"""A recording as a readable Markdown transcript: per request, the gate's decision, each
opinion, the briefing, what the actor did, and the cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fusion_tui.events import Event
from fusion_tui.sessions.replay import Recording


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.strip().splitlines()) or "> "


def _last_user_text(body: dict[str, Any] | None) -> str:
    if not body:
        return ""
    if "messages" not in body and isinstance(body.get("input"), str):  # Responses, short form
        return str(body["input"])
    for message in reversed(body.get("messages") or body.get("input") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            parts = []
            for block in content or []:
                if isinstance(block, dict) and block.get("type") in ("text", "input_text"):
                    text = str(block.get("text", ""))
                    if not text.lstrip().startswith("<system-reminder>"):
                        parts.append(text)
                elif isinstance(block, dict) and block.get("type") == "tool_result":
                    parts.append("[tool result]")
            return "\n".join(parts)
    return ""


def _call_key(name: object, tool_input: object) -> str:
    """A tool call told by what it does, for calls reported without an id."""
    return f"{name}:{json.dumps(tool_input, sort_keys=True, ensure_ascii=False)}"


def _grouped(events: list[Event]) -> list[tuple[str, list[Event]]]:
    groups: dict[str, list[Event]] = {}
    for event in events:
        if event.request_id:
            groups.setdefault(event.request_id, []).append(event)
    return list(groups.items())


def export_markdown(recording: Recording) -> str:
    """The whole session as Markdown."""
    out = [f"# Session {recording.session_id}", ""]
    created = recording.header.get("created")
    if created:
        out += [f"Recorded {_when(float(created))}; schema {recording.header.get('schema')}.", ""]
    total = 0.0
    for number, (request_id, events) in enumerate(_grouped(recording.events), start=1):
        out += _request_section(number, request_id, events)
        total += sum(getattr(e, "cost_usd", 0.0) for e in events if e.kind == "cost_recorded")
    out += ["## Total", "", f"Cost: ${total:.4f}", ""]
    if recording.skipped:
        out += ["## Skipped lines", ""] + [f"- {s}" for s in recording.skipped] + [""]
    return "\n".join(out)


def _request_section(number: int, request_id: str, events: list[Event]) -> list[str]:
    by_kind: dict[str, list[Any]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    first = events[0]
    out = [f"## Request {number} ({request_id}), {_when(first.ts)}", ""]
    received = by_kind.get("request_received", [None])[0]
    if received is not None:
        out.append(f"- Client: {received.client}, {received.protocol}, model `{received.model}`, "
                   f"{received.messages} messages, {received.tools} tools, "
                   f"{'streamed' if received.stream else 'whole'}")
        asked = _last_user_text(received.body)
        if asked:
            out += ["", "The user's latest words:", "", _quote(asked[:2000])]
        out.append("")
    for gate in by_kind.get("gate_decided", []):
        scores = ", ".join(f"{k} {v:.2f}" for k, v in gate.scores.items())
        out += [f"**Gate:** tier `{gate.tier}` ({scores}); reason `{gate.reason}`; "
                f"{gate.latency_ms:.1f} ms", ""]
    for route in by_kind.get("route_chosen", []):
        out += [f"**Route:** `{route.route}`", ""]
    for convened in by_kind.get("council_convened", []):
        out += [f"### Council: advisors {', '.join(convened.advisors)}; judge "
                f"{convened.judge or 'none'}; actor {convened.actor}", ""]
    for opinion in by_kind.get("advisor_finished", []):
        label = f"**{opinion.advisor}** ({opinion.state}, {opinion.output_tokens} tokens out, " \
                f"{opinion.latency_ms:.0f} ms)"
        out += [label, "", _quote(opinion.text or opinion.error or "(nothing)"), ""]
    for member in by_kind.get("panel_member_finished", []):
        out += [f"**Panel member {member.member}** ({member.state})", "",
                _quote(member.text or member.error or "(nothing)"), ""]
    for failed in by_kind.get("council_failed", []):
        out += [f"**Council failed:** {failed.reason} (the actor went alone)", ""]
    for skipped in by_kind.get("council_skipped", []):
        out += [f"**Council skipped:** {skipped.reason}", ""]
    for briefing in by_kind.get("briefing_ready", []):
        out += ["### Briefing", "", _quote(briefing.text), ""]
    for decided in by_kind.get("briefing_decided", []):
        out += [f"**Hold:** {decided.decision} by {decided.source}", ""]
    listed: set[str] = set()
    for tool in by_kind.get("actor_tool_called", []):
        listed.add(tool.tool_use_id or _call_key(tool.name, tool.input))
        out.append(f"- Actor {tool.actor} called `{tool.name}` "
                   f"`{json.dumps(tool.input, ensure_ascii=False)[:300]}`")
    for steering in by_kind.get("steering_applied", []):
        out.append(f"- Steering: {steering.action} {steering.target} {steering.value}".rstrip())
    for finished in by_kind.get("response_finished", []):
        out += ["", f"**Answer:** HTTP {finished.status} from {finished.upstream_id}, "
                f"{finished.latency_ms:.0f} ms, {finished.input_tokens} in / "
                f"{finished.output_tokens} out, stop `{finished.stop_reason}`"
                + (f", error: {finished.error}" if finished.error else "")]
        text = "".join(b.get("text", "") for b in finished.content or []
                       if b.get("type") == "text")
        if text:
            out += ["", _quote(text[:3000])]
        for block in finished.content or []:
            # a council's actor reports its calls as they happen (above); the answer then
            # carries the same calls: list each once
            if block.get("type") == "tool_use" and not (
                    block.get("id") in listed
                    or _call_key(block.get("name"), block.get("input")) in listed):
                out.append(f"- Tool call `{block.get('name')}` "
                           f"`{json.dumps(block.get('input'), ensure_ascii=False)[:300]}`")
    for cancelled in by_kind.get("request_cancelled", []):
        out.append(f"- Cancelled: {cancelled.reason}")
    cost = sum(c.cost_usd for c in by_kind.get("cost_recorded", []))
    if by_kind.get("cost_recorded"):
        out += ["", f"Cost of this request: ${cost:.4f}"]
    out.append("")
    return out
