"""Themes are data: YAML files in `themes/`, each one `textual.theme.Theme`'s fields."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from textual.theme import Theme

THEMES_DIR = Path(__file__).resolve().parents[2] / "themes"
"""The repository's theme folder."""

DEFAULT_THEME = "fusion-dark"

_FIELDS = {f.name for f in fields(Theme)}


class ThemeError(Exception):
    """A theme file cannot be used; the message names the file and the problem."""


def theme_from_data(data: Any, source: str) -> Theme:
    """Build a Theme from parsed YAML; unknown keys are errors, not ignored."""
    if not isinstance(data, dict):
        raise ThemeError(f"{source}: expected a mapping")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeError(f"{source}: unknown keys: {', '.join(unknown)}")
    if "name" not in data or "primary" not in data:
        raise ThemeError(f"{source}: 'name' and 'primary' are required")
    return Theme(**data)


def load_themes(folder: Path = THEMES_DIR) -> list[Theme]:
    """Every theme in `folder` (*.yaml, by file name); none if the folder does not exist."""
    if not folder.is_dir():
        return []
    themes = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ThemeError(f"{path}: {exc}") from exc
        themes.append(theme_from_data(data, str(path)))
    return themes
