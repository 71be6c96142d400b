"""Start-up wiring: build the proxy (upstreams, router, gate, recorder, the aiohttp app and
its runner) and start and stop it on the running event loop (the dashboard's or a bare one).

It sits above the HTTP server and below the dashboard and the CLI, which choose how to run it."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from fusion_tui.config import Settings
from fusion_tui.control_token import load_or_create_token
from fusion_tui.core.state import ProxyState
from fusion_tui.events import EventBus
from fusion_tui.routing import Router
from fusion_tui.server import create_app
from fusion_tui.server.auth import check_exposure
from fusion_tui.server.protocol import ProxyRunner
from fusion_tui.sessions import SessionRecorder
from fusion_tui.sessions.store import prune
from fusion_tui.upstreams import build_upstreams

log = logging.getLogger(__name__)


class Runtime:
    """The proxy's lifetime: build the app, load the classifier (smart routing), listen,
    record sessions, stop cleanly."""

    def __init__(self, settings: Settings, bus: EventBus | None = None,
                 token_file: Path | None = None) -> None:
        self.settings = settings
        self.bus = bus or EventBus()
        self.state = ProxyState(settings=settings, bus=self.bus,
                                upstreams=build_upstreams(settings), router=Router(settings))
        self.token_file = token_file
        """Where the control token is kept (None: a token for this process only, in
        `state.control_token`; tests use that)."""
        if settings.routing.mode == "smart":
            from fusion_tui.routing.gate import GateService

            self.state.gate = GateService(settings.routing.embeddings, settings.routing.gate,
                                          publish=self.bus.publish,
                                          keep_bodies=settings.sessions.record == "full")
        self.pruned = prune(settings.sessions.path, settings.sessions.keep_days,
                            settings.sessions.max_mb)
        for name, why in self.pruned:
            log.info("removed recording %s: %s", name, why)
        self.recorder = SessionRecorder(settings.sessions.path, settings.sessions.record)
        self._stop_recording = self.bus.listen(self.recorder)
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> str:
        """http://host:port the proxy listens on ('' before start)."""
        return self.state.address

    async def start(self) -> str:
        """Start loading the classifier (in the background) and listen; returns the address.
        Raises ExposureError before listening if that would expose the proxy unprotected."""
        check_exposure(self.settings)
        if self.token_file is not None:
            self.state.control_token = load_or_create_token(self.token_file)
        if self.state.gate is not None:
            self.state.gate.start()
        app = create_app(self.state)
        # handler_cancellation: a client that hangs up cancels its request's work;
        # keepalive_timeout: a connection without a complete request head for that long (a
        # slowloris, an idle keep-alive) is closed.
        self._runner = ProxyRunner(app, handler_cancellation=True, access_log=None,
                                   keepalive_timeout=self.settings.server.header_timeout_s)
        await self._runner.setup()
        server = self.settings.server
        site = web.TCPSite(self._runner, server.host, server.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        sockets = getattr(site._server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else server.port
        host = f"[{server.host}]" if ":" in server.host else server.host
        self.state.address = f"http://{host}:{port}"
        return self.state.address

    async def stop(self) -> None:
        """Stop listening, stop the classifier, flush and close recordings (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.state.gate is not None:
            await self.state.gate.aclose()
        self._stop_recording()
        self.recorder.close()
