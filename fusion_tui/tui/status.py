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
    advisors: tuple[str, ...] = ()
    """Who may sit on a council (the mute picker offers them)."""
    actors: tuple[str, ...] = ()
    """Upstreams that can act (the swap picker offers every upstream, these first)."""
    hold: str = "off"
    """Hold-before-act mode at start."""
    council: bool = True
    """Councils enabled at start."""
    hold_timeout_s: float = 120.0
    """How long a held briefing waits."""
    classifier: str = ""
    """What the status bar says about the classifier before it reports (e.g. "not used")."""

    @classmethod
    def from_settings(cls, settings: Settings, source: str = "live") -> StatusInfo:
        """The status facts of `settings`; `source` names where events come from."""
        ups = tuple(
            UpstreamInfo(u.id, simulated=u.simulated,
                         key_missing=bool(u.api_key_env) and not u.api_key())
            for u in settings.upstreams)
        server = settings.server
        council = settings.council
        advisors = tuple(dict.fromkeys([*settings.pools.council, *council.advisors]))
        smart = settings.routing.mode != "single"
        return cls(listen=f"{server.host}:{server.port}", upstreams=ups,
                   sessions_dir=str(settings.sessions.dir), record=settings.sessions.record,
                   source=source, advisors=advisors, actors=tuple(settings.pools.actor),
                   hold=council.hold, council=council.enabled,
                   hold_timeout_s=council.hold_timeout_s,
                   classifier="starting" if smart else "not used (routing.mode single)")

    @property
    def simulated_ids(self) -> frozenset[str]:
        """Ids of the simulated upstreams (the feed marks them)."""
        return frozenset(u.id for u in self.upstreams if u.simulated)
