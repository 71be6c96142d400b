"""Typed application state keys."""

from aiohttp import web

from fusion_tui.core.state import ProxyState

STATE = web.AppKey("state", ProxyState)
