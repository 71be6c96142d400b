"""Configuration: one `Settings` tree from YAML and `FUSION_` environment variables."""

from fusion_tui.config.loader import ConfigError, load_settings, resolve_config_path
from fusion_tui.config.settings import (
    FaultSettings,
    PoolSettings,
    RoutingSettings,
    ServerSettings,
    SessionSettings,
    Settings,
    UpstreamSettings,
)

__all__ = [
    "ConfigError",
    "FaultSettings",
    "PoolSettings",
    "RoutingSettings",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "UpstreamSettings",
    "load_settings",
    "resolve_config_path",
]
