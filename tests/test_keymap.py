"""The [keymap] table: read with its lines (core), checked and applied (UI): the keys work,
the help screen, footer and palette show them, and a bad entry is a message naming its line."""

from __future__ import annotations

import pytest

from tests.fake_openai.scripts import Script
from tests.test_app_support import SIZE, make_app, make_services, screen_text, wait_until
from tui.core.config import ConfigError, load_settings, save_settings
from tui.core.keymap_config import KeymapEntry
from tui.core.models import Role
from tui.core.paths import config_file_path
from tui.ui.keymap import check_keymap
from tui.ui.screens.help import HelpScreen

CONFIG = """theme = "textual-dark"

[keymap]
"chat.copy" = "alt+c"
chat.new = "alt+n"   # a dotted bare key works too
"chat.cpy" = "f7"
"chat.export" = "ctrl+kk"
"messages.copy" = "j"
"chat.pin" = "x"
"""


def write_config(text: str):
    path = config_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_entries_keep_their_lines_and_order():
    path = write_config(CONFIG)
    entries = load_settings(env={}).keymap
    assert [(e.binding_id, e.keys, e.where) for e in entries[:3]] == [
        ("chat.copy", "alt+c", f"{path}, line 4"), ("chat.new", "alt+n", f"{path}, line 5"),
        ("chat.cpy", "f7", f"{path}, line 6")]


def test_a_value_that_is_not_keys_is_a_config_error():
    write_config('[keymap]\n"chat.copy" = 5\n')
    with pytest.raises(ConfigError, match=r"'keymap.chat.copy' must be a string of keys"):
        load_settings(env={})


def test_saving_another_setting_keeps_the_keymap():
    write_config(CONFIG)
    save_settings({"theme": "nord"})
    assert {e.binding_id: e.keys for e in load_settings(env={}).keymap}["chat.new"] == "alt+n"


def test_unknown_ids_bad_keys_and_conflicts_are_reported_by_line():
    where = "config.toml, line {}".format
    check = check_keymap([
        KeymapEntry("chat.copy", "alt+c", where(1)),
        KeymapEntry("chat.cpy", "f7", where(2)),
        KeymapEntry("chat.export", "ctrl+kk", where(3)),
        KeymapEntry("messages.copy", "j", where(4)),  # messages.next's key
        KeymapEntry("chat.pin", "z", where(5)),  # a global key that is a typed character
        KeymapEntry("chat.rename", "alt+c", where(6)),  # chat.copy has it now
        KeymapEntry("messages.copy", "o", where(7)),
        KeymapEntry("list.rename", "alt+c", where(8)),  # global alt+c would take it
    ])
    assert check.keymap == {"chat.copy": "alt+c", "messages.copy": "o"}
    problems = "\n".join(check.problems)
    assert len(check.problems) == 6
    assert "line 2: unknown binding id 'chat.cpy' (did you mean 'chat.copy'?)" in problems
    assert "line 3: 'kk' is not a key name" in problems
    assert "line 4: j is already the key of 'messages.next'" in problems
    assert "line 5: z is a character you type" in problems
    assert "line 6: alt+c is already the key of 'chat.copy'" in problems
    assert "line 8: alt+c is already the key of 'chat.copy'" in problems


@pytest.fixture
async def services(tmp_path, fake_openai):
    write_config(CONFIG)
    services = make_services(tmp_path, fake_openai.base_url)
    conversation = services.store.create_conversation(model="gpt-4o-mini", title="Keys")
    services.store.append_message(conversation.id, Role.USER, "hi")
    services.store.append_message(conversation.id, Role.ASSISTANT, "the reply")
    yield services
    await services.aclose()


async def test_the_users_keys_work_and_show(services):
    app = make_app(services)
    async with app.run_test(size=(110, 80)) as pilot:
        await pilot.pause()
        problems = [n.message for n in app._notifications if n.title == "Keymap"]
        assert len(problems) == 4 and all("line" in p for p in problems)
        await pilot.press("ctrl+y")  # no longer the copy key
        assert app.clipboard == ""
        await pilot.press("alt+c")
        assert app.clipboard == "the reply"
        assert "alt+n New chat" in " ".join(screen_text(app).split())  # the footer
        palette = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert palette["New chat"] == "Key: Alt+n"
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        help_text = screen_text(app)
        assert "Alt+c" in help_text and "Alt+n" in help_text and "Ctrl+N" not in help_text


async def test_send_and_newline_can_trade_keys(tmp_path, fake_openai):
    write_config('[keymap]\n"composer.send" = "ctrl+s"\n"composer.newline" = "enter"\n')
    fake_openai.script(Script.reply("got it"))
    services = make_services(tmp_path, fake_openai.base_url)
    app = make_app(services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            composer = app.main.composer
            # The placeholder said "Enter to send" after Enter had become the new-line key.
            assert composer.placeholder == "Message… (Ctrl+S to send, Enter for a new line)"
            composer.focus()
            await pilot.press("a", "enter", "b")
            assert composer.text == "a\nb"
            assert fake_openai.chat_requests() == []
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "got it" in screen_text(app), what="the reply")
            assert [r["messages"][-1]["content"] for r in fake_openai.chat_requests()] == [
                "a\nb"]
    finally:
        await services.aclose()


def test_key_labels_name_keys_as_people_do():
    """The help showed "Ctrl+n" and "h / left": Ctrl takes no case, arrows are arrows."""
    from tui.ui.keys import key_label

    assert key_label("ctrl+n") == "Ctrl+N"
    assert key_label("left") == "←" and key_label("right") == "→"
    assert key_label("ctrl+pageup") == "Ctrl+PgUp"
    assert key_label("G") == "G" and key_label("g") == "g"  # two keys
    assert key_label("alt+a") == "Alt+a"
