"""ChatGPT's data export (``conversations.json``) read as gpt-tui conversation trees.

Each exported conversation holds its messages in ``mapping``: node id -> ``{message,
parent, children}``, a tree whose branches are ChatGPT's regenerated answers and edited
questions, and ``current_node``, the end of the path the ChatGPT page showed. All of it is
kept: every branch, with ``current_node`` as the active path.

What is not a message of the chat is left out, and its children hang from the nearest kept
ancestor: nodes without a message (the root placeholder), hidden ones
(``is_visually_hidden_from_conversation``: the system prompt ChatGPT adds, custom
instructions, memory context) and ones with no text. A visible system message with text
becomes the conversation's system prompt. Content other than text (images, code, tool
output, reasoning, quotes from the web...) becomes readable text or a placeholder: an
unknown content type never stops the import. What is broken (no ``mapping``, a node that is
not an object, a parent that is missing, a cycle) is a :class:`MalformedConversation`,
naming why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tui.core import ids
from tui.core.attachments import ImageFile
from tui.core.models import Conversation, Message, MessageStatus, Role, Summary, utc_now

SOURCE_PREFIX = "chatgpt:"
# The model recorded when the export names none.
UNKNOWN_MODEL = "chatgpt"


class MalformedConversation(ValueError):
    """A conversation that cannot be imported as it is (the message says why)."""


@dataclass
class ImportedConversation:
    """One conversation ready to store: messages in parent-before-child order, with ids
    ascending along every path; ``source_id`` is stable across imports of the same file."""

    source_id: str
    conversation: Conversation
    messages: list[Message]
    summaries: list[Summary]
    active_leaf_id: str | None
    images: dict[str, list[ImageFile]] = field(default_factory=dict)
    """Attached images per message id (a gpt-tui export embeds them)."""


def looks_like_chatgpt(document: Any) -> bool:
    """A list of conversations with a ``mapping`` (or a single one)."""
    items = document if isinstance(document, list) else [document]
    return bool(items) and any(isinstance(item, dict) and "mapping" in item for item in items)


def label(raw: Any, index: int) -> str:
    """How a report names conversation number ``index`` (from 1): its title and id."""
    if isinstance(raw, dict):
        title = raw.get("title") if isinstance(raw.get("title"), str) else ""
        cid = raw.get("conversation_id") or raw.get("id")
        parts = [f"#{index}"]
        if title:
            parts.append(f"“{title[:60]}”")
        if isinstance(cid, str):
            parts.append(f"(id {cid})")
        return " ".join(parts)
    return f"#{index}"


def _stamp(value: Any, fallback: str) -> str:
    """A Unix time (float seconds) as the store writes times; ``fallback`` if unusable."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return fallback
    try:
        moment = datetime.fromtimestamp(float(value), timezone.utc)
    except (OverflowError, OSError, ValueError):
        return fallback
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- content ------------------------------------------------------------------------------

def _fence(text: str, language: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text}\n{fence}"


def _part_text(part: Any) -> str:
    """One element of ``parts``: text, or a placeholder for an image, audio, a file."""
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return ""
    kind = str(part.get("content_type", "attachment"))
    if kind == "audio_transcription":
        return str(part.get("text", ""))
    if kind == "image_asset_pointer":
        size = ""
        if isinstance(part.get("width"), int) and isinstance(part.get("height"), int):
            size = f" {part['width']}×{part['height']}"
        dalle = (part.get("metadata") or {}).get("dalle") if isinstance(
            part.get("metadata"), dict) else None
        prompt = dalle.get("prompt") if isinstance(dalle, dict) else None
        return f"[image{size}" + (f": {prompt}" if isinstance(prompt, str) else "") + "]"
    if "audio" in kind:
        return "[audio]"
    if isinstance(part.get("text"), str):
        return part["text"]
    return f"[{kind.replace('_', ' ')}]"


