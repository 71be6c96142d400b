"""The status bar: where the proxy listens, who can answer, where sessions go, counts."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from fusion_tui.events import RequestCancelled, RequestReceived, ResponseFinished
from fusion_tui.tui.bridge import EventBatch
from fusion_tui.tui.status import StatusInfo


class StatusBar(Static):
    """Facts about the process in two lines; a start failure replaces the first, in red."""

    address: reactive[str] = reactive("starting…")
    error: reactive[str] = reactive("")
    requests: reactive[int] = reactive(0)
    finished: reactive[int] = reactive(0)
    failed: reactive[int] = reactive(0)
    cancelled: reactive[int] = reactive(0)
    dropped: reactive[int] = reactive(0)

    def __init__(self, info: StatusInfo, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.info = info

    @property
    def in_flight(self) -> int:
        """Requests received and not yet finished."""
        return max(0, self.requests - self.finished)

    def on_event_batch(self, message: EventBatch) -> None:
        """Count requests, finishes, failures and cancellations."""
        requests, finished, failed, cancelled = (self.requests, self.finished, self.failed,
                                                 self.cancelled)
        for event in message.events:
            if isinstance(event, RequestReceived):
                requests += 1
            elif isinstance(event, ResponseFinished):
                finished += 1
                if event.status >= 400 and event.status != 499:
                    failed += 1
            elif isinstance(event, RequestCancelled):
                cancelled += 1
        self.requests, self.finished, self.failed = requests, finished, failed
        self.cancelled, self.dropped = cancelled, message.dropped

    def render(self) -> Content:
        """The two status lines."""
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
        parts: list[Content] = []
        for upstream in info.upstreams:
            style = ("$text-muted" if upstream.simulated
                     else "$warning" if upstream.key_missing else "$success")
            parts.append(Content.from_markup(f"[{style}]$label[/]", label=upstream.label))
        upstreams = Content(" · ").join(parts) if parts else Content("none")
        failed_style = "$error b" if self.failed else "$text-muted"
        counts = Content.from_markup(
            f"   requests [b]$n[/] · in flight $f · [{failed_style}]$e failed[/] · $c cancelled",
            n=str(self.requests), f=str(self.in_flight), e=str(self.failed),
            c=str(self.cancelled))
        if self.dropped:
            counts += Content.from_markup(" · [$warning b]$d events dropped[/]",
                                          d=str(self.dropped))
        line2 = Content("upstreams ") + upstreams + counts
        return Content("\n").join([first + sessions, line2])
