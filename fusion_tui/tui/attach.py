"""`fusion-tui attach`: the meeting room on a proxy running in another process.

The proxy's events arrive over its `/fusion/events` stream (`fusion_tui.remote.events`) and
are published on a local bus, which the usual bridge turns into batches for the usual
screens; the steering keys call `RemoteControls`, which turns each act into an HTTP call.
Nothing here stops the proxy: quitting closes the stream only."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from fusion_tui.core.controls import SteeringError
from fusion_tui.events import EventBus
from fusion_tui.remote.controls import RemoteControls
from fusion_tui.remote.events import LinkState, LinkStatus, RemoteEvents
from fusion_tui.remote.link import ProxyLink, ProxyUnreachable
from fusion_tui.tui.app import FusionApp
from fusion_tui.tui.status import StatusInfo, UpstreamInfo

EXIT_NO_PROXY = 1


def status_info(proxy: dict[str, Any], url: str) -> StatusInfo:
    """The status facts of the proxy at `url`, from `GET /fusion/steering`'s `proxy`."""
    ups = tuple(UpstreamInfo(str(u.get("id", "")), bool(u.get("simulated")),
                             bool(u.get("key_missing"))) for u in proxy.get("upstreams") or ())
    smart = proxy.get("routing_mode", "single") != "single"
    return StatusInfo(listen=url, upstreams=ups, sessions_dir=str(proxy.get("sessions_dir", "")),
                      record=str(proxy.get("record", "full")), source=f"attached: {url}",
                      advisors=tuple(proxy.get("advisors") or ()),
                      actors=tuple(proxy.get("actors") or ()), hold=str(proxy.get("hold", "off")),
                      council=bool(proxy.get("council", True)),
                      hold_timeout_s=float(proxy.get("hold_timeout_s", 120.0)),
                      classifier="waiting for the proxy's state" if smart
                      else "not used (routing.mode single)")


def describe(status: LinkStatus, url: str) -> str:
    """The status bar's address line for the link's state."""
    if status.state is LinkState.LIVE:
        return f"attached to {url}"
    if status.state is LinkState.REFUSED:
        return f"{url}: {status.detail}"
    if status.state is LinkState.CONNECTING:
        return f"connecting to {url}…"
    return f"reconnecting to {url} (try {status.attempt}): {status.detail}"


class AttachedApp(FusionApp):
    """The dashboard fed by a remote proxy's event stream and steering it over HTTP."""

    def __init__(self, link: ProxyLink, bus: EventBus, controls: RemoteControls,
                 info: StatusInfo, **kwargs: Any) -> None:
        super().__init__(bus, info=info, controls=controls,
                         sessions_dir=Path(info.sessions_dir) if info.sessions_dir else None,
                         **kwargs)
        self.link = link
        self.remote_controls = controls
        self.stream = RemoteEvents(link, bus, on_status=self._link_status,
                                   on_notice=self._notice, on_restart=controls.reset)
        self._was_live = False

    async def start_source(self) -> None:
        """Start the event stream (once `FusionApp.on_ready` started the bridge)."""
        self.status_bar.address = describe(self.stream.status, self.link.url)
        self.run_worker(self.stream.run(), name="event-stream", group="stream",
                        exit_on_error=False)

    def _link_status(self, status: LinkStatus) -> None:
        self.status_bar.address = describe(status, self.link.url)
        self.sub_title = self.status_bar.address
        if status.state is LinkState.LIVE:
            if self._was_live or status.attempt:
                self.notify(f"reconnected to {self.link.url}", title="attach", timeout=4)
            self._was_live = True
            self.run_worker(self._refresh(), group="refresh", exit_on_error=False)
        elif status.state is LinkState.RECONNECTING and status.attempt == 1:
            self.notify(f"lost the proxy at {self.link.url} ({status.detail}); reconnecting…",
                        title="attach", severity="warning", timeout=6)
        elif status.state is LinkState.REFUSED and status.attempt == 1:
            self.notify(status.detail, title="attach", severity="error", timeout=10)

    async def _refresh(self) -> None:
        try:
            await self.remote_controls.refresh()
        except (ProxyUnreachable, SteeringError) as exc:
            self.notify(f"cannot read the steering state: {exc}", title="attach",
                        severity="warning")

    def _notice(self, text: str) -> None:
        self.notify(text, title="attach", severity="warning", timeout=8)

    async def action_quit(self) -> None:
        """Close the stream (the proxy keeps running), then leave."""
        await self.link.close()
        self.exit()


async def connect(url: str, token: str | None) -> tuple[ProxyLink, RemoteControls, StatusInfo]:
    """Reach the proxy once: its facts and steering state (ProxyUnreachable, or
    SteeringError when it refuses the token)."""
    link = ProxyLink(url, token)
    controls = RemoteControls(link)
    try:
        data = await link.steering()
        await controls.refresh()
    except BaseException:
        await link.close()
        raise
    return link, controls, status_info(data.get("proxy") or {}, link.url)


def run_attach(url: str, token: str | None, *, keymap: dict[str, str] | None = None,
               theme: str | None = None, config_file: Path | None = None) -> int:
    """Open the meeting room on the proxy at `url` until the user quits. Returns 0, or
    EXIT_NO_PROXY (with the reason on stderr) when the proxy cannot be reached at start."""

    async def main() -> int:
        try:
            link, controls, info = await connect(url, token)
        except (ProxyUnreachable, SteeringError) as exc:
            sys.stderr.write(f"fusion-tui attach: {exc}\n")
            return EXIT_NO_PROXY
        bus = EventBus()
        bus.listen(controls.observe)
        app = AttachedApp(link, bus, controls, info, keymap=keymap, theme=theme,
                          config_file=config_file)
        try:
            await app.run_async()
        finally:
            await link.close()
        return app.return_code or 0

    return asyncio.run(main())
