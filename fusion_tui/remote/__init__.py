"""The HTTP client side of a running proxy: its event stream (`RemoteEvents`), its steering
acts (`RemoteControls`, `ProxyLink`), one session at a glance. What `fusion-tui attach`,
`statusline` and `steer` use; no Textual here."""

from fusion_tui.remote.link import DEFAULT_URL, ProxyLink, ProxyUnreachable, TokenRefused

__all__ = ["DEFAULT_URL", "ProxyLink", "ProxyUnreachable", "TokenRefused"]
