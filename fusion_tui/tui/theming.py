"""Themes are data: YAML files, each one `textual.theme.Theme`'s fields plus `code_theme`
(the Pygments style of code blocks in markdown).

The package ships its own (the repository's top-level `themes/`, packaged into the wheel as
`fusion_tui/themes/`); a user's own files are added from
`$XDG_CONFIG_HOME/fusion-tui/themes/`, then from a `themes/` folder next to the config file in
use; a later file replaces an earlier theme of the same name. A broken user file is reported,
never fatal. The chosen theme is remembered in `$XDG_STATE_HOME/fusion-tui/ui.json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from rich.style import Style
from rich.theme import Theme as RichTheme
from textual.color import Color, ColorParseError
from textual.theme import Theme

from fusion_tui.config import paths


def _shipped_themes_dir() -> Path:
    # A wheel carries them inside the package; a source checkout (editable install) has them
    # at the repository root.
    package = Path(__file__).resolve().parents[1]
    packaged = package / "themes"
    return packaged if packaged.is_dir() else package.parent / "themes"


THEMES_DIR = _shipped_themes_dir()
"""The themes shipped with the package."""

DEFAULT_THEME = "fusion-dark"

DARK_CODE_THEME = "monokai"
LIGHT_CODE_THEME = "default"
"""Code-block styles of a theme that names none, by its `dark`."""


@dataclass
class FusionTheme(Theme):
    """A Textual theme with the Pygments style its markdown code blocks use."""

    code_theme: str | None = None
    """A Pygments style name (None: `DARK_CODE_THEME` or `LIGHT_CODE_THEME`)."""


_FIELDS = {f.name for f in fields(FusionTheme)}


class ThemeError(Exception):
    """A theme file cannot be used; the message names the file and the problem."""


def user_themes_dir() -> Path:
    """Where a user's own theme files are picked up (`themes/` in the user's config folder)."""
    return paths.config_dir() / "themes"


def state_file() -> Path:
    """Where the dashboard remembers choices between runs (the theme)."""
    return paths.state_dir() / "ui.json"


def theme_from_data(data: Any, source: str) -> Theme:
    """Build a Theme from parsed YAML; unknown keys are errors, not ignored."""
    if not isinstance(data, dict):
        raise ThemeError(f"{source}: expected a mapping")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeError(f"{source}: unknown keys: {', '.join(unknown)}")
    if "name" not in data or "primary" not in data:
        raise ThemeError(f"{source}: 'name' and 'primary' are required")
    code = data.get("code_theme")
    if code is not None:
        try:
            get_style_by_name(str(code))
        except ClassNotFound:
            raise ThemeError(f"{source}: code_theme: no Pygments style {code!r}") from None
    try:
        return FusionTheme(**data)
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


def config_themes_dir(config_file: Path | None) -> Path | None:
    """The `themes/` folder next to the config file in use (None without one)."""
    return None if config_file is None else config_file.expanduser().parent / "themes"


def theme_folders(user: Path | None = None,
                  config_file: Path | None = None) -> list[Path]:
    """Where user themes are looked for, weakest first: `user` (default
    `user_themes_dir()`), then the `themes/` folder next to `config_file`."""
    folders = [user_themes_dir() if user is None else user]
    beside = config_themes_dir(config_file)
    if beside is not None and beside.resolve() != folders[0].resolve():
        folders.append(beside)
    return folders


def discover(shipped: Path = THEMES_DIR, user: Path | None = None,
             config_file: Path | None = None) -> ThemeSet:
    """Shipped themes, then the user's (`theme_folders`), a later file replacing a theme of
    the same name; a broken user file is an entry in `errors`."""
    found = ThemeSet(load_themes(shipped))
    for folder in theme_folders(user, config_file):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                found.errors.append(str(exc))
                continue
            found.themes = [t for t in found.themes if t.name != theme.name] + [theme]
    return found


def code_theme(theme: Theme) -> str:
    """The Pygments style of `theme`'s code blocks."""
    named = getattr(theme, "code_theme", None)
    return named or (DARK_CODE_THEME if theme.dark else LIGHT_CODE_THEME)


def _colour(variables: Mapping[str, str], name: str, background: Color) -> Color | None:
    try:
        colour = Color.parse(variables[name])
    except (KeyError, ColorParseError):  # "auto 87%" and the like: not a colour by itself
        return None
    return background + colour if colour.a < 1 else colour


def markdown_styles(variables: Mapping[str, str]) -> RichTheme:
    """Rich's markdown styles (inline code, quotes, links, headings, bullets, rules, tables)
    from a Textual theme's CSS variables (`App.theme_variables`), in place of Rich's fixed
    colours (inline code cyan on black, quotes magenta), which ignore the theme."""
    background = _colour(variables, "background", Color(0, 0, 0)) or Color(0, 0, 0)

    def style(fg: str | None = None, bg: str | None = None, *, bold: bool = False,
              italic: bool = False, underline: bool = False) -> Style:
        colour = _colour(variables, fg, background) if fg else None
        fill = _colour(variables, bg, background) if bg else None
        # None, not False: False would switch the attribute off in what the style wraps
        return Style(color=colour.rich_color if colour else None,
                     bgcolor=fill.rich_color if fill else None, bold=bold or None,
                     italic=italic or None, underline=underline or None)

    styles = {
        "markdown.code": style("text-accent", "panel", bold=True),
        "markdown.code_block": style("foreground", "panel"),
        "markdown.block_quote": style("text-secondary", italic=True),
        "markdown.list": style("foreground"),
        "markdown.item.bullet": style("accent", bold=True),
        "markdown.item.number": style("accent"),
        "markdown.hr": style("foreground-muted"),
        "markdown.h1.border": style("primary"),
        "markdown.link": style("text-primary"),
        "markdown.link_url": style("primary", underline=True),
        "markdown.table.border": style("foreground-muted"),
        "markdown.table.header": style("primary", bold=True),
        "markdown.kbd": style("text-warning", bold=True),
    }
    for level in range(1, 7):
        flags = str(variables.get(f"markdown-h{level}-text-style", "bold")).split()
        styles[f"markdown.h{level}"] = style(
            f"markdown-h{level}-color", bold="bold" in flags, italic="italic" in flags,
            underline="underline" in flags)
    return RichTheme(styles, inherit=True)


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
