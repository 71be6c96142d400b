"""What the status bar shows about the process itself, derived once from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from fusion_tui.config import Settings


@dataclass(frozen=True)
class UpstreamInfo:
    """One upstream as the dashboard shows it: its id and whether it can really answer."""

    id: str
    simulated: bool = False
    key_missing: bool = False

    @property
    def label(self) -> str:
        """`id`, marked `(sim)` for simulated models or `(key missing)` without an API key."""
        if self.simulated:
            return f"{self.id} (sim)"
        if self.key_missing:
            return f"{self.id} (key missing)"
        return self.id


@dataclass(frozen=True)
class StatusInfo:
    """Static facts for the status bar: where the proxy listens, who answers, where sessions
    are recorded. `listen` is the configured host:port; the real address arrives on start."""

    listen: str = ""
    upstreams: tuple[UpstreamInfo, ...] = ()
    sessions_dir: str = ""
    record: str = "full"
    source: str = "live"

    @classmethod
    def from_settings(cls, settings: Settings, source: str = "live") -> StatusInfo:
        """The status facts of `settings`; `source` names where events come from."""
        ups = tuple(
            UpstreamInfo(u.id, simulated=u.simulated,
                         key_missing=bool(u.api_key_env) and not u.api_key())
            for u in settings.upstreams)
        server = settings.server
        return cls(listen=f"{server.host}:{server.port}", upstreams=ups,
                   sessions_dir=str(settings.sessions.dir), record=settings.sessions.record,
                   source=source)

    @property
    def simulated_ids(self) -> frozenset[str]:
        """Ids of the simulated upstreams (the feed marks them)."""
        return frozenset(u.id for u in self.upstreams if u.simulated)
