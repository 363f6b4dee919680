"""--model: the chat the app opens on and every new chat of the session use the flag's model;
without it, new chats use the configured default, which the model picker can change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core.chat import AssistantFinished, collect
from tui.core.config import ConfigError, load_settings, save_default_model
from tui.core.services import open_services
from tui.core.session import NewConversation, conversation_to_open, new_conversation_spec
from tui.core.store import Store


def settings_with(tmp_path: Path, *, flag: str | None = None, env: dict | None = None,
                  config: str = ""):
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    return load_settings(flags={"model": flag}, env=env or {}, path=path)


def test_where_the_model_came_from(tmp_path: Path) -> None:
    assert settings_with(tmp_path).model_source == "default"
    assert settings_with(tmp_path, config='model = "a"\n').model_source == "config"
    env = settings_with(tmp_path, config='model = "a"\n', env={"GPT_TUI_MODEL": "b"})
    assert (env.model, env.model_source, env.model_from_flag) == ("b", "env", False)
    flag = settings_with(tmp_path, flag="c", config='model = "a"\n', env={"GPT_TUI_MODEL": "b"})
    assert (flag.model, flag.model_source, flag.model_from_flag) == ("c", "flag", True)


def test_without_the_flag_the_latest_conversation_reopens_as_it_is(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, config='model = "configured"\n')
    with Store(tmp_path / "chat.db") as store:
        assert conversation_to_open(store, settings) == NewConversation(model="configured")
        old = store.create_conversation(model="older-model")
        opened = conversation_to_open(store, settings)
        assert opened.id == old.id and opened.model == "older-model"
        assert new_conversation_spec(settings).model == "configured"


def test_the_flag_switches_an_empty_latest_chat(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, flag="llama3.1:8b")
    with Store(tmp_path / "chat.db") as store:
        empty = store.create_conversation(model="gpt-4o-mini")
        opened = conversation_to_open(store, settings)
        assert opened.id == empty.id
        assert store.get_conversation(empty.id).model == "llama3.1:8b"


def test_the_flag_opens_a_new_chat_rather_than_a_used_one(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, flag="llama3.1:8b")
    with Store(tmp_path / "chat.db") as store:
        used = store.create_conversation(model="gpt-4o-mini")
        store.append_message(used.id, "user", "hi")
        opened = conversation_to_open(store, settings)
        assert opened == NewConversation(model="llama3.1:8b")
        assert store.get_conversation(used.id).model == "gpt-4o-mini"
        assert store.count_conversations() == 1  # the new chat is not stored yet


async def test_gpt_tui_model_x_talks_to_x(tmp_path: Path, fake_openai) -> None:
    """The README's headline: gpt-tui --model X, with a used conversation from before."""
    db = tmp_path / "chat.db"
    with Store(db) as store:
        before = store.create_conversation(model="gpt-4o-mini")
        store.append_message(before.id, "user", "an old question")
    services = open_services(db_path=db, flags={"model": "gpt-4.1",
                                                "base_url": fake_openai.base_url},
                             load_encoding=False)
    try:
        opened = conversation_to_open(services.store, services.settings)
        fake_openai.script(Script.reply("hello"), Script.reply("again"))
        events = await collect(services.flow.send(opened, "hi"))
        assert isinstance(events[-1], AssistantFinished)
        # Every new chat of the session too.
        spec = new_conversation_spec(services.settings)
        await collect(services.flow.send(spec, "a second chat"))
    finally:
        await services.aclose()
    assert [r["model"] for r in fake_openai.chat_requests()] == ["gpt-4.1", "gpt-4.1"]


def test_the_picker_can_make_its_pick_the_default(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, flag="session-model", config='theme = "nord"\n')
    path = save_default_model(settings, "new-default")
    assert (settings.model, settings.model_source) == ("new-default", "config")
    text = path.read_text(encoding="utf-8")
    assert 'model = "new-default"' in text and 'theme = "nord"' in text
    again = load_settings(flags={}, env={}, path=path)
    assert new_conversation_spec(again).model == "new-default"
    with pytest.raises(ConfigError):
        save_default_model(settings, "  ")
