"""``gpt-tui import``: read an export file and store its conversations, each whole or not
at all.

Two formats are read: ChatGPT's data export (``conversations.json``, or the ``.zip`` that
holds it; see :mod:`tui.core.import_chatgpt`) and gpt-tui's own JSON export (one
conversation per file, the whole tree, :func:`tui.core.export.read_export`). Each
conversation is stored in one transaction with a record of where it came from (the
``imports`` table), so importing the same file twice adds nothing, and a conversation that
cannot be read is reported (which one, why) while the others are stored.

A conversation imported before whose source has changed since (a newer ChatGPT export of a
chat that went on) is updated in place: its new messages are added under the messages they
answer, matched by parent, role and text, and its active path moves to the source's. An
unchanged source adds nothing, so what the user deleted here stays deleted.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.core import import_chatgpt, tree
from tui.core.export import JSON_FORMAT, images_from_document, read_export
from tui.core.import_chatgpt import ImportedConversation, MalformedConversation
from tui.core.models import utc_now
from tui.core.store_attachments import add_images
from tui.core.store import Store, StoreError

GPT_TUI_PREFIX = "gpt-tui:"
# The file a ChatGPT export's zip holds the conversations in (newer exports may split it
# into conversations-000.json, -001...; every such member is read).
CHATGPT_MEMBER = "conversations"


log = logging.getLogger(__name__)


class NotAnExport(ValueError):
    """The file is neither a ChatGPT export nor a gpt-tui one (or cannot be read)."""


@dataclass
class Outcome:
    label: str
    conversation_id: str | None = None
    messages: int = 0
    branches: int = 0
    # "imported", "updated" (imported before, new messages added: ``messages`` counts
    # them), "present" (imported before, nothing new), "empty" (no message to show: not
    # stored) or "skipped" (unreadable, with ``reason``).
    status: str = "imported"
    reason: str = ""


@dataclass
class ImportReport:
    format: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def _parse(name: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAnExport(f"{name} is not JSON ({error})") from None


def _is_conversations_file(name: str) -> bool:
    return Path(name).name.startswith(CHATGPT_MEMBER) and name.endswith(".json")


def _read_zip(name: str, archive: zipfile.ZipFile) -> list[Any]:
    members = sorted(n for n in archive.namelist()
                     if _is_conversations_file(n) and not n.startswith("__MACOSX"))
    if not members:
        raise NotAnExport(f"{name} is a zip without a conversations.json")
    return [_parse(n, archive.read(n)) for n in members]


def read_file(path: Path) -> list[Any]:
    """The parsed JSON documents of ``path``: one, or one per conversations file of a zip or
    of a folder (the export's zip unpacked)."""
    try:
        if path.is_dir():
            files = sorted(p for p in path.iterdir()
                           if p.is_file() and _is_conversations_file(p.name))
            if not files:
                raise NotAnExport(f"{path} is a folder without a conversations.json")
            return [_parse(str(p), p.read_bytes()) for p in files]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return _read_zip(str(path), archive)
        return [_parse(str(path), path.read_bytes())]
    except (OSError, zipfile.BadZipFile) as error:
        raise NotAnExport(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") \
            from None


def read_bytes(name: str, data: bytes) -> list[Any]:
    """As :func:`read_file`, for bytes read from a pipe (``gpt-tui import -``)."""
    try:
        if data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return _read_zip(name, archive)
    except zipfile.BadZipFile as error:
        raise NotAnExport(f"cannot read {name}: {error}") from None
    return [_parse(name, data)]


def _gpt_tui(document: Any) -> ImportedConversation:
    try:
        exported = read_export(document)
        images = images_from_document(document)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedConversation(f"unreadable record ({error})") from None
    seen: dict[str, str] = {}
    for message in exported.messages:
        if message.parent_id is not None and message.parent_id not in seen:
            raise MalformedConversation(
                f"message {message.id}: its parent {message.parent_id} is not before it")
        if message.parent_id is not None and not message.parent_id < message.id:
            raise MalformedConversation(f"message {message.id} sorts before its parent")
        seen[message.id] = message.id
        message.conversation_id = exported.conversation.id
    if exported.active_leaf_id is not None and exported.active_leaf_id not in seen:
        raise MalformedConversation(f"the active message {exported.active_leaf_id} is missing")
    if stray := sorted(set(images) - set(seen)):
        raise MalformedConversation(f"an attachment belongs to no message ({stray[0]})")
    return ImportedConversation(GPT_TUI_PREFIX + exported.conversation.id,
                                exported.conversation, exported.messages, exported.summaries,
                                exported.active_leaf_id, images)


def _is_gpt_tui(document: Any) -> bool:
    return isinstance(document, dict) and document.get("format") == JSON_FORMAT


def plan(documents: list[Any]) -> tuple[str, list[tuple[str, Any]]]:
    """The format and the raw conversations (with how a report names each)."""
    if documents and all(_is_gpt_tui(d) for d in documents):
        return "gpt-tui", [(_gpt_tui_label(d, i), d) for i, d in enumerate(documents, 1)]
    if documents and all(import_chatgpt.looks_like_chatgpt(d) for d in documents):
        raw = [c for d in documents for c in import_chatgpt.read_conversations(d)]
        return "ChatGPT", [(import_chatgpt.label(c, i), c) for i, c in enumerate(raw, 1)]
    if all(d == [] for d in documents):
        raise NotAnExport("it holds no conversation (an empty list)")
    raise NotAnExport("it is neither a ChatGPT export (conversations.json or its .zip) nor "
                      "a gpt-tui JSON export")


def _gpt_tui_label(document: dict, index: int) -> str:
    record = document.get("conversation")
    return import_chatgpt.label(record if isinstance(record, dict) else None, index)


def _store_one(conn: sqlite3.Connection, item: ImportedConversation) -> int | None:
    """Store one conversation (inside the caller's transaction): None if it is new and
    stored whole, else how many messages a re-import added to the copy already here."""
    source_updated = item.conversation.updated
    known = conn.execute("SELECT conversation_id, source_updated FROM imports "
                         "WHERE source_id = ?", (item.source_id,)).fetchone()
    mine = None if known is not None else conn.execute(
        "SELECT updated FROM conversations WHERE id = ?", (item.conversation.id,)).fetchone()
    if mine is not None:  # a gpt-tui export back into its own database: newer than it?
        known = (item.conversation.id, mine[0])
        conn.execute("INSERT INTO imports (source_id, conversation_id, imported) "
                     "VALUES (?, ?, ?)", (item.source_id, item.conversation.id, utc_now()))
    if known is not None:
        conversation_id, seen_updated = known
        if seen_updated is not None and seen_updated >= source_updated:
            return 0
        added = _merge(conn, item, conversation_id)
        conn.execute("UPDATE imports SET source_updated = ? WHERE source_id = ?",
                     (source_updated, item.source_id))
        return added
    tree.insert_conversation_sql(conn, item.conversation)
    tree.insert_messages_sql(conn, item.messages)
    for message_id, images in item.images.items():
        add_images(conn, message_id, images)
    for summary in item.summaries:
        summary.conversation_id = item.conversation.id
        tree.insert_summary_sql(conn, summary)
    tree.set_leaf_sql(conn, item.conversation.id, item.active_leaf_id)
    conn.execute("INSERT INTO imports (source_id, conversation_id, imported, source_updated) "
                 "VALUES (?, ?, ?, ?)",
                 (item.source_id, item.conversation.id, utc_now(), source_updated))
    return None


def _merge(conn: sqlite3.Connection, item: ImportedConversation, conversation_id: str) -> int:
    """Add the messages of ``item`` the stored conversation lacks; how many were added.

    A message is already here when one with its id is (a gpt-tui export keeps ids), or one
    with the same parent, role and text (a ChatGPT import makes new ids each time)."""
    rows = conn.execute("SELECT id, parent_id, role, content FROM messages "
                        "WHERE conversation_id = ?", (conversation_id,)).fetchall()
    ids = {row[0] for row in rows}
    by_place = {(parent, role, content): mid for mid, parent, role, content in rows}
    here: dict[str, str] = {}  # the item's message id -> the stored one
    added = []
    for message in item.messages:  # parents before children
        parent = None if message.parent_id is None else here[message.parent_id]
        place = (parent, message.role.value, message.content)
        match = message.id if message.id in ids else by_place.get(place)
        if match is not None:
            here[message.id] = match
            continue
        message.parent_id, message.conversation_id = parent, conversation_id
        here[message.id] = by_place[place] = message.id
        added.append(message)
    if not added:
        return 0
    tree.insert_messages_sql(conn, added)
    for message in added:
        if message.id in item.images:
            add_images(conn, message.id, item.images[message.id])
    if item.active_leaf_id is not None:
        tree.set_leaf_sql(conn, conversation_id, here[item.active_leaf_id])
    conn.execute("UPDATE conversations SET updated = max(updated, ?) WHERE id = ?",
                 (item.conversation.updated, conversation_id))
    return len(added)


def import_documents(store: Store, documents: list[Any]) -> ImportReport:
    """Store every readable conversation of the parsed ``documents``; NotAnExport when
    they are neither format."""
    fmt, raw = plan(documents)
    report = ImportReport(fmt)
    convert = _gpt_tui if fmt == "gpt-tui" else import_chatgpt.convert
    for label, conversation in raw:
        outcome = Outcome(label)
        report.outcomes.append(outcome)
        try:
            item = convert(conversation)
            if not item.messages:  # a chat of hidden or empty nodes only: no litter
                outcome.status = "empty"
                continue
            stored = store.write(lambda conn, item=item: _store_one(conn, item))
        except MalformedConversation as error:
            outcome.status, outcome.reason = "skipped", str(error)
            continue
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            # A shape no check foresaw: this conversation is skipped, never the import.
            log.warning("importing conversation %s failed", label, exc_info=True)
            outcome.status = "skipped"
            outcome.reason = f"unreadable ({type(error).__name__}: {error})"
            continue
        except StoreError as error:
            if isinstance(error.__cause__, (sqlite3.IntegrityError, sqlite3.ProgrammingError,
                                            sqlite3.InterfaceError)):
                outcome.status, outcome.reason = "skipped", f"it does not fit the store ({error})"
                continue
            raise
        outcome.conversation_id = item.conversation.id
        outcome.messages = stored or len(item.messages)
        parents = [m.parent_id for m in item.messages]
        outcome.branches = len(parents) - len(set(parents))
        if stored is not None:
            outcome.status = "updated" if stored else "present"
            outcome.conversation_id = store.run(lambda conn, sid=item.source_id: conn.execute(
                "SELECT conversation_id FROM imports WHERE source_id = ?", (sid,)).fetchone()[0])
    return report


def import_file(store: Store, path: Path) -> ImportReport:
    return import_documents(store, read_file(path))
