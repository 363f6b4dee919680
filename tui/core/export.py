"""Export of one conversation as Markdown (to read and share) or JSON (to keep and re-import).

Markdown puts each message under its role heading with the content verbatim (the stored
text is authoritative, so code fences survive untouched), marks interrupted and failed
replies, and shows each summary as a blockquote right after the last message it covers.
JSON carries every stored field of the whole tree (every branch, each message with its
``parent_id``, and the active path's ``active_leaf_id``) plus a format version, so
``gpt-tui import`` reads it back unchanged (version 1 files, one flat path, still import).
Images attached to messages are embedded in JSON (base64) and, in Markdown, linked to files
written in a folder beside the document (``<name>-files/``).
Only stored records are read, so nothing secret (the API key is never stored) can leak.
:func:`export_to_file` writes the Markdown into a folder and never replaces an existing file.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core.attachments import ImageFile, human_size
from tui.core.hosts import redact_urls
from tui.core.literal import printable
from tui.core.nested_headings import nest_headings
from tui.core.models import Conversation, Message, MessageStatus, Role, Strategy, Summary
from tui.core.paths import ensure_private_folder, open_private, write_private_bytes

if TYPE_CHECKING:  # only for the annotation: the exporter needs nothing else of the store
    from tui.core.store import Store

JSON_FORMAT = "gpt-tui-conversation"
# 2: the whole tree (parent_id on every message, active_leaf_id); 1: one flat path.
JSON_VERSION = 2
FORMATS = {"markdown": ".md", "md": ".md", "json": ".json"}
# How many ``-N`` suffixes export_to_file tries before giving up on a crowded folder.
MAX_SUFFIX = 10_000
_ROLE_HEADINGS = {Role.USER: "User", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System"}
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def _date(stamp: str) -> str:
    """``2026-11-22T02:05:00.123Z`` -> ``2026-11-22 02:05 UTC`` (raw text if unparsable)."""
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime(
            "%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def token_totals(messages: list[Message]) -> tuple[int, int]:
    """Sum of the prompt and completion tokens the server reported."""
    prompt = sum(m.prompt_tokens or 0 for m in messages)
    completion = sum(m.completion_tokens or 0 for m in messages)
    return prompt, completion


def tokens_line(messages: list[Message]) -> str:
    """The metadata's token line: what the server reported, and for how many complete
    replies it reported nothing (unknown, not zero: nothing is estimated in its place)."""
    reported = [m.prompt_tokens is not None or m.completion_tokens is not None
                for m in messages if m.role == Role.ASSISTANT]
    # Complete replies only: an interrupted or failed one has nothing to report.
    unreported = sum(1 for m in messages if m.role == Role.ASSISTANT
                     and m.status == MessageStatus.COMPLETE
                     and m.prompt_tokens is None and m.completion_tokens is None)
    if not any(reported):
        return "- Tokens: not reported by the server"
    prompt, completion = token_totals(messages)
    line = (f"- Tokens: {prompt} prompt + {completion} completion = {prompt + completion}"
            " (as reported by the server")
    if unreported:
        line += f"; {unreported} {'reply' if unreported == 1 else 'replies'} without usage"
    return line + ")"


def _clean(text: str) -> str:
    """Stored text for a file a terminal may show: control characters made visible."""
    return printable(text)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines() or [""])


def _heading(message: Message, conversation: Conversation) -> str:
    title = _ROLE_HEADINGS.get(message.role, str(message.role).capitalize())
    notes = []
    if message.role is Role.ASSISTANT and message.model and message.model != conversation.model:
        notes.append(_clean(message.model))
    if message.status is MessageStatus.INTERRUPTED:
        notes.append("interrupted")
    elif message.status is MessageStatus.ERROR:
        notes.append("error")
    elif message.status is MessageStatus.STREAMING:
        notes.append("incomplete")
    if message.finish_reason == "length":
        notes.append("cut off at the length limit")
    if message.pinned:  # always sent, never summarized or dropped: part of the chat's setup
        notes.append("pinned")
    return f"## {title}" + (f" ({', '.join(notes)})" if notes else "")


def _summary_block(summary: Summary) -> str:
    noun = "message" if summary.covered_count == 1 else "messages"
    lines = [f"> **Summary of {summary.covered_count} earlier {noun}**"
             + (f" ({_clean(summary.model)})" if summary.model else ""), ">",
             _quote(_clean(summary.content))]
    return "\n".join(lines)


Images = dict[str, list[ImageFile]]  # message id -> its attached images


def image_files(messages: list[Message], images: Images) -> dict[tuple[str, int], str]:
    """A unique file name for each attached image: (message id, index) -> name."""
    names: dict[tuple[str, int], str] = {}
    number = 0
    for message in messages:
        for index, image in enumerate(images.get(message.id, [])):
            number += 1
            stem = slugify(Path(image.name).stem)
            names[(message.id, index)] = f"{number:02d}-{stem}{Path(image.name).suffix.lower()}"
    return names


def to_markdown(conversation: Conversation, messages: list[Message],
                summaries: list[Summary], images: Images | None = None,
                files_folder: str | None = None, *, elsewhere: int = 0) -> str:
    """A readable document: title, metadata, then the messages with summaries in place.

    ``messages`` is the branch shown (the active path); ``elsewhere`` how many messages
    other branches hold, which the metadata mentions (the JSON export keeps them).
    Attached images are linked into ``files_folder`` (their files written there by the
    caller), or named when there is no folder (output to a pipe).
    """
    images = images or {}
    names = image_files(messages, images) if files_folder else {}
    title = _clean(conversation.title).replace("\n", " ").strip() or "Untitled conversation"
    meta = [
        f"- Model: {_clean(conversation.model)}",
        f"- Created: {_date(conversation.created)}",
        f"- Updated: {_date(conversation.updated)}",
        f"- Messages: {len(messages)}" + (
            f" (the branch shown; {elsewhere} more on other branches)" if elsewhere else ""),
        tokens_line(messages),
        f"- Conversation id: {conversation.id}",
    ]
    parts = [f"# {title}", "\n".join(meta)]
    if conversation.system_prompt:
        parts += ["## System prompt", nest_headings(_clean(conversation.system_prompt))]
    after: dict[str, list[Summary]] = {}
    placed: set[str] = set()
    known = {m.id for m in messages}
    for summary in summaries:
        if summary.last_message_id in known:
            after.setdefault(summary.last_message_id, []).append(summary)
            placed.add(summary.id)
    # A summary whose messages are gone still belongs before everything that remains.
    parts += [_summary_block(s) for s in summaries if s.id not in placed]
    for message in messages:
        parts.append(_heading(message, conversation))
        if message.content:
            parts.append(nest_headings(_clean(message.content)))
        for index, image in enumerate(images.get(message.id, [])):
            name = names.get((message.id, index))
            parts.append(f"![{_clean(image.name)}]({files_folder}/{name})" if name else
                         f"*[image: {_clean(image.name)}, {human_size(image.size)}]*")
        if message.status is MessageStatus.INTERRUPTED:
            parts.append("*[reply interrupted]*")
        elif message.finish_reason == "length":
            parts.append("*[reply cut off: it reached the length limit (the output limit "
                         "or the end of the context window)]*")
        if message.status is MessageStatus.ERROR and message.error:
            parts.append(_quote(f"**Error:** {_clean(redact_urls(message.error))}"))
        parts += [_summary_block(s) for s in after.get(message.id, [])]
    return "\n\n".join(parts) + "\n"


def _record(obj: Any) -> dict[str, Any]:
    return {key: (value.value if isinstance(value, (Role, MessageStatus, Strategy)) else value)
            for key, value in asdict(obj).items()}


def _message_record(message: Message) -> dict[str, Any]:
    record = _record(message)
    if record.get("error"):
        # Errors stored by older versions could quote a base URL with its credentials.
        record["error"] = redact_urls(record["error"])
    return record


def _with_images(record: dict[str, Any], images: list[ImageFile]) -> dict[str, Any]:
    if images:
        record["attachments"] = [
            {"name": i.name, "mime": i.mime, "data": base64.b64encode(i.data).decode("ascii")}
            for i in images]
    return record


def to_json(conversation: Conversation, messages: list[Message],
            summaries: list[Summary], images: Images | None = None, *,
            active_leaf_id: str | None = None) -> str:
    """Every field of every record, with a format name and version for importers; a
    message's images under ``attachments`` (base64).

    ``messages`` is the whole tree (parents before children); ``active_leaf_id`` the end of
    the active path (default: the last message).
    """
    images = images or {}
    if active_leaf_id is None and messages:
        active_leaf_id = messages[-1].id
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "conversation": _record(conversation),
        "active_leaf_id": active_leaf_id,
        "messages": [_with_images(_message_record(m), images.get(m.id, []))
                     for m in messages],
        "summaries": [_record(s) for s in summaries],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    # JSON escapes C0 controls itself; DEL and the C1 controls (CSI is one) too, here, so no
    # byte of the file can drive a terminal that shows it. The values read back the same.
    return _C1.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


_C1 = re.compile("[\x7f-\x9f]")


@dataclass
class ExportedConversation:
    """One conversation read from a gpt-tui JSON export."""

    conversation: Conversation
    messages: list[Message]
    summaries: list[Summary]
    active_leaf_id: str | None


def read_export(document: Any) -> ExportedConversation:
    """A parsed gpt-tui JSON export; ValueError (or KeyError/TypeError on a damaged
    record) when it is not one. A version 1 file is one path: each message's parent is the
    one before it."""
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        raise ValueError("not a gpt-tui conversation export")
    version = document.get("version", 0)
    if not isinstance(version, int) or version > JSON_VERSION:
        raise ValueError(f"export format version {version} is too new")

    def build(cls: type, data: dict[str, Any]) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"a {cls.__name__.lower()} record is not an object")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    conversation = build(Conversation, document["conversation"])
    conversation.strategy = Strategy(conversation.strategy)
    messages = []
    for data in document.get("messages", []):
        message = build(Message, data)
        message.role, message.status = Role(message.role), MessageStatus(message.status)
        messages.append(message)
    if version < 2:
        for before, message in zip(messages, messages[1:]):
            message.parent_id = before.id
    summaries = [build(Summary, data) for data in document.get("summaries", [])]
    leaf = document.get("active_leaf_id", messages[-1].id if messages else None)
    return ExportedConversation(conversation, messages, summaries, leaf)


def from_json(text: str) -> tuple[Conversation, list[Message], list[Summary]]:
    """Read back what :func:`to_json` wrote; ValueError if it is not such a document."""
    exported = read_export(json.loads(text))
    return exported.conversation, exported.messages, exported.summaries


def _fold(char: str) -> str:
    """A Latin letter with accents (or a compatibility form: ﬁ, Ａ) as plain ASCII; any
    other character as it is (Japanese kana keep their marks)."""
    if char.isascii():
        return char
    plain = unicodedata.normalize("NFKD", char)
    return "".join(c for c in plain if c.isascii()) if plain[0].isascii() else char


def images_from_document(document: Any) -> Images:
    """The images a parsed :func:`to_json` document embeds, per message id; ValueError
    naming the message when one is damaged."""
    found: Images = {}
    for data in document.get("messages", []) if isinstance(document, dict) else []:
        for item in data.get("attachments") or []:
            try:
                image = ImageFile(str(item["name"]), str(item["mime"]),
                                  base64.b64decode(item["data"], validate=True))
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"a bad attachment in message {data.get('id')}: "
                                 f"{error}") from None
            found.setdefault(str(data.get("id")), []).append(image)
    return found


def slugify(title: str, *, max_length: int = 60) -> str:
    """Lowercase words joined by dashes, readable in any script: accents dropped from Latin
    letters ("crème" -> "creme"), other letters and digits kept (日本語 stays), everything
    else (slashes, dots, spaces, controls) a dash; "conversation" when nothing is left."""
    words = "".join(char if char.isalnum() else "-"
                    for char in map(_fold, unicodedata.normalize("NFC", title).lower())
                    for char in char)
    slug = re.sub(r"-+", "-", words).strip("-")
    slug = slug[:max_length].rstrip("-")
    if not slug:
        return "conversation"
    if slug in _WINDOWS_RESERVED:
        slug = f"conversation-{slug}"
    return slug


def export_filename(conversation: Conversation, fmt: str) -> str:
    """A file name safe on every platform: ``<slug of title>.md`` or ``.json``."""
    try:
        extension = FORMATS[fmt.lower()]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r} (use markdown or json)") from None
    return slugify(conversation.title) + extension


def export_to_file(store: Store, conversation: Conversation, export_dir: str | Path) -> Path:
    """Write ``<slug>.md`` (``<slug>-1.md``, ``-2``... if taken) in ``export_dir``.

    Each name is created exclusively, so neither an earlier export nor a file that appears
    meanwhile is ever overwritten. Returns the absolute path written.
    """
    messages = store.load_messages(conversation.id)
    summaries = store.list_summaries(conversation.id)
    images = store.images_for([m.id for m in messages])
    elsewhere = store.count_messages(conversation.id) - len(messages)
    folder = Path(export_dir).expanduser()
    ensure_private_folder(folder)
    name = Path(export_filename(conversation, "markdown"))
    for n in range(MAX_SUFFIX):
        path = folder / (name.name if n == 0 else f"{name.stem}-{n}{name.suffix}")
        files = f"{path.stem}-files"
        if images and (folder / files).exists():
            continue
        text = to_markdown(conversation, messages, summaries, images, files,
                           elsewhere=elsewhere)
        try:
            with open_private(path) as handle:
                handle.write(text)
        except FileExistsError:
            continue
        write_image_files(folder / files, messages, images)
        return path.resolve()
    raise OSError(f"too many exports named {name} in {folder}")


def write_image_files(folder: Path, messages: list[Message], images: Images) -> None:
    """The attached images as files in ``folder`` (the names :func:`image_files` gives)."""
    names = image_files(messages, images)
    if not names:
        return
    ensure_private_folder(folder)
    for message in messages:
        for index, image in enumerate(images.get(message.id, [])):
            write_private_bytes(folder / names[(message.id, index)], image.data)
