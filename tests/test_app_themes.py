"""Pilot tests of the colour theme: the configured one applies at start, problems notify
instead of crashing, and a theme picked at run time is saved to the config file."""

from __future__ import annotations

import os
import stat

import pytest

from tests.test_app_support import SIZE, make_app, make_services, wait_until
from tui.core.config import load_settings
from tui.core.paths import config_dir, config_file_path


@pytest.fixture
async def services(tmp_path, fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    yield services
    await services.aclose()


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_configured_bundled_theme_is_active_after_start(services):
    services.settings.theme = "paper"
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "paper"
        assert app.current_theme.dark is False and app.current_theme.primary == "#2f5d9a"
        assert messages(app) == []
    assert not config_file_path().exists()  # applying the configured theme saves nothing


async def test_an_unknown_theme_notifies_and_falls_back(services):
    services.settings.theme = "no-such-theme"
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        assert any("no-such-theme" in m and "textual-dark" in m for m in messages(app))
    assert not config_file_path().exists()  # the fallback never overwrites the choice


async def test_a_bad_theme_file_notifies_with_the_file_and_reason(services):
    folder = config_dir() / "themes"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text('name = "broken"\n', encoding="utf-8")
    (folder / "mine.toml").write_text('name = "mine"\nprimary = "#123456"\n', encoding="utf-8")
    services.settings.theme = "mine"
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "mine"  # a good user theme still loads next to a bad one
        assert "broken" not in app.available_themes
        assert any("broken.toml" in m and "primary" in m for m in messages(app))


async def test_a_theme_changed_at_run_time_is_saved(services):
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark" and not config_file_path().exists()
        app.theme = "paper"
        await wait_until(pilot, config_file_path().exists, what="the config file")
        saved = load_settings(env={})
        assert saved.theme == "paper" and services.settings.theme == "paper"
        assert stat.S_IMODE(os.stat(saved.config_path).st_mode) == 0o600
        app.theme = "terminal-night"
        await pilot.pause()
        assert load_settings(env={}).theme == "terminal-night"
        assert messages(app) == []


async def test_a_failed_save_notifies(services):
    app = make_app(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        config_file_path().parent.mkdir(parents=True, exist_ok=True)
        config_file_path().write_text("theme = \n", encoding="utf-8")
        app.theme = "paper"
        await wait_until(pilot, lambda: messages(app), what="a notification")
        assert any("paper" in m and "Could not save" in m for m in messages(app))
        assert app.theme == "paper"  # the theme still changes for this session


async def test_a_config_file_others_can_read_is_said_on_screen(tmp_path, fake_openai):
    """The warning went to stderr before the app took the screen, so it was seen only
    after quitting (found by an outside sweep: "shows only on ask")."""
    path = config_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('model = "gpt-4o-mini"\n', encoding="utf-8")
    os.chmod(path, 0o644)
    services = make_services(tmp_path, fake_openai.base_url)
    try:
        app = make_app(services)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_until(pilot, lambda: messages(app), what="a notification")
            assert any("readable by other users" in text and "chmod 600" in text
                       for text in messages(app)), messages(app)
    finally:
        await services.aclose()
