"""How often the gate agrees with the person, over a folder of recorded sessions.

A recording holds, per request, `request_received` (with the body when `sessions.record` is
full) and `gate_decided`. A request a person steered from the dashboard has a `gate_decided`
whose reason is `override:ui` and whose tier is the person's choice; the others carry the
gate's own verdict, which the person let stand. Each steered request whose body was recorded
is judged again by the current gate and compared with the person's tier."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusion_tui.routing.corpus import anthropic_view
from fusion_tui.routing.gate import Gate

TIERS = ("compact", "regular", "plan")
PERSON = "override:ui"


@dataclass
class AgreementReport:
    """Steered requests and the gate's agreement with the person."""

    folder: str
    sessions: int = 0
    judged: int = 0  # requests with a gate_decided event
    steered: int = 0
    steered_with_body: int = 0
    agreed: int = 0
    damaged_lines: int = 0
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {t: dict.fromkeys(TIERS, 0) for t in TIERS})

    @property
    def agreement(self) -> float:
        """Share of the re-judged steered requests where the gate chose the person's tier."""
        return self.agreed / self.steered_with_body if self.steered_with_body else 0.0


def _events(path: Path, report: AgreementReport) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            report.damaged_lines += 1
            continue
        if isinstance(event, dict):
            out.append(event)
    return out


def agreement(folder: Path, gate: Gate) -> AgreementReport:
    """Re-judge every steered request of every recording in `folder`."""
    report = AgreementReport(folder=str(folder))
    for path in sorted(folder.glob("*.jsonl")):
        events = _events(path, report)
        if not events:
            continue
        report.sessions += 1
        requests = {e.get("request_id"): e for e in events
                    if e.get("kind") == "request_received"}
        for event in events:
            if event.get("kind") != "gate_decided":
                continue
            report.judged += 1
            if event.get("reason") != PERSON or event.get("tier") not in TIERS:
                continue
            report.steered += 1
            received = requests.get(event.get("request_id"))
            body = received.get("body") if received else None
            if not isinstance(body, dict):
                continue
            try:
                view = anthropic_view(body, str(received.get("protocol", "anthropic"))
                                      if received else "anthropic")
            except ValueError:
                continue
            decision = gate.classify(view)
            report.steered_with_body += 1
            report.agreed += decision.tier == event["tier"]
            report.confusion[event["tier"]][decision.tier] += 1
    return report


def format_agreement(report: AgreementReport) -> str:
    """A plain-text report for the terminal."""
    lines = [f"routing agreement with the person: {report.folder}",
             f"sessions: {report.sessions}   requests judged: {report.judged}   "
             f"steered by the person: {report.steered}",
             f"steered with a recorded body: {report.steered_with_body}   the gate now agrees: "
             f"{report.agreed} ({report.agreement:.1%})"]
    if report.steered > report.steered_with_body:
        lines.append(f"not re-judged: {report.steered - report.steered_with_body} (no body "
                     f"recorded: sessions.record is metadata)")
    if report.damaged_lines:
        lines.append(f"damaged lines skipped: {report.damaged_lines}")
    lines += ["", "confusion (rows: the person's tier, columns: the gate's)",
              f"{'':<9}" + "".join(f"{t:>9}" for t in TIERS)]
    for tier in TIERS:
        lines.append(f"{tier:<9}" + "".join(f"{report.confusion[tier][t]:>9}" for t in TIERS))
    return "\n".join(lines)
