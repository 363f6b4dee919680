"""Theme files: bundled ones load, user ones add or replace, bad ones are skipped with a reason."""

from __future__ import annotations

from pathlib import Path

from tui.ui.theme_files import load_themes


def test_bundled_themes_load_without_problems(tmp_path: Path):
    themes, problems = load_themes(tmp_path)
    names = {theme.name for theme in themes}
    assert {"terminal-night", "paper"} <= names
    assert problems == []
    paper = next(t for t in themes if t.name == "paper")
    assert paper.dark is False and paper.primary == "#2f5d9a"


def test_user_theme_replaces_by_name_and_bad_files_are_reported(tmp_path: Path):
    (tmp_path / "mine.toml").write_text('name = "paper"\nprimary = "#ff0000"\ndark = false\n')
    (tmp_path / "broken.toml").write_text('name = "x"\n')
    (tmp_path / "garbage.toml").write_text("name = \n")
    themes, problems = load_themes(tmp_path)
    paper = [t for t in themes if t.name == "paper"]
    assert len(paper) == 1 and paper[0].primary == "#ff0000"
    reasons = {Path(p.path).name: p.reason for p in problems}
    assert "primary" in reasons["broken.toml"]
    assert "invalid TOML" in reasons["garbage.toml"]
