"""The built-in default model against a server that does not serve it (a new user's first
run against Ollama, llama.cpp, vLLM or LM Studio with no model configured)."""

from __future__ import annotations

from tests.fake_openai import FakeOpenAI
from tests.test_app_support import SIZE, answer_setup, make_app, make_services, wait_until
from tui.core.config import DEFAULT_MODEL, Settings
from tui.core.served_model import adopt_served, unserved_default
from tui.ui.widgets.setup_panel import SetupPanel


def default_settings(**fields) -> Settings:
    settings = Settings(**fields)
    assert settings.model == DEFAULT_MODEL and settings.model_source == "default"
    return settings


def test_only_the_built_in_default_is_replaced_and_only_by_a_sole_model() -> None:
    settings = default_settings()
    assert unserved_default(settings, [DEFAULT_MODEL, "other"]) is None  # it is served
    assert unserved_default(settings, []) is None  # nothing to go by
    several = unserved_default(settings, ["llama3.2", "qwen2.5", "llama3.2"])
    assert several is not None and several.only is None
    assert several.served == ("llama3.2", "qwen2.5")
    assert "press F3 to pick one of its 2 models" in several.notice()
    assert not adopt_served(settings, several) and settings.model == DEFAULT_MODEL
    sole = unserved_default(settings, ["tiny-llama"])
    assert sole is not None and sole.only == "tiny-llama"
    assert adopt_served(settings, sole)
    assert (settings.model, settings.model_source) == ("tiny-llama", "server")
    assert "Using tiny-llama, this server's only model" in sole.notice()
    assert unserved_default(settings, ["tiny-llama"]) is None  # nothing left to do
    for source in ("config", "env", "flag"):  # a model the user named is theirs
        named = Settings(model="gpt-4o-mini", model_source=source)
        assert unserved_default(named, ["tiny-llama"]) is None


async def test_a_new_users_first_message_goes_to_the_servers_only_model(tmp_path):
    """It went to gpt-4o-mini, which a server that knows only its own model refuses."""
    with FakeOpenAI(models=["tiny-llama"], known_models=["tiny-llama"]) as server:
        services = make_services(tmp_path, server.base_url)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                await wait_until(pilot, lambda: app.main.new_chat is not None
                                 and app.main.new_chat.model == "tiny-llama"
                                 and any("Using tiny-llama" in n.message
                                         for n in app._notifications),
                                 what="the server's model on the new chat, and why")
                composer = app.main.composer
                app.main.set_focus(composer)
                composer.insert("hello there")
                await pilot.press("enter")
                await wait_until(pilot, lambda: server.chat_log() and not app.main.replies,
                                 what="the reply")
                assert [r.body["model"] for r in server.chat_log()] == ["tiny-llama"]
                assert app.main.conversation.model == "tiny-llama"
                assert services.store.get_conversation(app.main.conversation.id).model \
                    == "tiny-llama"
        finally:
            await services.aclose()


async def test_among_several_models_the_user_is_asked_to_pick(tmp_path):
    with FakeOpenAI(models=["llama3.2", "qwen2.5"]) as server:
        services = make_services(tmp_path, server.base_url)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                await wait_until(pilot, lambda: any(
                    "not on this server" in n.message for n in app._notifications),
                    what="the notice")
                assert app.main.new_chat.model == DEFAULT_MODEL  # not guessed
        finally:
            await services.aclose()


async def test_a_model_the_user_named_is_left_alone(tmp_path):
    with FakeOpenAI(models=["tiny-llama"]) as server:
        services = make_services(tmp_path, server.base_url, model="my-model")
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                await wait_until(pilot, lambda: app.main.new_chat is not None, what="chat")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert app.main.new_chat.model == "my-model"
                assert not any("server" in n.message for n in app._notifications)
        finally:
            await services.aclose()


async def test_after_the_first_run_set_up_the_servers_model_is_used(tmp_path, isolated_env):
    with FakeOpenAI(models=["tiny-llama"], known_models=["tiny-llama"]) as server:
        services = make_services(tmp_path, None)
        app = make_app(services)
        try:
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                assert app.main.query(SetupPanel)
                await answer_setup(pilot, server.base_url)
                await wait_until(pilot, lambda: app.main.new_chat is not None
                                 and app.main.new_chat.model == "tiny-llama",
                                 what="the server's model after the set-up")
        finally:
            await services.aclose()
