"""The runtime (build the app, start and stop it) and the steering controls."""

from fusion_tui.core.runtime import Runtime
from fusion_tui.core.state import ProxyState

__all__ = ["ProxyState", "Runtime"]
