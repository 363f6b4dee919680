"""Colour themes from TOML files: the bundled ``themes/`` folder and the user's own.

A bad file is skipped with a reason instead of stopping the app: a theme is never worth a
crash at start-up.
"""

from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.theme import Theme

from tui.core.paths import config_dir

_COLOURS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground",
            "background", "surface", "panel", "boost")


@dataclass
class ThemeProblem:
    path: str
    reason: str


def theme_from_toml(text: str) -> Theme:
    """Parse one theme file; raises ValueError with the reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML: {exc}") from None
    name, primary = data.get("name"), data.get("primary")
    if not isinstance(name, str) or not name:
        raise ValueError("'name' must be a non-empty string")
    if not isinstance(primary, str):
        raise ValueError("'primary' must be a colour string")
    colours = {key: data[key] for key in _COLOURS if key in data}
    for key, value in colours.items():
        if not isinstance(value, str):
            raise ValueError(f"'{key}' must be a colour string")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError("'variables' must be a table")
    return Theme(name=name, dark=bool(data.get("dark", True)),
                 variables={str(k): str(v) for k, v in variables.items()}, **colours)


def _bundled_files() -> list[tuple[str, str]]:
    """The bundled theme files, read from the package's folder when it is one: going
    through importlib.resources imports zipfile (~10 ms, before the first frame) for
    nothing. A zipped install still reads them through importlib.resources."""
    try:
        spec = importlib.util.find_spec("tui.themes")
    except ModuleNotFoundError:
        return []
    if spec is None:
        return []
    for location in spec.submodule_search_locations or ():
        folder = Path(location)
        if folder.is_dir():
            return sorted((path.name, path.read_text(encoding="utf-8"))
                          for path in folder.glob("*.toml"))
    from importlib import resources

    package = resources.files("tui.themes")
    return sorted((entry.name, entry.read_text(encoding="utf-8"))
                  for entry in package.iterdir() if entry.name.endswith(".toml"))


def _user_files(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(folder.glob("*.toml")):
        try:
            found.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            found.append((str(path), f"\x00{exc}"))
    return found


def load_themes(user_folder: Path | None = None) -> tuple[list[Theme], list[ThemeProblem]]:
    """Bundled themes first, then the user's (which may replace a bundled one by name)."""
    themes: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    folder = user_folder if user_folder is not None else config_dir() / "themes"
    for origin, text in [*_bundled_files(), *_user_files(folder)]:
        try:
            if text.startswith("\x00"):
                raise ValueError(text[1:])
            theme = theme_from_toml(text)
        except ValueError as exc:
            problems.append(ThemeProblem(origin, str(exc)))
            continue
        themes[theme.name] = theme
    return list(themes.values()), problems
