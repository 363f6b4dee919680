"""Request parameters: validation with reasons, config defaults, and every one on the wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tui.core.chat import ChatFlow, collect
from tui.core.client import ChatClient
from tui.core.config import ConfigError, load_settings, read_config_file, save_settings
from tui.core.models import Strategy
from tui.core.params import (
    ParamError,
    check_extra_params,
    check_max_tokens,
    check_settings,
    check_temperature,
    check_top_p,
    format_param_value,
    parse_optional_number,
    parse_param_pair,
    parse_param_value,
)
from tui.core.session import NewConversation, new_conversation_spec
from tui.core.store import Store
from tui.core.tokens import TokenCounter


# -- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("check, value, reason", [
    (check_temperature, 2.5, "between 0 and 2"),
    (check_temperature, -0.1, "between 0 and 2"),
    (check_temperature, "hot", "must be a number"),
    (check_temperature, float("nan"), "finite"),
    (check_top_p, 1.01, "between 0 and 1"),
    (check_top_p, True, "must be a number"),
    (check_max_tokens, 0, "positive whole number"),
    (check_max_tokens, -5, "positive whole number"),
    (check_max_tokens, 1.5, "positive whole number"),
])
def test_out_of_range_values_are_refused_with_the_reason(check, value, reason):
    with pytest.raises(ParamError, match=reason):
        check(value)


def test_valid_values_pass_and_none_means_the_server_decides():
    assert check_temperature(0) == 0.0 and check_temperature(2) == 2.0
    assert check_top_p(1) == 1.0 and check_top_p(None) is None
    assert check_max_tokens(256) == 256 and check_max_tokens(256.0) == 256
    assert check_max_tokens(None) is None


@pytest.mark.parametrize("values, reason", [
    ({"top_k": [1, 2]}, "string, a number or true/false"),
    ({"top_k": None}, "string, a number or true/false"),
    ({"top_k": {"a": 1}}, "string, a number or true/false"),
    ({"temperature": 1}, "clashes"),
    ({"max_tokens": 1}, "clashes"),
    ({"response_format": "json"}, "clashes"),
    ({"stream": False}, "clashes"),
    ({"two words": 1}, "one word"),
    ({"": 1}, "needs a name"),
])
def test_extra_params_must_be_scalars_with_free_names(values, reason):
    with pytest.raises(ParamError, match=reason):
        check_extra_params(values)


def test_typed_values_read_as_json_scalars_or_words():
    assert parse_param_value("40") == 40
    assert parse_param_value("0.05") == 0.05
    assert parse_param_value("true") is True
    assert parse_param_value("greedy") == "greedy"
    assert parse_param_value('"40"') == "40"
    assert parse_param_pair("top_k=40") == ("top_k", 40)
    for value in (40, 0.05, True, "greedy", "40"):
        assert parse_param_value(format_param_value(value)) == value
    with pytest.raises(ParamError, match="NAME=VALUE"):
        parse_param_pair("top_k")
    with pytest.raises(ParamError, match="string, a number"):
        parse_param_value("[1]")
    assert parse_optional_number("", check_temperature, "temperature") is None
    with pytest.raises(ParamError, match="must be a number"):
        parse_optional_number("warm", check_temperature, "temperature")


def test_check_settings_names_the_bad_setting():
    with pytest.raises(ParamError, match="strategy must be one of"):
        check_settings({"strategy": "forget"})
    with pytest.raises(ParamError, match="unknown setting"):
        check_settings({"colour": "red"})
    assert check_settings({"strategy": "off"}) == {"strategy": Strategy.OFF}


# -- the config file ------------------------------------------------------------------------

CONFIG_WITH_COMMENTS = """\
# My gpt-tui settings
model = "gpt-4o"  # the everyday model

# Sampling
temperature = 0.3

