"""Markdown and JSON export against golden files, JSON round-trip, and safe file names.

Regenerate the golden files after an intended format change with
``GPT_TUI_UPDATE_GOLDEN=1 pytest tests/test_export.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tui.core.export import (
    JSON_VERSION,
    export_filename,
    export_to_file,
    from_json,
    slugify,
    to_json,
    to_markdown,
    token_totals,
)
from tui.core.models import Conversation, Message, MessageStatus, Role, Strategy, Summary
from tui.core.store import Store

GOLDEN = Path(__file__).parent / "golden"

CODE_REPLY = """Here you go:

```python
def greet(name: str) -> str:
    # "## User" inside a fence is just text
    return f"Hello, {name}!"
```

That's all."""


def sample() -> tuple[Conversation, list[Message], list[Summary]]:
    c = Conversation(
        id="01JD0000000000000000000000", title="Greeting *functions* in Python",
        model="gpt-4o-mini", system_prompt="You are terse.", strategy=Strategy.SUMMARIZE,
        created="2026-01-02T03:04:05.678Z", updated="2026-01-02T04:00:00.000Z",
        pinned=True, temperature=0.3, context_window=16000, token_correction=1.5)
    cid = c.id

    def msg(n: int, role: Role, content: str, **kw) -> Message:
        return Message(id=f"01JD00000000000000000000M{n}", conversation_id=cid, role=role,
                       content=content, created=f"2026-01-02T03:0{n}:00.000Z", **kw)

    messages = [
        msg(1, Role.USER, "How do I greet someone?"),
        msg(2, Role.ASSISTANT, "Say hello.", model="gpt-4o-mini", prompt_tokens=20,
            completion_tokens=3, finish_reason="stop", token_count=7,
            token_encoding="o200k_base"),
        msg(3, Role.USER, "In Python, please."),
        msg(4, Role.ASSISTANT, CODE_REPLY, model="gpt-4o", prompt_tokens=60,
            completion_tokens=40, finish_reason="stop"),
        msg(5, Role.USER, "And in Rust?"),
        msg(6, Role.ASSISTANT, "fn main() {", status=MessageStatus.INTERRUPTED,
            model="gpt-4o-mini"),
        msg(7, Role.ASSISTANT, "", status=MessageStatus.ERROR, model="gpt-4o-mini",
            error="Rate limited (429): try again in 20 s"),
    ]
    summaries = [Summary(
        id="01JD00000000000000000000S1", conversation_id=cid,
        content="The user asked how to greet someone.\nThe assistant said: say hello.",
        first_message_id=messages[0].id, last_message_id=messages[1].id, covered_count=2,
        token_count=18, model="gpt-4o-mini", created="2026-01-02T03:30:00.000Z")]
    return c, messages, summaries


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GPT_TUI_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_markdown_matches_golden() -> None:
    check_golden("export.md", to_markdown(*sample()))


def test_json_matches_golden() -> None:
    check_golden("export.json", to_json(*sample()))


def test_markdown_keeps_content_verbatim_and_marks_things() -> None:
    c, messages, summaries = sample()
    text = to_markdown(c, messages, summaries)
    assert text.startswith("# Greeting *functions* in Python\n")
    assert CODE_REPLY in text
    assert "## Assistant (gpt-4o)\n" in text  # a model other than the conversation's
    assert "## Assistant (interrupted)" in text and "*[reply interrupted]*" in text
    assert "## Assistant (error)" in text and "> **Error:** Rate limited" in text
    assert "Tokens: 80 prompt + 43 completion = 123" in text
    assert "(pinned)" not in text
    messages[0].pinned = True  # always sent: the export says so
    assert to_markdown(c, messages, summaries).startswith(text.split("## User", 1)[0]
                                                          + "## User (pinned)\n")
    # The summary sits right after the last message it covers.
    assert text.index("Say hello.") < text.index("> **Summary of 2 earlier messages**") \
        < text.index("In Python, please.")


def test_markdown_without_title_or_messages() -> None:
    c = Conversation(id="01JD0000000000000000000000", title="  ", model="m",
                     created="bad date", updated="2026-01-02T03:04:05.678Z")
    text = to_markdown(c, [], [])
    assert text.startswith("# Untitled conversation\n")
    assert "- Created: bad date" in text and "- Messages: 0" in text


