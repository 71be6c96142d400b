"""Start and stop the proxy on the running event loop (the dashboard's or a bare one)."""

from __future__ import annotations

from aiohttp import web

from fusion_tui.config import Settings
from fusion_tui.core.state import ProxyState
from fusion_tui.events import EventBus
from fusion_tui.routing import Router
from fusion_tui.server import create_app
from fusion_tui.sessions import SessionRecorder
from fusion_tui.upstreams import build_upstreams


class Runtime:
    """The proxy's lifetime: build the app, listen, record sessions, stop cleanly."""

    def __init__(self, settings: Settings, bus: EventBus | None = None) -> None:
        self.settings = settings
        self.bus = bus or EventBus()
        self.state = ProxyState(settings=settings, bus=self.bus,
                                upstreams=build_upstreams(settings), router=Router(settings))
        self.recorder = SessionRecorder(settings.sessions.path, settings.sessions.record)
        self._stop_recording = self.bus.listen(self.recorder)
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> str:
        """http://host:port the proxy listens on ('' before start)."""
        return self.state.address

    async def start(self) -> str:
        """Listen on the configured host and port; returns the address."""
        app = create_app(self.state)
        # handler_cancellation: a client that hangs up cancels its request's work.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        server = self.settings.server
        site = web.TCPSite(self._runner, server.host, server.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else server.port
        host = f"[{server.host}]" if ":" in server.host else server.host
        self.state.address = f"http://{host}:{port}"
        return self.state.address

    async def stop(self) -> None:
        """Stop listening, finish cleanup, flush and close recordings."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._stop_recording()
        self.recorder.close()