[extra_params]
# llama.cpp knobs
top_k = 40
"""


def test_config_defaults_for_every_parameter(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('system_prompt = "Be brief."\ntemperature = 0.2\ntop_p = 0.9\n'
                    'max_tokens = 300\njson_output = true\ncontext_window = "16k"\n'
                    '[extra_params]\ntop_k = 40\nmin_p = 0.05\n', encoding="utf-8")
    settings = load_settings(env={}, path=path)
    spec = new_conversation_spec(settings)
    assert spec == NewConversation(model=settings.model, system_prompt="Be brief.",
                                   temperature=0.2, top_p=0.9, max_output_tokens=300,
                                   context_window=16384, json_output=True,
                                   extra_params={"top_k": 40, "min_p": 0.05})


@pytest.mark.parametrize("text, fragment", [
    ("temperature = 3\n", "'temperature': temperature must be between 0 and 2"),
    ("top_p = -1\n", "'top_p': top_p must be between 0 and 1"),
    ("max_tokens = 0\n", "'max_tokens': max tokens must be a positive"),
    ("[extra_params]\nmodel = 'x'\n", "clashes"),
    ("[extra_params]\ntop_k = [1]\n", "string, a number or true/false"),
    ("context_window = \"big\"\n", "'context_window' must be a positive number"),
])
def test_bad_defaults_in_the_config_are_one_line_errors(tmp_path: Path, text, fragment):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="config.toml") as caught:
        load_settings(env={}, path=path)
    assert fragment in str(caught.value)


def test_saving_keeps_the_users_comments_and_order(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_WITH_COMMENTS, encoding="utf-8")
    save_settings({"temperature": 0.7, "theme": "nord",
                   "extra_params": {"top_k": 20, "min_p": 0.1}}, path)
    text = path.read_text(encoding="utf-8")
    for comment in ("# My gpt-tui settings", "# the everyday model", "# Sampling",
                    "# llama.cpp knobs"):
        assert comment in text
    assert text.index("model =") < text.index("temperature =") < text.index("[extra_params]")
    assert "temperature = 0.7" in text
    values = read_config_file(path)
    assert values["extra_params"] == {"top_k": 20, "min_p": 0.1}
    assert values["theme"] == "nord"
    save_settings({"temperature": None}, path)
    assert "temperature" not in read_config_file(path)
    assert "# My gpt-tui settings" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("updates, fragment", [
    ({"system_prompt": "half a surrogate \ud800"}, "cannot be written safely"),
    ({"temperature": 9}, "between 0 and 2"),
    ({"extra_params": {"top_k": [1, 2]}}, "string, a number or true/false"),
])
def test_a_value_that_cannot_be_written_safely_is_refused_and_the_file_kept(
        tmp_path: Path, updates, fragment):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_WITH_COMMENTS, encoding="utf-8")
    with pytest.raises(ConfigError, match="not saved") as caught:
        save_settings(updates, path)
    assert fragment in str(caught.value)
    assert path.read_text(encoding="utf-8") == CONFIG_WITH_COMMENTS
    assert not list(tmp_path.glob("*.tmp"))


def test_a_broken_file_is_never_overwritten(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text("model = \n# notes\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        save_settings({"theme": "nord"}, path)
    assert path.read_text(encoding="utf-8") == "model = \n# notes\n"


# -- on the wire ----------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "chat.db") as store:
        yield store


async def _flow(store: Store, fake_openai, settings_text: str = "", tmp_path: Path | None = None):
    path = (tmp_path or Path(store.path).parent) / "config.toml"
    path.write_text(settings_text, encoding="utf-8")
    settings = load_settings(env={}, path=path, flags={"model": "gpt-4o",
                                                       "base_url": fake_openai.base_url})
    client = ChatClient(base_url=fake_openai.base_url, api_key=None)
    return ChatFlow(store, client, TokenCounter("gpt-4o"), settings), client


async def test_a_conversations_stored_parameters_reach_the_request(store, fake_openai):
    flow, client = await _flow(store, fake_openai)
    try:
        conversation = flow.new_conversation()
        store.update_conversation(conversation.id, temperature=0.4, top_p=0.8,
                                  max_output_tokens=123, json_output=True,
                                  extra_params={"top_k": 40, "min_p": 0.05, "mirostat": True})
        fake_openai.script(Script.reply('{"ok": true}'))
        await collect(flow.send(conversation.id, "Answer in JSON"))
    finally:
        await client.aclose()
    body = fake_openai.chat_requests()[-1]
    assert body["temperature"] == 0.4 and body["top_p"] == 0.8 and body["max_tokens"] == 123
    assert body["response_format"] == {"type": "json_object"}
    assert (body["top_k"], body["min_p"], body["mirostat"]) == (40, 0.05, True)
    assert body["stream_options"] == {"include_usage": True}
    reread = store.get_conversation(conversation.id)
    assert reread.extra_params == {"top_k": 40, "min_p": 0.05, "mirostat": True}
    assert reread.json_output is True


async def test_unset_parameters_are_not_sent(store, fake_openai):
    flow, client = await _flow(store, fake_openai)
    try:
        fake_openai.script(Script.reply("ok"))
        await collect(flow.send(flow.new_conversation().id, "hi"))
    finally:
        await client.aclose()
    body = fake_openai.chat_requests()[-1]
    for name in ("temperature", "top_p", "max_tokens", "response_format", "top_k"):
        assert name not in body


async def test_config_defaults_reach_a_new_chats_request(store, fake_openai, tmp_path):
    flow, client = await _flow(store, fake_openai, 'system_prompt = "Talk like a pirate."\n'
                               'temperature = 1.1\ntop_p = 0.5\nmax_tokens = 77\n'
                               'json_output = true\n[extra_params]\ntop_k = 7\n', tmp_path)
    try:
        fake_openai.script(Script.reply("{}"))
        spec = new_conversation_spec(flow.settings)
        await collect(flow.send(spec, "JSON please"))
    finally:
        await client.aclose()
    body = fake_openai.chat_requests()[-1]
    assert body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == \
        (1.1, 0.5, 77, 7)
    assert body["response_format"] == {"type": "json_object"}
    stored = store.latest_conversation()
    assert stored is not None and stored.temperature == 1.1 and stored.extra_params == {"top_k": 7}


def test_a_damaged_extra_params_value_reads_as_none(store):
    conversation = store.create_conversation(model="m", extra_params={"top_k": 1})
    store.conn.execute("UPDATE conversations SET extra_params = 'not json' WHERE id = ?",
                       (conversation.id,))
    assert store.get_conversation(conversation.id).extra_params == {}


def test_chats_from_before_the_parameters_read_with_none_set(tmp_path: Path):
    from tests.test_migrations import _old_file

    path = tmp_path / "old.db"
    cid, mid = _old_file(path, 5)
    with Store(path) as store:
        old = store.get_conversation(cid)
        assert (old.json_output, old.extra_params, old.temperature) == (False, {}, None)
        reply = store.get_message(mid)
        assert (reply.cached_tokens, reply.first_token_ms, reply.server) == (None, None, None)
        store.update_conversation(cid, extra_params={"top_k": 3})
        assert store.get_conversation(cid).extra_params == {"top_k": 3}
