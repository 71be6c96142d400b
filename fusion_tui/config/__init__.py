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
from fusion_tui.config.tiers import MODES, TIERS, RoutingMode, Tier

__all__ = [
    "MODES",
    "TIERS",
    "ConfigError",
    "FaultSettings",
    "PoolSettings",
    "RoutingMode",
    "RoutingSettings",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "Tier",
    "UpstreamSettings",
    "load_settings",
    "resolve_config_path",
]
