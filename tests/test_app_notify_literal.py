"""Notifications carry model names, titles and server errors: they are shown literally,
never read as Textual markup (a model named like ``[/oops]`` made the toast's markup
parser raise while rendering)."""

from __future__ import annotations

from textual.widgets._toast import Toast

from tests.test_app_support import SIZE, make_app, make_services


async def test_a_notification_with_markup_characters_shows_them_literally(tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        message = "No window was learned for [bold]m[/bold] [/oops] on this server"
        app.screen.notify(message)  # a screen's notify passes markup=True by default
        await pilot.pause()
        [notification] = [n for n in app._notifications if n.message == message]
        assert str(Toast(notification).render()) == message
    await services.aclose()