def test_orphan_summary_is_kept_at_the_top() -> None:
    c, messages, summaries = sample()
    text = to_markdown(c, messages[2:], summaries)
    assert text.index("Summary of 2 earlier messages") < text.index("In Python, please.")


def test_json_round_trips_every_field() -> None:
    c, messages, summaries = sample()
    document = json.loads(to_json(c, messages, summaries))
    assert document["format"] == "gpt-tui-conversation"
    assert document["version"] == JSON_VERSION
    assert from_json(to_json(c, messages, summaries)) == (c, messages, summaries)
    with pytest.raises(ValueError):
        from_json('{"format": "other"}')


def test_exports_from_a_real_store_never_contain_the_api_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-SECRET-never-exported"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with Store(tmp_path / "t.db") as store:
        c = store.create_conversation(model="m", title="t")
        store.append_message(c.id, "user", "hi")
        store.append_message(c.id, "assistant", "hello")
        args = (store.get_conversation(c.id), store.load_messages(c.id),
                store.list_summaries(c.id))
    for text in (to_markdown(*args), to_json(*args)):
        assert secret not in text and "hello" in text
    assert from_json(to_json(*args))[1] == args[1]


def test_token_totals_ignore_unreported() -> None:
    _, messages, _ = sample()
    assert token_totals(messages) == (80, 43)
    assert token_totals([]) == (0, 0)


@pytest.mark.parametrize(("title", "expected"), [
    ("Greeting functions in Python", "greeting-functions-in-python"),
    ("  Crème brûlée / recipe?  ", "creme-brulee-recipe"),
    ("../../etc/passwd", "etc-passwd"),
    ("", "conversation"),
    ("日本語", "日本語"),
    ("がぎ ﬁle Ａ", "がぎ-file-a"),
    ("a\x1b[31mred", "a-31mred"),
    ("CON", "conversation-con"),
    ("x" * 200, "x" * 60),
])
def test_slugify(title: str, expected: str) -> None:
    assert slugify(title) == expected


def test_export_filename() -> None:
    c, _, _ = sample()
    assert export_filename(c, "markdown") == "greeting-functions-in-python.md"
    assert export_filename(c, "json") == "greeting-functions-in-python.json"
    with pytest.raises(ValueError):
        export_filename(c, "pdf")


def test_export_to_file_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "exports"
    with Store(tmp_path / "t.db") as store:
        c = store.create_conversation(model="m", title="Trip plans")
        store.append_message(c.id, "user", "where to?")
        (folder / "trip-plans-1.md").parent.mkdir(parents=True)
        (folder / "trip-plans-1.md").write_text("someone else's file", encoding="utf-8")
        paths = [export_to_file(store, c, folder) for _ in range(3)]
        expected = to_markdown(c, store.load_messages(c.id), store.list_summaries(c.id))
    assert [p.name for p in paths] == ["trip-plans.md", "trip-plans-2.md", "trip-plans-3.md"]
    assert all(p.is_absolute() and p.read_text(encoding="utf-8") == expected for p in paths)
    assert (folder / "trip-plans-1.md").read_text(encoding="utf-8") == "someone else's file"


def test_the_token_line_says_when_the_server_reported_no_usage() -> None:
    """Before: "Tokens: 0 prompt + 0 completion = 0 (as reported by the server)" for a chat
    whose server reported nothing (an import, a local server), and a partial total as if
    it were whole."""
    from tui.core.export import tokens_line

    def reply(prompt: int | None, completion: int | None) -> Message:
        return Message(id="m", conversation_id="c", role=Role.ASSISTANT, content="x",
                       prompt_tokens=prompt, completion_tokens=completion)

    question = Message(id="q", conversation_id="c", role=Role.USER, content="q")
    assert tokens_line([question, reply(None, None)]) == "- Tokens: not reported by the server"
    assert tokens_line([question, reply(10, 5), reply(None, None)]) == (
        "- Tokens: 10 prompt + 5 completion = 15 (as reported by the server; 1 reply "
        "without usage)")
    assert tokens_line([question, reply(10, 5)]) == (
        "- Tokens: 10 prompt + 5 completion = 15 (as reported by the server)")
