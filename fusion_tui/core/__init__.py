"""The engine: a request's life after parsing (core.engine), the pipeline steps it uses,
the shared proxy state and the steering controls. No HTTP and no Textual in here."""

from fusion_tui.core.state import ProxyState

__all__ = ["ProxyState"]
