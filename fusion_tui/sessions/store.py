"""The folder of recordings: list them with a summary, find one, prune old ones."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fusion_tui.council.savings import SpendLedger, SpendTotals
from fusion_tui.sessions.recorder import legacy_file_name, safe_prefix, session_file_name
from fusion_tui.sessions.replay import Recording, RecordingError, read_recording


@dataclass
class SessionSummary:
    """One line of the sessions list (also the `sessions --json` shape)."""

    session_id: str
    path: str
    started: float
    duration_s: float
    client: str
    turns: int
    tiers: list[str] = field(default_factory=list)
    councils: int = 0
    cost_usd: float = 0.0
    errors: int = 0
    size_bytes: int = 0
    baseline_usd: float | None = None
    """What the priced turns would have cost at the baseline model (None: unpriced)."""
    saved_usd: float | None = None
    """baseline_usd minus those turns' routed cost."""
    cache_hit_rate: float | None = None
    """Cache-read tokens over input tokens of the answered turns."""
    tier_shares: dict[str, float] = field(default_factory=dict)
    """Each tier's share of the priced turns."""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


def summarize(recording: Recording) -> SessionSummary:
    """The summary of one recording."""
    events = recording.events
    started = float(recording.header.get("created") or (events[0].ts if events else 0.0))
    # a global steering act (no session) is written into every open session file, however
    # long after this session's last request: it does not make the session longer
    ended = max((e.ts for e in events if e.session_id), default=started)
    clients = [getattr(e, "client", "") for e in events if e.kind == "request_received"]
    tiers = sorted({getattr(e, "tier", "") for e in events
                    if e.kind == "route_chosen" and getattr(e, "tier", "-") != "-"})
    costs = [getattr(e, "session_total_usd", 0.0) for e in events if e.kind == "cost_recorded"]
    ledger = SpendLedger()
    for event in events:
        ledger.apply(event)
    spend = ledger.sessions.get(recording.session_id, SpendTotals()).as_dict()
    return SessionSummary(
        session_id=recording.session_id, path=str(recording.path), started=started,
        duration_s=round(max(0.0, ended - started), 3),
        client=clients[0] if clients else "",
        turns=len(clients), tiers=tiers,
        councils=sum(1 for e in events if e.kind == "council_convened"),
        cost_usd=round(max(costs, default=0.0), 6),
        errors=sum(1 for e in events if e.kind == "response_finished"
                   and getattr(e, "status", 200) >= 400),
        size_bytes=recording.path.stat().st_size,
        baseline_usd=spend["baseline_usd"], saved_usd=spend["saved_usd"],
        cache_hit_rate=spend["cache_hit_rate"], tier_shares=spend["tier_shares"])


def list_sessions(folder: Path) -> list[SessionSummary]:
    """Every readable recording in the folder, newest first (unreadable files are skipped)."""
    if not folder.is_dir():
        return []
    summaries = []
    for path in folder.glob("*.jsonl"):
        try:
            summaries.append(summarize(read_recording(path)))
        except RecordingError:
            continue
    return sorted(summaries, key=lambda s: s.started, reverse=True)


def find_recording(folder: Path, ref: str) -> Path:
    """A path given directly, a session id, or a unique prefix of one."""
    direct = Path(ref).expanduser()
    if direct.is_file():
        return direct
    for name in (session_file_name(ref), legacy_file_name(ref)):
        exact = folder / name
        if exact.is_file():
            return exact
    matches = sorted(folder.glob(safe_prefix(ref)[:64] + "*.jsonl"))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RecordingError(f"no recorded session {ref!r} in {folder}")
    raise RecordingError(f"{ref!r} matches {len(matches)} sessions in {folder}; be more specific")


def prune(folder: Path, keep_days: float | None, max_mb: float | None,
          now: float | None = None) -> list[tuple[str, str]]:
    """Remove recordings older than `keep_days`, then the oldest until the folder fits in
    `max_mb`. Returns (file name, why) for each removed file."""
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    files = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    removed: list[tuple[str, str]] = []
    kept = []
    for path in files:
        age_days = (now - path.stat().st_mtime) / 86400
        if keep_days is not None and age_days > keep_days:
            path.unlink()
            removed.append((path.name, f"older than {keep_days:g} days"))
        else:
            kept.append(path)
    if max_mb is not None:
        total = sum(p.stat().st_size for p in kept)
        limit = max_mb * 1024 * 1024
        for path in kept:
            if total <= limit:
                break
            total -= path.stat().st_size
            path.unlink()
            removed.append((path.name, f"folder over {max_mb:g} MB"))
    return removed
