"""Themes are data: YAML files, each one `textual.theme.Theme`'s fields.

The package ships its own (`fusion_tui/tui/themes/`); a user's own files in
`$XDG_CONFIG_HOME/fusion-tui/themes/` are added (and may replace a shipped one by name). A
broken user file is reported, never fatal. The chosen theme is remembered in
`$XDG_STATE_HOME/fusion-tui/ui.json`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml
from textual.theme import Theme

THEMES_DIR = Path(__file__).resolve().parent / "themes"
"""The themes shipped with the package."""

DEFAULT_THEME = "fusion-dark"

_FIELDS = {f.name for f in fields(Theme)}


class ThemeError(Exception):
    """A theme file cannot be used; the message names the file and the problem."""


def _xdg(name: str, fallback: str) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else Path.home() / fallback


def user_themes_dir() -> Path:
    """Where a user's own theme files are picked up."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "fusion-tui" / "themes"


def state_file() -> Path:
    """Where the dashboard remembers choices between runs (the theme)."""
    return _xdg("XDG_STATE_HOME", ".local/state") / "fusion-tui" / "ui.json"


def theme_from_data(data: Any, source: str) -> Theme:
    """Build a Theme from parsed YAML; unknown keys are errors, not ignored."""
    if not isinstance(data, dict):
        raise ThemeError(f"{source}: expected a mapping")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeError(f"{source}: unknown keys: {', '.join(unknown)}")
    if "name" not in data or "primary" not in data:
        raise ThemeError(f"{source}: 'name' and 'primary' are required")
    try:
        return Theme(**data)
    except Exception as exc:  # a bad colour string, a wrong type
        raise ThemeError(f"{source}: {exc}") from exc


def load_theme_file(path: Path) -> Theme:
    """One theme file (ThemeError if it cannot be used)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThemeError(f"{path}: {exc}") from exc
    return theme_from_data(data, str(path))


def load_themes(folder: Path = THEMES_DIR) -> list[Theme]:
    """Every theme in `folder` (*.yaml, by file name); none if the folder does not exist.
    Raises ThemeError on the first broken file (the shipped themes must all load)."""
    if not folder.is_dir():
        return []
    return [load_theme_file(path) for path in sorted(folder.glob("*.yaml"))]


@dataclass
class ThemeSet:
    """The themes found, and the problems with the files that could not be used."""

    themes: list[Theme] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Theme names in load order."""
        return [t.name for t in self.themes]


def discover(shipped: Path = THEMES_DIR, user: Path | None = None) -> ThemeSet:
    """Shipped themes, then the user's; a broken user file is an entry in `errors`."""
    found = ThemeSet(load_themes(shipped))
    folder = user_themes_dir() if user is None else user
    if folder.is_dir():
        for path in sorted(folder.glob("*.yaml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                found.errors.append(str(exc))
                continue
            found.themes = [t for t in found.themes if t.name != theme.name] + [theme]
    return found


def remembered_theme(path: Path | None = None) -> str | None:
    """The theme chosen last time, if any (an unreadable state file counts as none)."""
    try:
        data = json.loads((path or state_file()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    theme = data.get("theme") if isinstance(data, dict) else None
    return theme if isinstance(theme, str) else None


def remember_theme(name: str, path: Path | None = None) -> str | None:
    """Write the chosen theme; returns an error message instead of raising."""
    target = path or state_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data["theme"] = name
        target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        return f"cannot remember the theme in {target}: {exc.strerror or exc}"
    return None
