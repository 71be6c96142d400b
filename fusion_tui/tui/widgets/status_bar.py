"""The status bar: where the proxy listens, the classifier, upstream health and breakers,
steering modes, counts and money."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from fusion_tui.events import (
    BreakerChanged,
    ClassifierStateChanged,
    CostRecorded,
    Event,
    RequestCancelled,
    RequestReceived,
    ResponseFinished,
    SteeringApplied,
    TurnPriced,
)
from fusion_tui.tui.bridge import EventBatch
from fusion_tui.tui.status import StatusInfo


class StatusBar(Static):
    """Facts about the process in three lines; a start failure replaces the first, in red."""

    address: reactive[str] = reactive("starting…")
    error: reactive[str] = reactive("")
    requests: reactive[int] = reactive(0)
    finished: reactive[int] = reactive(0)
    failed: reactive[int] = reactive(0)
    cancelled: reactive[int] = reactive(0)
    dropped: reactive[int] = reactive(0)
    classifier: reactive[ClassifierStateChanged | None] = reactive(None)
    breakers: reactive[dict[str, str]] = reactive(dict, always_update=True)
    total_cost: reactive[float] = reactive(0.0)
    session_cost: reactive[float] = reactive(0.0)
    saved: reactive[float | None] = reactive(None)
    """Baseline minus routed cost in total (None until a turn's baseline has a price)."""
    cache_hit_rate: reactive[float | None] = reactive(None)
    """Cache-read tokens over input tokens of every answered turn."""
    session_id: reactive[str] = reactive("")
    hold: reactive[str] = reactive("off")
    council: reactive[str] = reactive("on")
    """Councils everywhere: on | off."""
    session_council: reactive[str] = reactive("")
    """The selected session's own council setting (on | off), '' when it follows `council`."""
    theme_error: reactive[str] = reactive("")

    def __init__(self, info: StatusInfo, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.info = info
        self.hold = info.hold
        self.council = "on" if info.council else "off"
        self._session_costs: dict[str, float] = {}
        self._session_councils: dict[str, str] = {}
        self._queued: list[Event] = []
        self._dropped = 0
        self._input_tokens = self._cache_read_tokens = 0

    @property
    def in_flight(self) -> int:
        """Requests received and not yet finished."""
        return max(0, self.requests - self.finished)

    def on_event_batch(self, message: EventBatch) -> None:
        """Keep the batch for the screen's next frame (`flush`)."""
        self._queued.extend(message.events)
        self._dropped = message.dropped

    @property
    def settled(self) -> bool:
        """True when every event received is counted on screen (tests wait for this)."""
        return not self._queued and self._dropped == self.dropped

    def flush(self) -> None:
        """Count requests, finishes, failures and cancellations; keep the latest states."""
        if not self._queued and self._dropped == self.dropped:
            return
        events, self._queued = self._queued, []
        requests, finished, failed, cancelled = (self.requests, self.finished, self.failed,
                                                 self.cancelled)
        breakers = dict(self.breakers)
        total = self.total_cost
        for event in events:
            if isinstance(event, RequestReceived):
                requests += 1
            elif isinstance(event, ResponseFinished):
                finished += 1
                if event.status >= 400 and event.status != 499:
                    failed += 1
            elif isinstance(event, RequestCancelled):
                cancelled += 1
            elif isinstance(event, ClassifierStateChanged):
                self.classifier = event
            elif isinstance(event, BreakerChanged):
                breakers[event.upstream_id] = event.state
            elif isinstance(event, CostRecorded):
                total += event.cost_usd
                if event.session_id:
                    self._session_costs[event.session_id] = max(
                        self._session_costs.get(event.session_id, 0.0) + event.cost_usd,
                        event.session_total_usd)
                    if len(self._session_costs) > 1000:
                        self._session_costs.pop(next(iter(self._session_costs)))
            elif isinstance(event, TurnPriced):
                if event.baseline_usd is not None:
                    self.saved = (self.saved or 0.0) + event.baseline_usd - event.cost_usd
                self._input_tokens += event.input_tokens
                self._cache_read_tokens += event.cache_read_tokens
                if self._input_tokens:
                    self.cache_hit_rate = self._cache_read_tokens / self._input_tokens
            elif isinstance(event, SteeringApplied):
                if event.action == "hold":
                    self.hold = event.value
                elif event.action == "council":
                    self._council_set(event.target, event.value)
        self.requests, self.finished, self.failed = requests, finished, failed
        self.cancelled, self.dropped = cancelled, self._dropped
        self.breakers, self.total_cost = breakers, total
        self.session_cost = self._session_costs.get(self.session_id, 0.0)
        self.session_council = self._session_councils.get(self.session_id, "")

    def _council_set(self, target: str, value: str) -> None:
        configured = "on" if self.info.council else "off"
        if target == "global":
            self.council = configured if value == "follow_config" else value
            return
        self._session_councils.pop(target, None)
        if value != "follow_config":
            self._session_councils[target] = value
            if len(self._session_councils) > 1000:
                self._session_councils.pop(next(iter(self._session_councils)))

    def watch_session_id(self, session_id: str) -> None:
        """The selected session's cost and council setting."""
        self.session_cost = self._session_costs.get(session_id, 0.0)
        self.session_council = self._session_councils.get(session_id, "")

    def council_text(self) -> tuple[str, str]:
        """What the selected session gets (on | off) and, when that is the session's own
        setting, a note saying so and what the rest get."""
        if self.session_council:
            return self.session_council, f" (session; all {self.council})"
        return self.council, ""

    def classifier_line(self) -> Content:
        """The classifier's model, device and state; red when failed, loud on the fallback."""
        c = self.classifier
        if c is None:
            return Content.from_markup("[$text-muted]classifier: $s[/]",
                                       s=self.info.classifier or "not used")
        where = f"{c.model} on {c.device}" if c.device else c.model
        fallback = "offline fallback" in f"{c.model} {c.error or ''}"
        if c.state == "failed":
            return Content.from_markup("[$error b]✖ classifier FAILED: $e[/] ($w)",
                                       e=c.error or "unknown error", w=where)
        if fallback:
            return Content.from_markup(
                "[$warning b reverse] ⚠ TEST MODEL (offline fallback) [/] [$warning]$w $s[/]",
                w=where, s=c.state)
        if c.state == "loading":
            pct = "" if c.progress is None else f" {c.progress:.0%}"
            return Content.from_markup("classifier $w [$accent]loading$p[/]", w=where, p=pct)
        return Content.from_markup("classifier $w [$success]$s[/]", w=where, s=c.state)

    def render(self) -> Content:
        """The three status lines."""
        info = self.info
        sessions = Content.from_markup("   sessions [$text-muted]$dir[/] ($record)",
                                       dir=info.sessions_dir, record=info.record)
        if self.error:
            first = Content.from_markup("[$error b]✖ $error_text[/]", error_text=self.error)
            sessions = Content()
        elif info.source == "live":
            first = Content.from_markup("[$success]●[/] listening [b]$addr[/]",
                                        addr=self.address)
        else:
            first = Content.from_markup("[$accent]▶[/] $addr", addr=self.address)
        first = first + Content("  ") + self.classifier_line()
        parts: list[Content] = []
        for upstream in info.upstreams:
            state = self.breakers.get(upstream.id, "closed")
            if state == "open":
                parts.append(Content.from_markup("[$error b]$label ✖ open[/]",
                                                 label=upstream.label))
                continue
            if state == "half_open":
                parts.append(Content.from_markup("[$warning]$label ◐ half-open[/]",
                                                 label=upstream.label))
                continue
            style = ("$text-muted" if upstream.simulated
                     else "$warning" if upstream.key_missing else "$success")
            parts.append(Content.from_markup(f"[{style}]$label[/]", label=upstream.label))
        upstreams = Content(" · ").join(parts) if parts else Content("none")
        failed_style = "$error b" if self.failed else "$text-muted"
        counts = Content.from_markup(
            f"requests [b]$n[/] · in flight $f · [{failed_style}]$e failed[/] · $c cancelled",
            n=str(self.requests), f=str(self.in_flight), e=str(self.failed),
            c=str(self.cancelled))
        if self.dropped:
            counts += Content.from_markup(" · [$warning b]$d events dropped[/]",
                                          d=str(self.dropped))
        council, note = self.council_text()
        money = Content.from_markup(
            "   cost session [b]$s[/] · total [b]$t[/]   hold [b]$h[/] · council [b]$c[/]$n",
            s=f"${self.session_cost:.4f}", t=f"${self.total_cost:.4f}", h=self.hold,
            c=council, n=note)
        if self.saved is not None or self.cache_hit_rate is not None:
            money += Content.from_markup(
                "   saved [b]$v[/] · cache [b]$r[/]",
                v="-" if self.saved is None else f"${self.saved:.4f}",
                r="-" if self.cache_hit_rate is None else f"{self.cache_hit_rate:.0%}")
        lines = [first + sessions, Content("upstreams ") + upstreams, counts + money]
        if self.theme_error:
            lines.append(Content.from_markup("[$error]theme: $e[/]", e=self.theme_error))
        return Content("\n").join(lines)
