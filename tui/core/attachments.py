"""Files attached to a message: read, checked, and turned into what the model is sent.

A text file goes into the message as a fenced block under its name, so it is counted,
stored, re-sent, exported and imported like any text. An image (png, jpeg, gif, webp) goes
as an ``image_url`` part holding a base64 ``data:`` URL, in the Chat Completions format,
whatever the model: gpt-tui does not guess which models see images, a server that cannot
gets to say so. Anything else (binary data, a file too large to be a sensible prompt) is
refused with a one-line reason, and nothing is sent.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

# A text attachment past this is almost surely not meant as a prompt (about 50k tokens).
MAX_TEXT_BYTES = 200_000
# OpenAI's limit per image is 20 MB; most local servers want far less.
MAX_IMAGE_BYTES = 20_000_000
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}
_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",),
          "image/gif": (b"GIF87a", b"GIF89a"), "image/webp": (b"RIFF",)}
# Folders never worth offering in the file picker.
SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv",
                ".mypy_cache", ".pytest_cache", ".tox", "dist", "build"}
MAX_LISTED = 5000
LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".rs": "rust",
             ".go": "go", ".sh": "sh", ".md": "markdown", ".json": "json", ".toml": "toml",
             ".yaml": "yaml", ".yml": "yaml", ".c": "c", ".h": "c", ".cpp": "cpp",
             ".java": "java", ".rb": "ruby", ".html": "html", ".css": "css", ".sql": "sql",
             ".diff": "diff", ".patch": "diff", ".tcss": "css"}


class AttachmentError(Exception):
    """A file that cannot be attached; str(e) is the one line to show."""


@dataclass(frozen=True)
class TextFile:
    name: str
    text: str

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8"))


@dataclass(frozen=True)
class ImageFile:
    name: str
    mime: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


Attachment = TextFile | ImageFile


def human_size(size: int) -> str:
    for unit, step in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= step:
            return f"{size / step:.1f} {unit}"
    return f"{size} B"


def read_attachment(path: Path, name: str | None = None) -> Attachment:
    """Read ``path`` as an attachment (blocks: call it off the event loop)."""
    name = name or path.name
    try:
        if path.is_dir():
            raise AttachmentError(f"{name} is a folder, not a file")
        size = path.stat().st_size
        mime = IMAGE_TYPES.get(path.suffix.lower())
        if mime is not None:
            if size > MAX_IMAGE_BYTES:
                raise AttachmentError(f"{name} is {human_size(size)}: images stop at "
                                      f"{human_size(MAX_IMAGE_BYTES)}; not attached")
            data = path.read_bytes()
            if not data.startswith(_MAGIC[mime]):
                raise AttachmentError(f"{name} is not a {mime.split('/')[1]} image; "
                                      "not attached")
            return ImageFile(name, mime, data)
        if size > MAX_TEXT_BYTES:
            raise AttachmentError(f"{name} is {human_size(size)}: text attachments stop at "
                                  f"{human_size(MAX_TEXT_BYTES)}; not attached")
        data = path.read_bytes()
    except FileNotFoundError:
        raise AttachmentError(f"{name}: no such file") from None
    except PermissionError:
        raise AttachmentError(f"{name}: permission denied") from None
    except OSError as error:
        raise AttachmentError(f"{name}: {error.strerror or error}") from None
    return TextFile(name, decode_text(data, name))


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text, or AttachmentError for binary data."""
    if b"\0" in data[:8192]:
        raise AttachmentError(f"{name} is binary, not text; not attached (images: png, "
                              "jpeg, gif, webp)")
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise AttachmentError(f"{name} is not UTF-8 text; not attached") from None


def fenced(file: TextFile) -> str:
    """The file as a fenced block under its name; the fence is longer than any run of
    backticks inside, so the file can never close it early."""
    longest = max((len(run) for run in re.findall(r"`+", file.text)), default=0)
    fence = "`" * max(3, longest + 1)
    language = LANGUAGES.get(Path(file.name).suffix.lower(), "")
    body = file.text if file.text.endswith("\n") or not file.text else file.text + "\n"
    return f"{file.name}:\n\n{fence}{language}\n{body}{fence}"


def set_apart(before: str, block: str, after: str) -> str:
    """``block`` (a file's fenced block) between ``before`` and ``after``, as a paragraph of
    its own. A chip typed on a line with other text ("see [file a.py · 1 kB] and fix it")
    otherwise glued the text to the fences ("```and fix it"): that line no longer closes the
    block, so the rest of the message became part of the file."""
    head, tail = before.rstrip(" \t"), after.lstrip(" \t")
    if head and not head.endswith("\n\n"):
        head += "\n" if head.endswith("\n") else "\n\n"
    if tail and not tail.startswith("\n\n"):
        tail = ("\n" if tail.startswith("\n") else "\n\n") + tail
    return head + block + tail


def with_files(prompt: str, files: list[TextFile]) -> str:
    """The prompt followed by each text file's block."""
    return "\n\n".join([prompt.rstrip("\n"), *(fenced(f) for f in files)]).strip("\n")


def list_files(root: Path, limit: int = MAX_LISTED) -> list[str]:
    """Files under ``root`` (relative, sorted), skipping hidden and build folders (blocks)."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        relative = Path(folder).relative_to(root)
        for file in sorted(files):
            if not file.startswith("."):
                found.append(str(relative / file) if str(relative) != "." else file)
                if len(found) >= limit:
                    return found
    return found


def fuzzy_rank(query: str, paths: list[str], limit: int = 200) -> list[str]:
    """Paths containing the query's characters in order, best first: matches in the file
    name, then consecutive runs, then shorter paths."""
    needle = query.lower().replace(" ", "")
    if not needle:
        return paths[:limit]
    scored: list[tuple[tuple[int, int, int], str]] = []
    for path in paths:
        haystack = path.lower()
        position, gaps, start = -1, 0, None
        for char in needle:
            found = haystack.find(char, position + 1)
            if found < 0:
                break
            if start is None:
                start = found
            gaps += found - position - 1 if position >= 0 else 0
            position = found
        else:
            in_name = 0 if needle in Path(haystack).name else 1
            scored.append(((in_name, gaps, len(path)), path))
    scored.sort()
    return [path for _, path in scored[:limit]]


# What an image costs in a request, for the meter: OpenAI counts 85 tokens plus 170 per
# 512-pixel tile (765 for a 1024x1024 image); other servers differ. An estimate.
IMAGE_TOKENS = 765


def with_image_parts(messages: list[dict], sent_ids: list[str],
                     images: dict[str, list[ImageFile]]) -> list[dict]:
    """``messages`` (a request; its last ``len(sent_ids)`` entries are those messages) with
    each message that has images as Chat Completions content parts: its text, then one
    ``image_url`` part per image."""
    if not images:
        return messages
    first = len(messages) - len(sent_ids)
    result = list(messages)
    for offset, message_id in enumerate(sent_ids):
        attached = images.get(message_id)
        if attached:
            message = result[first + offset]
            parts: list[dict] = [{"type": "text", "text": message["content"]}]
            parts += [{"type": "image_url", "image_url": {"url": image.data_url}}
                      for image in attached]
            result[first + offset] = {**message, "content": parts}
    return result
