"""The log file: where it is, what it keeps, and the secrets it never holds."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path


from tests.fake_openai.scripts import Script
from tui.core import logs
from tui.core.chat import FlowFailed, collect
from tui.core.config import load_settings
from tui.core.logs import RedactingFilter, reset_logging, setup_logging
from tui.core.paths import log_file_path
from tui.core.services import open_services

KEY = "sk-proj-Zq8cT1vS0meTh1ngSecret"


def test_the_log_lives_in_the_platform_log_folder(isolated_env: Path) -> None:
    path = setup_logging()
    assert path == log_file_path()
    assert path.is_relative_to(isolated_env / "state")
    logging.getLogger("tui.test").info("hello from the test")
    assert "INFO tui.test" in path.read_text(encoding="utf-8")
    logging.getLogger("tui.test").debug("not without --debug")
    assert "not without" not in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_rotated_files_stay_private(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    path = setup_logging(path=tmp_path / "logs" / "gpt-tui.log")
    for n in range(200):
        logging.getLogger("tui.test").warning("line %d %s", n, "x" * 40)
    files = sorted(path.parent.iterdir())
    assert len(files) == 1 + logs.BACKUPS
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_filter_hides_registered_secrets_and_key_shapes() -> None:
    redacting = RedactingFilter(["hunter2-password"])
    args = (KEY, "https://bob:hunter2-password@h/v1", "Authorization: Bearer abc.def")
    record = logging.LogRecord("tui", logging.ERROR, __file__, 1, "sending %s to %s with %s",
                               args, None)
    try:
        raise RuntimeError(f"boom with api_key={KEY} and hunter2-password")
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    assert redacting.filter(record)
    text = logging.Formatter().format(record)
    for secret in (KEY, "Zq8cT1vS0meTh1ng", "hunter2-password", "abc.def"):
        assert secret not in text
    assert "RuntimeError: boom" in text and "https://***@h/v1" in text


async def test_no_secret_reaches_the_log_over_real_http(fake_openai, tmp_path: Path,
                                                         monkeypatch) -> None:
    """Settings register the key and URL credentials; --debug logs the HTTP request lines."""
    scheme, rest = fake_openai.base_url.split("://", 1)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scheme}://carol:pa55word-xyz@{rest}")
    path = setup_logging(debug=True)
    fake_openai.script(Script.invalid_api_key())
    services = open_services(db_path=tmp_path / "chat.db", load_encoding=False)
    try:
        conversation = services.flow.new_conversation()
        events = await collect(services.flow.send(conversation.id, f"my key is {KEY}"))
        assert isinstance(events[-1], FlowFailed)
        logging.getLogger("tui.test").error("settings were %r", services.settings)
        try:
            raise ValueError(f"{services.settings.api_key} at {services.settings.base_url}")
        except ValueError:
            logging.getLogger("tui.test").exception("a failure quoting everything")
    finally:
        await services.aclose()
    reset_logging()
    text = path.read_text(encoding="utf-8")
    assert "a failure quoting everything" in text and "ValueError" in text
    assert "***@127.0.0.1" in text
    assert "httpx2" in text  # the debug run includes the HTTP library's request lines
    for secret in (KEY, "Zq8cT1vS0meTh1ng", "pa55word-xyz"):
        assert secret not in text


def test_load_settings_registers_the_key_with_the_filter(tmp_path: Path) -> None:
    load_settings(env={"OPENAI_API_KEY": "plain-key-without-a-prefix"},
                  path=tmp_path / "none.toml")
    assert "plain-key-without-a-prefix" not in logs.redact("key plain-key-without-a-prefix")


def test_an_unusable_log_folder_means_no_log_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert setup_logging(path=blocker / "gpt-tui.log") is None


def test_the_basic_form_of_the_base_urls_credentials_is_hidden_too() -> None:
    """A server quoting back "Authorization: Basic <base64 of user:pass>" into a logged
    error: the base64 form went into the log as written."""
    import base64

    from tui.core import logs
    from tui.core.config import Settings, protect_secrets

    protect_secrets(Settings(base_url="http://someone:pa55word@host:8080/v1"))
    basic = base64.b64encode(b"someone:pa55word").decode()
    text = logs.redact(f"refused: Authorization: Basic {basic} for someone")
    assert basic not in text and basic.rstrip("=") not in text
