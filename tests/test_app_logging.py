"""The log file: tracebacks of survived errors, never a secret."""

from __future__ import annotations

import logging
import stat

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, wait_until
from tui.core.logs import log_file_path, protect, redact, reset_logging, setup_logging
from tui.ui.app import exit_status

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "logs" / "gpt-tui.log"
    yield path
    reset_logging()


def test_the_log_lives_in_the_platform_log_folder(isolated_env):
    assert log_file_path().name == "gpt-tui.log"
    assert "gpt-tui" in str(log_file_path().parent)


def test_secrets_never_reach_the_log(log_file):
    protect(KEY)
    assert setup_logging(path=log_file) == log_file
    log = logging.getLogger("tui.ui.test")
    try:
        raise RuntimeError(f"request to https://user:hunter2@example.com/v1?api_key={KEY} "
                           f"failed with key {KEY}")
    except RuntimeError:
        log.exception("reply stream failed")
    text = log_file.read_text()
    assert "reply stream failed" in text and "Traceback" in text  # the traceback is kept
    assert KEY not in text and "hunter2" not in text
    assert "https://***@example.com/v1?api_key=***" in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700


def test_debug_logs_more(log_file):
    setup_logging(path=log_file)
    logging.getLogger("tui.x").debug("quiet detail")
    setup_logging(debug=True, path=log_file)
    logging.getLogger("tui.x").debug("loud detail")
    text = log_file.read_text()
    assert "quiet detail" not in text and "loud detail" in text


def test_redact_leaves_plain_text_alone():
    assert redact("no secrets at http://localhost:11434/v1 here") == (
        "no secrets at http://localhost:11434/v1 here")


async def test_a_survived_store_error_is_logged_with_its_traceback(tmp_path, log_file,
                                                                   fake_openai):
    services = make_services(tmp_path, fake_openai.base_url)
    services.settings.api_key = KEY
    protect(services.settings.api_key)
    setup_logging(path=log_file)
    fake_openai.script(Script.reply("first reply"))
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("ctrl+n")
            app.main.composer.insert("hello")  # a new chat is stored with its first message
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.main.conversation is not None
                             and not app.main.streams, what="the first reply")
            # The chat vanishes underneath: the flow fails inside the worker; the app lives.
            services.store.delete_conversation(app.main.conversation.id)
            app.main.composer.insert(f"my key is {KEY}")
            await pilot.press("enter")
            await wait_until(pilot, lambda: not app.main.streams, what="the failure")
            await wait_until(pilot, lambda: log_file.exists() and "Traceback" in
                             log_file.read_text(), what="logged")
    finally:
        await services.aclose()
    assert KEY not in log_file.read_text()


class Boom(Exception):
    pass


async def test_an_error_that_ends_the_app_is_logged_and_exits_1(tmp_path, log_file,
                                                                 fake_openai):
    """Textual prints such an error on the terminal as the app ends, where it scrolls away;
    the process exited 0. The log keeps the traceback; the exit status is 1."""
    services = make_services(tmp_path, fake_openai.base_url)
    setup_logging(path=log_file)
    app = make_app(services)

    def fail() -> None:
        raise Boom("an error nothing caught")

    try:
        with pytest.raises(Boom):
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                app.call_later(fail)
                await pilot.pause()
    finally:
        await services.aclose()
    text = log_file.read_text()
    assert "the app stopped on an unexpected error" in text
    assert "Traceback" in text and "an error nothing caught" in text
    assert exit_status(None, app.return_code) == 1


def test_exit_status_keeps_the_apps_own_and_is_0_otherwise():
    assert exit_status(130, 0) == 130 and exit_status(143, None) == 143
    assert exit_status(None, 0) == 0 and exit_status(None, None) == 0
