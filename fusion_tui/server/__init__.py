"""The HTTP surface: app factory and thin route handlers."""

from fusion_tui.server.app import STATE, create_app

__all__ = ["STATE", "create_app"]
