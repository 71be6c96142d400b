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

COMPACT_MAX_COLS = 100
"""At or below this width the bar is two lines of short facts (whatever does not fit whole
is left out, never cut mid-word); wider, three lines in full."""


def clip_words(text: str, width: int) -> str:
    """`text` cut at a word boundary to at most `width` cells, with an ellipsis when cut."""
    if len(text) <= width:
        return text
    cut = text[: max(0, width - 1)]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 3 else cut).rstrip(" ,;:·") + "…"


def fit_parts(parts: list[Content], width: int, sep: str = " · ") -> Content:
    """The parts, in order, that fit whole in `width` cells (a part that does not fit is
    left out and the next ones are still tried)."""
    line = Content()
    for part in parts:
        if not part.cell_length:
            continue
        candidate = part if not line.cell_length else line + Content(sep) + part
        if candidate.cell_length <= width:
            line = candidate
    return line


class StatusBar(Static):
    """Facts about the process in three lines (two short ones on a narrow terminal); a start
    failure replaces the first, in red."""

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
    unpriced: reactive[bool] = reactive(False)
    """A call had no known price: the total is a lower bound, and says so."""
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
                if not event.priced:
                    self.unpriced = True
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

    def fallback_reason(self) -> str:
        """Why the offline test model stands in (from the classifier's event), or ''."""
        c = self.classifier
        if c is None or c.state == "failed":
            return ""
        error = c.error or ""
        if error.startswith("offline fallback:"):
            return error.removeprefix("offline fallback:").strip()
        return "the configured model could not be loaded" if "offline fallback" in c.model \
            else ""

    def classifier_line(self, short: bool = False) -> Content:
        """The classifier's model, device and state; red when failed, loud on the fallback,
        with the reason. `short`: without the model and device."""
        c = self.classifier
        if c is None:
            return Content.from_markup("[$text-muted]classifier: $s[/]",
                                       s=self.info.classifier or "not used")
        where = f"{c.model} on {c.device}" if c.device else c.model
        fallback = "offline fallback" in f"{c.model} {c.error or ''}"
        if c.state == "failed":
            return Content.from_markup("[$error b]✖ classifier FAILED: $e[/]" +
                                       ("" if short else " ($w)"),
                                       e=c.error or "unknown error", w=where)
        if fallback:
            if short:
                return Content.from_markup("[$warning b reverse] ⚠ TEST MODEL [/]")
            badge = Content.from_markup("[$warning b reverse] ⚠ TEST MODEL (offline fallback) [/]")
            return badge + Content.from_markup(" [$warning]$w $s[/]", w=where, s=c.state)
        if short:
            return Content.from_markup("classifier [$success]$s[/]" if c.state == "ready"
                                       else "classifier [$accent]$s[/]", s=c.state)
        if c.state == "loading":
            pct = "" if c.progress is None else f" {c.progress:.0%}"
            return Content.from_markup("classifier $w [$accent]loading$p[/]", w=where, p=pct)
        return Content.from_markup("classifier $w [$success]$s[/]", w=where, s=c.state)

    def fallback_line(self, width: int) -> Content:
        """Why the test model is in use, clipped to `width` at a word ('' when it is not)."""
        reason = self.fallback_reason()
        if not reason:
            return Content()
        text = clip_words(f"offline fallback, why: {reason}", max(10, width))
        return Content.from_markup("[$warning]$t[/]", t=text)

    def render(self) -> Content:
        """The status lines: three in full, or two short ones when narrow."""
        width = self.content_size.width or self.size.width or 120
        if width <= COMPACT_MAX_COLS:
            return self.render_compact(width)
        return self.render_full(width)

    def _address(self) -> Content:
        if self.error:
            return Content.from_markup("[$error b]✖ $e[/]", e=self.error)
        if self.info.source == "live":
            return Content.from_markup("[$success]●[/] [b]$a[/]", a=self.address)
        return Content.from_markup("[$accent]▶[/] $a", a=self.address)

    def _upstream_summary(self) -> list[Content]:
        """Open and half-open breakers by name; the rest counted."""
        parts: list[Content] = []
        healthy = sim = missing = 0
        for upstream in self.info.upstreams:
            state = self.breakers.get(upstream.id, "closed")
            if state == "open":
                parts.append(Content.from_markup("[$error b]$u ✖ open[/]", u=upstream.id))
            elif state == "half_open":
                parts.append(Content.from_markup("[$warning]$u ◐[/]", u=upstream.id))
            elif upstream.key_missing:
                missing += 1
            elif upstream.simulated:
                sim += 1
            else:
                healthy += 1
        counts = [f"{n} {what}" for n, what in ((healthy, "up"), (sim, "sim")) if n]
        summary = Content(f"upstreams {', '.join(counts) or 'none'}")
        if missing:
            summary += Content.from_markup(" [$warning]$n key missing[/]", n=str(missing))
        return [summary, *parts]

    def render_compact(self, width: int) -> Content:
        """Two lines: where, the classifier, the upstreams; then counts, money, modes.
        Facts that do not fit whole are left out (the full bar shows them when wider)."""
        error_line = self.error or (self.classifier is not None
                                    and self.classifier.state == "failed")
        first = [self._address(), self.classifier_line(short=True)]
        if self.fallback_reason():
            first.append(self.fallback_line(width - first[0].cell_length
                                            - first[1].cell_length - 4))
        first += self._upstream_summary()
        failed_style = "$error b" if self.failed else "$text-muted"
        council, note = self.council_text()
        second = [
            Content.from_markup(f"req [b]$n[/] · $f in flight · [{failed_style}]$e failed[/]",
                                n=str(self.requests), f=str(self.in_flight),
                                e=str(self.failed)),
            Content.from_markup("$[b]$s[/]/[b]$t[/]", s=f"{self.session_cost:.4f}",
                                t=f"{self.total_cost:.4f}"),
            Content.from_markup("hold [b]$h[/]", h=self.hold),
            Content.from_markup("council [b]$c[/]$n", c=council, n=note),
        ]
        if self.dropped:
            second.append(Content.from_markup("[$warning b]$d dropped[/]", d=str(self.dropped)))
        if self.theme_error:
            second.append(Content.from_markup("[$error]theme error[/]"))
        if self.cancelled:
            second.insert(1, Content(f"{self.cancelled} cancelled"))
        lines = [fit_parts(first, width, "  "), fit_parts(second, width)]
        if error_line and not lines[0].cell_length:
            lines[0] = Content(clip_words(self.error, width))
        return Content("\n").join(lines)

    def render_full(self, width: int) -> Content:
        """The three status lines (a fourth for a theme error)."""
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
            s=f"${self.session_cost:.4f}",
            t=f"${self.total_cost:.4f}" + (" + price unknown" if self.unpriced else ""),
            h=self.hold,
            c=council, n=note)
        if self.saved is not None or self.cache_hit_rate is not None:
            money += Content.from_markup(
                "   saved [b]$v[/] · cache [b]$r[/]",
                v="-" if self.saved is None else f"${self.saved:.4f}",
                r="-" if self.cache_hit_rate is None else f"{self.cache_hit_rate:.0%}")
        lines = [first + sessions, Content("upstreams ") + upstreams, counts + money]
        if self.fallback_reason():
            lines[0] = first
            lines.insert(1, self.fallback_line(width) + sessions)
        if self.theme_error:
            lines.append(Content.from_markup("[$error]theme: $e[/]", e=self.theme_error))
        return Content("\n").join(lines)
