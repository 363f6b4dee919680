"""Seams the app's speed-ups rest on: unchanged rows and drafts cost no reload, and a block
read while it mounts answers with its text."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from tui.core.models import Conversation, Message, MessageStatus, Role
from tui.ui.widgets.composer import Composer
from tui.ui.widgets.conversation_list import ConversationList
from tui.ui.widgets.message_blocks import AssistantBlock

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_an_assistant_block_not_composed_yet_has_its_text() -> None:
    message = Message(id="01A", conversation_id="c", role=Role.ASSISTANT, content="hello",
                      status=MessageStatus.COMPLETE)
    assert AssistantBlock(message).text == "hello"


class Holder(App[None]):
    def compose(self) -> ComposeResult:
        yield ConversationList(now=lambda: NOW)
        yield Composer()


async def test_the_same_rows_are_not_set_again_and_new_ones_are() -> None:
    chats = [Conversation(id=f"c{i}", title=f"chat {i}", model="m")
             for i in range(3)]
    app = Holder()
    async with app.run_test() as pilot:
        rows = app.query_one(ConversationList)
        rows.show_rows(chats, 50)
        await pilot.pause()
        sets: list[int] = []
        original = rows.set_options
        rows.set_options = lambda options: sets.append(1) or original(options)  # type: ignore[method-assign]
        rows.show_rows(chats, 50)
        assert sets == []
        renamed = [chats[0], chats[1], Conversation(id="c2", title="renamed", model="m")]
        rows.show_rows(renamed, 50)
        assert sets == [1]
        assert "renamed" in str(rows.get_option_at_index(2).prompt)


async def test_the_same_draft_keeps_the_text_and_starts_a_new_undo_history() -> None:
    app = Holder()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.insert("typed")
        await pilot.pause()
        composer.set_draft("typed")
        assert composer.text == "typed"
        composer.action_undo()
        assert composer.text == "typed"  # the history of the chat left is gone
        composer.set_draft("other")
        assert composer.text == "other"


def test_a_delta_before_the_block_composed_is_kept() -> None:
    """A retry's first words can reach a reply's block before it has composed (seen under
    the suite's load): it raised AttributeError there and the stream broke off."""
    message = Message(id="01B", conversation_id="c", role=Role.ASSISTANT, content="",
                      status=MessageStatus.STREAMING)
    block = AssistantBlock(message, live_text="")
    block.append("first ")
    block.append("words")
    assert block.text == "first words"


class OneBlock(App[None]):
    def __init__(self, block: AssistantBlock) -> None:
        super().__init__()
        self.block = block

    def compose(self) -> ComposeResult:
        yield self.block


async def test_a_reply_finished_before_its_block_composed_shows_as_stored() -> None:
    """A short reply can end before its block has mounted (a loaded machine, the history
    planned in a thread): finishing it raised NoMatches for the header, and the app
    crashed."""
    streaming = Message(id="01C", conversation_id="c", role=Role.ASSISTANT, content="",
                        status=MessageStatus.STREAMING)
    block = AssistantBlock(streaming, live_text="")
    block.append("the whole ")
    stored = Message(id="01C", conversation_id="c", role=Role.ASSISTANT,
                     content="the whole reply", status=MessageStatus.COMPLETE)
    block.finish(stored)
    assert block.text == "the whole reply" and not block.live
    app = OneBlock(block)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert block.markdown.text == "the whole reply" and block.markdown.finished
        header = block.query_one(".block-header")
        assert not header.has_class("-streaming")
