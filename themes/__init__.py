"""Bundled colour themes (TOML files), installed as the tui.themes package."""
