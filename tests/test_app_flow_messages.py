"""The chat flow's core events map one-to-one onto the UI's Textual messages."""

from __future__ import annotations

import typing

from tui.core import chat
from tui.core.models import Message, Role
from tui.ui import flow_messages as fm


def test_every_core_event_type_has_a_textual_message():
    core_types = set(typing.get_args(chat.FlowEvent))
    assert core_types == set(fm._TRANSLATIONS)


def test_messages_carry_the_conversation_and_the_event_data():
    message = Message(id="m1", conversation_id="c1", role=Role.ASSISTANT, content="hi")
    cases = [
        (chat.AssistantDelta("m1", "hel"), fm.ReplyDelta, {"message_id": "m1", "text": "hel"}),
        (chat.AssistantFinished(message), fm.ReplyFinished, {"message": message}),
        (chat.FlowFailed(None, "boom", "server"), fm.ReplyFailed,
         {"message": None, "error": "boom", "kind": "server"}),
        (chat.RetryWait(1, 2.0, "429"), fm.ReplyRetrying, {"delay": 2.0, "reason": "429"}),
        (chat.TitleUpdated("c1", "Title"), fm.TitleChanged, {"title": "Title"}),
        (chat.ContextNotice("truncated", "2 left out"), fm.ContextNoted,
         {"kind": "truncated", "text": "2 left out", "summary": None}),
    ]
    for event, kind, fields in cases:
        translated = fm.to_message("c1", event)
        assert type(translated) is kind
        assert translated.conversation_id == "c1"
        for name, value in fields.items():
            assert getattr(translated, name) == value, (kind, name)


def test_only_the_chat_view_sees_deltas():
    assert fm.ReplyDelta.bubble is False
    assert fm.ReplyFinished.bubble is True
