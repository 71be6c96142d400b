"""Where fusion-tui keeps its files, by the platform's conventions (platformdirs): on Linux the
XDG folders (~/.config, ~/.local/share, ~/.local/state, ~/.cache, or $XDG_*_HOME), on macOS
~/Library/..., on Windows %APPDATA% / %LOCALAPPDATA%."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "fusion-tui"
CONFIG_FILE_NAME = "config.yaml"


def config_dir() -> Path:
    """The user's config folder (the starter config, user themes)."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The user's data folder (session recordings)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """The user's state folder (the log of `run`, remembered dashboard choices)."""
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """The user's cache folder (the assembled offline model)."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def user_config_file() -> Path:
    """The config file every command reads when no --config, $FUSION_CONFIG or ./config.yaml
    is given; `fusion-tui init` writes it."""
    return config_dir() / CONFIG_FILE_NAME


def sessions_dir() -> Path:
    """The default folder of session recordings."""
    return data_dir() / "sessions"
