"""Mapping between the store's rows and the domain dataclasses.

Kept apart from the store so the column lists, the value conversions (bools, enums) and the
set of editable fields live in one place that the queries and the tests share.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from tui.core.models import Conversation, Message, MessageStatus, Role, Strategy, Summary

log = logging.getLogger(__name__)

CONVERSATION_COLUMNS = (
    "id", "title", "model", "system_prompt", "strategy", "created", "updated", "pinned",
    "archived", "temperature", "top_p", "max_output_tokens", "context_window",
    "token_correction", "json_output", "extra_params",
)
MESSAGE_COLUMNS = (
    "id", "conversation_id", "role", "content", "created", "model", "status", "token_count",
    "token_encoding", "prompt_tokens", "completion_tokens", "finish_reason", "error", "pinned",
    "cached_tokens", "first_token_ms", "duration_ms", "server",
    "parent_id",
)
SUMMARY_COLUMNS = (
    "id", "conversation_id", "content", "first_message_id", "last_message_id",
    "covered_count", "token_count", "model", "created", "previous_summary_id",
)

CONVERSATION_EDITABLE = frozenset(CONVERSATION_COLUMNS) - {"id", "created"}
MESSAGE_EDITABLE = frozenset({
    "content", "status", "token_count", "token_encoding", "prompt_tokens",
    "completion_tokens", "finish_reason", "error", "model", "pinned", "cached_tokens",
    "first_token_ms", "duration_ms", "server",
})


def select_list(columns: Sequence[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + column for column in columns)


def _strategy(value: str) -> Strategy:
    try:
        return Strategy(value)
    except ValueError:
        return Strategy.SUMMARIZE


def _status(value: str) -> MessageStatus:
    try:
        return MessageStatus(value)
    except ValueError:
        return MessageStatus.ERROR


def conversation_from_row(row: Sequence[Any]) -> Conversation:
    values = dict(zip(CONVERSATION_COLUMNS, row))
    values["strategy"] = _strategy(values["strategy"])
    values["pinned"] = bool(values["pinned"])
    values["archived"] = bool(values["archived"])
    values["token_correction"] = float(values["token_correction"] or 0.0)
    values["json_output"] = bool(values["json_output"])
    values["extra_params"] = _extra_params(values["extra_params"])
    return Conversation(**values)


def _extra_params(text: str | None) -> dict[str, Any]:
    """The stored JSON object; a damaged value reads as none (and is logged), never a crash."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        log.warning("unreadable extra parameters %r: ignored", text)
        return {}
    return value if isinstance(value, dict) else {}


def message_from_row(row: Sequence[Any]) -> Message:
    values = dict(zip(MESSAGE_COLUMNS, row))
    values["role"] = Role(values["role"])
    values["status"] = _status(values["status"])
    values["pinned"] = bool(values["pinned"])
    return Message(**values)


def summary_from_row(row: Sequence[Any]) -> Summary:
    return Summary(**dict(zip(SUMMARY_COLUMNS, row)))


def to_db_value(value: Any) -> Any:
    """Enums become their text, bools 0/1; everything else is stored as given."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (Strategy, Role, MessageStatus)):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def check_fields(fields: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValueError(f"cannot update {what} field(s): {', '.join(unknown)}")
