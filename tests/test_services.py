"""Wiring: which key reaches which server, and start-up without any configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core.chat import collect
from tui.core.services import needs_setup, open_services


async def _send_one(services, fake_openai) -> dict[str, str]:
    fake_openai.script(Script.reply("ok"))
    conversation = services.flow.new_conversation()
    await collect(services.flow.send(conversation.id, "hi"))
    return fake_openai.requests[-1].headers


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "s.db"


async def test_key_and_base_url_from_the_environment_belong_together(db, fake_openai,
                                                                     monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-or-secret")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    services = open_services(db_path=db, load_encoding=False)
    try:
        headers = await _send_one(services, fake_openai)
    finally:
        await services.aclose()
    assert headers["authorization"] == "Bearer sk-or-secret"


async def test_openai_key_is_not_sent_to_a_server_given_on_the_command_line(db, fake_openai,
                                                                            monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    services = open_services(db_path=db, flags={"base_url": fake_openai.base_url},
                             load_encoding=False)
    try:
        headers = await _send_one(services, fake_openai)
    finally:
        await services.aclose()
    assert "sk-openai-secret" not in headers["authorization"]


def test_nothing_configured_needs_setup_but_opens(db):
    services = open_services(db_path=db, load_encoding=False)
    try:
        assert needs_setup(services.settings)
        assert services.store.list_conversations() == []
    finally:
        services.close()
