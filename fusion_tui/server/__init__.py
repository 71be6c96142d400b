"""The HTTP layer: the app factory and thin route handlers. A chat request is parsed here
and handed to the turn engine (core/engine); its output is written back here. No council,
no routing decisions."""

from fusion_tui.server.app import STATE, create_app

__all__ = ["STATE", "create_app"]
