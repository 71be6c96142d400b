"""Find, read and validate the config file; turn failures into errors people can act on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

from fusion_tui.config import paths
from fusion_tui.config.settings import Settings

DEFAULT_CONFIG = Path("config.yaml")
ENV_PREFIX = "FUSION_"
MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""A config file larger than this is refused (a real one is a few KB)."""


class ConfigError(Exception):
    """The configuration cannot be used. The message names the file, the key and the problem."""


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """--config FILE, else $FUSION_CONFIG, else ./config.yaml if it exists, else the user's
    config file (`fusion-tui init` writes it) if it exists, else None."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FUSION_CONFIG")
    if env:
        return Path(env)
    if DEFAULT_CONFIG.exists():
        return DEFAULT_CONFIG
    user = paths.user_config_file()
    return user if user.is_file() else None


def config_search_note() -> str:
    """Where a config file was looked for, and how to get one (for a run that found none)."""
    return (f"no config file found; looked for --config FILE, $FUSION_CONFIG (unset), "
            f"{DEFAULT_CONFIG.resolve()} and {paths.user_config_file()}. Run `fusion-tui init` "
            f"to write a starter config (simulated models, real upstreams commented out) "
            f"to {paths.user_config_file()}, or pass --config FILE")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {len(raw)} bytes; a config file may hold at most "
                          f"{MAX_CONFIG_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line "
                          f"{line})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: nested too deeply to be a configuration") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _env_names() -> dict[str, str]:
    """FUSION_ variables set now, upper-cased name -> name as set (the match is
    case-insensitive, as pydantic-settings reads them)."""
    return {name.upper(): name for name in os.environ if name.upper().startswith(ENV_PREFIX)}


def _env_source(loc: tuple[int | str, ...], names: dict[str, str]) -> str | None:
    """The FUSION_ variable a value at `loc` came from, if one did."""
    parts = [str(p) for p in loc]
    for end in range(len(parts), 0, -1):
        name = ENV_PREFIX + "__".join(parts[:end]).upper()
        if name in names:
            return names[name]
    return None


def _format_errors(path: Path | None, exc: ValidationError) -> str:
    where = str(path) if path else "(defaults and environment)"
    names = _env_names()
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        variable = _env_source(err["loc"], names)
        origin = f" (from environment variable {variable})" if variable else ""
        lines.append(f"  {key}: {err['msg']}{shown}{origin}")
    head = where if any("from environment variable" not in x for x in lines) else "environment"
    return "\n".join([f"{head}: invalid configuration", *lines])


def _env_parse_error(exc: SettingsError) -> str:
    """Which FUSION_ variable held a value that is not JSON where JSON is expected."""
    text = str(exc)
    names = _env_names()
    field = text.split('"')[1] if text.count('"') >= 2 else ""
    variable = next((names[n] for n in names if n == ENV_PREFIX + field.upper()), None)
    if variable is None:
        candidates = [names[n] for n in names if n.startswith(ENV_PREFIX + field.upper())]
        variable = ", ".join(candidates) or ENV_PREFIX + field.upper()
    return (f"environment variable {variable}: not valid JSON (a structured setting such as "
            f"{field or 'this one'} is given as JSON, e.g. "
            f"{ENV_PREFIX}SERVER='{{\"port\": 9000}}', or one key at a time with __, e.g. "
            f"{ENV_PREFIX}SERVER__PORT=9000)")


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Load settings from the resolved config file and the environment.

    `overrides` (keyword, already-parsed values) win over both; tests use them.
    Raises ConfigError with a readable message.
    """
    resolved = resolve_config_path(path)
    file_data = _read_yaml(resolved) if resolved else {}

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _DictSource(settings_cls, file_data))

    try:
        loaded = _FileSettings(**overrides)
        return Settings.model_validate(loaded.model_dump())
    except ValidationError as exc:
        raise ConfigError(_format_errors(resolved, exc)) from exc
    except SettingsError as exc:
        raise ConfigError(_env_parse_error(exc)) from exc
    except RecursionError as exc:
        raise ConfigError(f"{resolved or 'environment'}: nested too deeply to be a "
                          "configuration") from exc


class _DictSource(PydanticBaseSettingsSource):
    """A settings source over an already-parsed YAML mapping."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)