def content_text(content: Any) -> str:
    """The readable text of a message's ``content``, whatever its type ("" when none)."""
    if not isinstance(content, dict):
        return ""
    kind = content.get("content_type")
    parts = content.get("parts")
    text = content.get("text") if isinstance(content.get("text"), str) else ""
    if kind in ("text", "multimodal_text") or (kind is None and isinstance(parts, list)):
        pieces = [_part_text(p) for p in parts] if isinstance(parts, list) else []
        return "\n\n".join(p for p in pieces if p.strip())
    if kind == "code":
        language = content.get("language")
        language = language if isinstance(language, str) and language != "unknown" else ""
        return _fence(text, language) if text.strip() else ""
    if kind == "execution_output":
        return "Output:\n" + _fence(text) if text.strip() else ""
    if kind == "tether_quote":
        quote = "\n".join(f"> {line}" for line in text.splitlines()) if text else ""
        source = " ".join(str(content.get(k)) for k in ("title", "url") if content.get(k))
        return (quote + (f"\n\n— {source}" if source else "")).strip()
    if kind == "tether_browsing_display":
        shown = content.get("summary") or content.get("result") or ""
        return f"[web results]\n{shown}".strip() if isinstance(shown, str) and shown else ""
    if kind == "thoughts":
        thoughts = content.get("thoughts")
        lines = []
        for thought in thoughts if isinstance(thoughts, list) else []:
            if isinstance(thought, dict):
                lines += [str(thought[k]) for k in ("summary", "content")
                          if isinstance(thought.get(k), str) and thought[k].strip()]
        return "[reasoning]\n" + "\n\n".join(lines) if lines else ""
    if kind == "reasoning_recap":
        recap = content.get("content")
        return f"[{recap}]" if isinstance(recap, str) and recap.strip() else ""
    if kind == "system_error":
        return f"[error: {content.get('name') or 'system error'}] {text}".strip()
    if kind in ("user_editable_context", "model_editable_context"):
        return ""  # custom instructions and memory: context ChatGPT added, never shown
    if text.strip():
        return text
    if isinstance(parts, list):
        return "\n\n".join(p for p in map(_part_text, parts) if p.strip())
    return f"[{str(kind or 'unknown').replace('_', ' ')} content not shown]"


# -- the tree -------------------------------------------------------------------------------

@dataclass
class _Kept:
    node_id: str
    role: Role
    text: str
    created: str
    model: str | None
    finish_reason: str | None
    status: MessageStatus
    order: float


def _keep(node_id: str, message: Any, fallback_time: str) -> _Kept | str | None:
    """The message of a node to keep; a system prompt's text (str); None to skip it."""
    if message is None:
        return None
    if not isinstance(message, dict):
        raise MalformedConversation(f"node {node_id}: its message is not an object")
    author = message.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    if not isinstance(role, str):
        raise MalformedConversation(f"node {node_id}: its message has no author role")
    metadata = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
    if metadata.get("is_visually_hidden_from_conversation") or metadata.get(
            "is_user_system_message"):
        return None
    text = content_text(message.get("content")).strip("\n")
    if not text.strip():
        return None
    if role == "system":
        return text
    if role == "tool":
        name = author.get("name") if isinstance(author.get("name"), str) else "tool"
        text = f"**Tool ({name}):**\n\n{text}"
    model = metadata.get("model_slug") if isinstance(metadata.get("model_slug"), str) else None
    finish = metadata.get("finish_details")
    finish_type = finish.get("type") if isinstance(finish, dict) else None
    finish_reason = {"stop": "stop", "max_tokens": "length"}.get(str(finish_type))
    status = MessageStatus.INTERRUPTED if finish_type == "interrupted" else \
        MessageStatus.COMPLETE
    created_raw = message.get("create_time")
    order = float(created_raw) if isinstance(created_raw, (int, float)) and not isinstance(
        created_raw, bool) else 0.0
    return _Kept(node_id, Role.USER if role == "user" else Role.ASSISTANT, text,
                 _stamp(created_raw, fallback_time),
                 model if role != "user" else None, finish_reason, status, order)


