"""What a run cost, read back from the proxy's session recordings: tokens and dollars split
by who spent them (advisors, judge, actor) and the councils convened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fusion_tui.events.council import CostRecorded
from fusion_tui.sessions.replay import RecordingError, read_recording

ROLES = ("advisors", "judge", "actor")


def role_of(stage: str) -> str:
    """The report's role for a cost stage: advisors (and panel members), judge, or actor
    (every call that answered the client)."""
    if stage in ("advisor", "panel"):
        return "advisors"
    if stage == "judge":
        return "judge"
    return "actor"


@dataclass
class Spend:
    """Tokens and dollars of one role."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: Spend) -> None:
        """Add another spend to this one."""
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd


@dataclass
class RunUsage:
    """Everything a run's recordings say about its spending."""

    roles: dict[str, Spend] = field(default_factory=lambda: {r: Spend() for r in ROLES})
    councils: int = 0
    requests: int = 0
    errors: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def cost_usd(self) -> float:
        """Dollars across roles."""
        return sum(s.cost_usd for s in self.roles.values())

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the runs file."""
        return {"roles": {r: asdict(s) for r, s in self.roles.items()},
                "councils": self.councils, "requests": self.requests, "errors": self.errors,
                "cost_usd": self.cost_usd, "notes": self.notes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunUsage:
        """Back from `as_dict`."""
        usage = cls(councils=int(data.get("councils", 0)), requests=int(data.get("requests", 0)),
                    errors=int(data.get("errors", 0)), notes=list(data.get("notes", [])))
        for role, spend in (data.get("roles") or {}).items():
            if role in usage.roles:
                usage.roles[role] = Spend(int(spend.get("input_tokens", 0)),
                                          int(spend.get("output_tokens", 0)),
                                          float(spend.get("cost_usd", 0.0)))
        return usage


def usage_of(paths: Iterable[Path]) -> RunUsage:
    """Sum the recordings of one run. An unreadable recording is noted, never fatal."""
    usage = RunUsage()
    for path in paths:
        try:
            recording = read_recording(path)
        except (RecordingError, OSError) as exc:
            usage.notes.append(f"{path.name}: unreadable recording: {exc}")
            continue
        for event in recording.events:
            if isinstance(event, CostRecorded):
                usage.roles[role_of(event.stage)].add(Spend(
                    event.input_tokens + event.cache_read_tokens + event.cache_write_tokens,
                    event.output_tokens, event.cost_usd))
            elif event.kind == "council_convened":
                usage.councils += 1
            elif event.kind == "request_received":
                usage.requests += 1
            elif event.kind == "response_finished" and getattr(event, "status", 200) >= 400:
                usage.errors += 1
    return usage
