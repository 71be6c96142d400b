"""Upstream clients, one per wire protocol, and the factory that builds them from settings."""

from fusion_tui.upstreams.base import ErrorKind, Upstream, UpstreamError, UpstreamReply
from fusion_tui.upstreams.factory import build_upstreams

__all__ = ["ErrorKind", "Upstream", "UpstreamError", "UpstreamReply", "build_upstreams"]