def convert(raw: Any) -> ImportedConversation:
    """One exported conversation; MalformedConversation when it cannot be read."""
    if not isinstance(raw, dict):
        raise MalformedConversation("it is not an object")
    source = raw.get("conversation_id") or raw.get("id")
    if not isinstance(source, str) or not source:
        raise MalformedConversation("it has no id")
    mapping = raw.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        raise MalformedConversation("it has no message tree ('mapping')")
    now = utc_now()
    created = _stamp(raw.get("create_time"), now)
    updated = _stamp(raw.get("update_time"), created)
    parents: dict[str, str | None] = {}
    kept: dict[str, _Kept] = {}
    system_texts: list[str] = []
    for node_id, node in mapping.items():
        if not isinstance(node, dict):
            raise MalformedConversation(f"node {node_id} is not an object")
        parent = node.get("parent")
        if parent is not None and (not isinstance(parent, str) or parent not in mapping):
            raise MalformedConversation(f"node {node_id}: its parent {parent} is missing")
        parents[node_id] = parent
        result = _keep(node_id, node.get("message"), created)
        if isinstance(result, str):
            system_texts.append(result)
        elif result is not None:
            kept[node_id] = result

    def kept_ancestor(node_id: str) -> str | None:
        seen = {node_id}
        parent = parents[node_id]
        while parent is not None and parent not in kept:
            if parent in seen:
                raise MalformedConversation(f"node {node_id}: its ancestors form a cycle")
            seen.add(parent)
            parent = parents[parent]
        return parent

    children: dict[str | None, list[str]] = {}
    for node_id in kept:
        children.setdefault(kept_ancestor(node_id), []).append(node_id)
    position = {node_id: index for index, node_id in enumerate(mapping)}
    for siblings in children.values():
        siblings.sort(key=lambda n: (kept[n].order, position[n]))

    conversation = Conversation(
        id=ids.new_ulid(), title=raw.get("title") if isinstance(raw.get("title"), str) else "",
        model=UNKNOWN_MODEL, system_prompt="\n\n".join(system_texts), created=created,
        updated=updated, archived=raw.get("is_archived") is True)
    messages: list[Message] = []
    new_ids: dict[str, str] = {}
    stack = list(reversed(children.get(None, [])))
    while stack:  # depth first, parents before children: ids ascend along every path
        node_id = stack.pop()
        item = kept[node_id]
        new_ids[node_id] = ids.new_ulid()
        parent = kept_ancestor(node_id)
        messages.append(Message(
            id=new_ids[node_id], conversation_id=conversation.id, role=item.role,
            content=item.text, created=item.created, model=item.model, status=item.status,
            finish_reason=item.finish_reason,
            parent_id=None if parent is None else new_ids[parent]))
        stack += reversed(children.get(node_id, []))
    models = [m.model for m in messages if m.model]
    default = raw.get("default_model_slug")
    conversation.model = default if isinstance(default, str) and default else (
        models[-1] if models else UNKNOWN_MODEL)
    return ImportedConversation(SOURCE_PREFIX + source, conversation, messages, [],
                                _active_leaf(raw.get("current_node"), parents, kept,
                                             new_ids, messages))


def _active_leaf(current: Any, parents: dict[str, str | None], kept: dict[str, _Kept],
                 new_ids: dict[str, str], messages: list[Message]) -> str | None:
    """``current_node``'s nearest kept node (itself or an ancestor), else the newest."""
    node = current if isinstance(current, str) and current in parents else None
    seen: set[str] = set()
    while node is not None and node not in kept and node not in seen:
        seen.add(node)
        node = parents[node]
    if node is not None and node in new_ids:
        return new_ids[node]
    return messages[-1].id if messages else None


def read_conversations(document: Any) -> list[Any]:
    """The raw conversations of a parsed export (a list, or one conversation)."""
    return document if isinstance(document, list) else [document]

