"""Upstream clients, one per wire protocol, and the factory that builds them from settings."""

from fusion_tui.upstreams.base import Upstream, UpstreamError, UpstreamReply
from fusion_tui.upstreams.factory import build_upstreams

__all__ = ["Upstream", "UpstreamError", "UpstreamReply", "build_upstreams"]
