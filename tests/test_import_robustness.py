"""The ChatGPT importer never crashes: any value anywhere in an exported conversation
replaced by another JSON value gives a conversation or a MalformedConversation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.import_chatgpt import MalformedConversation, convert

FIXTURE = Path(__file__).parent / "fixtures" / "chatgpt_export" / "conversations.json"
GOOD = [c for c in json.loads(FIXTURE.read_text(encoding="utf-8"))
        if isinstance(c.get("mapping"), dict) and not c["title"].startswith("Broken")]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value (a key or an index path)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


PLACES = [(index, place) for index, conversation in enumerate(GOOD)
          for place in paths(conversation) if place]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                               max_size=3), max_leaves=5)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PLACES), JSON_VALUES)
def test_any_damaged_value_is_converted_or_reported(place, value) -> None:
    index, path = place
    damaged = copy.deepcopy(GOOD[index])
    target = damaged
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    try:
        result = convert(damaged)
    except MalformedConversation as error:
        assert str(error)
        return
    assert all(isinstance(m.content, str) and m.content.strip() for m in result.messages)
    ids_ = [m.id for m in result.messages]
    assert len(set(ids_)) == len(ids_)
    seen: set[str] = set()
    for message in result.messages:  # parents before children, ids ascending
        assert message.parent_id is None or (message.parent_id in seen
                                             and message.parent_id < message.id)
        seen.add(message.id)
    assert result.active_leaf_id is None or result.active_leaf_id in seen
