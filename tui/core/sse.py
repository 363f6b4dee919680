"""Server-sent events and the JSON chunks in them, read from a streamed reply's raw bytes,
and a whole completion's JSON (a non-streamed reply, or a server that ignores "stream").

The client reads the body itself (not through the SDK's decoder) to keep per-token cost
small; this module is that reader, kept apart so it can be tested byte by byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tui.core import client_errors as errors
from tui.core.client_errors import ClientError, StreamCut
from tui.core.client_records import Completion, Finished, StreamEvent, UsageReport


class SSEDecoder:
    """Server-sent events out of the bytes of a body as they arrive.

    ``feed`` returns ``(event name, data)`` for each event completed by the bytes given (data
    lines joined by newlines, the one optional space after ``data:`` removed); comments
    (``: keep-alive``), ``id:`` and ``retry:`` are skipped. Lines may end in LF, CRLF or CR,
    and any of them may be split across reads. As the SSE spec says, an event the body ends
    inside (no blank line after it) is dropped, as the SDK's decoder does. The common case
    (one ``data:`` line and a blank line per read) costs a split and a few comparisons.
    """

    __slots__ = ("_tail", "_data", "_event", "_skip_lf")

    def __init__(self) -> None:
        self._tail = b""
        self._data: list[bytes] = []
        self._event = b""
        self._skip_lf = False  # the last read ended in CR: a LF starting the next is its pair

    def feed(self, raw: bytes) -> list[tuple[bytes, bytes]]:
        if self._skip_lf:
            self._skip_lf = False
            if raw[:1] == b"\n":
                raw = raw[1:]
        buffer = self._tail + raw if self._tail else raw
        if b"\r" in buffer:
            self._skip_lf = buffer.endswith(b"\r")
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._tail = lines.pop()
        events: list[tuple[bytes, bytes]] = []
        for line in lines:
            if not line:  # a blank line dispatches the event
                if self._data:
                    data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
                    events.append((self._event, data))
                    self._data = []
                self._event = b""
            elif line.startswith(b"data:"):
                self._data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line[0] != 58:  # 58 is ":", a comment
                field, _, value = line.partition(b":")
                if field == b"event":
                    self._event = value[1:] if value[:1] == b" " else value
        return events


@dataclass
class ReadEvents:
    """What one read of a streamed reply brought: its text as one delta (a gathered read
    holds several events), then its finish and usage, then the error event that ended it."""

    text: str = ""
    after: list[StreamEvent] = field(default_factory=list)
    failure: ClientError | None = None
    events: int = 0
    done: bool = False
    """``[DONE]`` came: the reply is over."""
    finished: bool = False
    """A finish reason came."""


def read_events(decoder: SSEDecoder, raw: bytes) -> ReadEvents:
    """The chat completion chunks in ``raw``, the next bytes of the body. The words before
    an error event are kept: a cut reply stores them."""
    got = ReadEvents()
    texts: list[str] = []
    try:
        for name, data in decoder.feed(raw):
            got.events += 1
            if data.startswith(b"[DONE]"):
                got.done = True
                break
            chunk = event_json(name, data)
            choices = chunk.get("choices")
            if choices:
                choice = choices[0]
                delta = choice.get("delta")
                text = delta.get("content") if delta else None
                if text:
                    texts.append(text)
                reason = choice.get("finish_reason")
                if reason:
                    got.finished = True
                    got.after.append(Finished(reason))
            usage = chunk.get("usage")
            if usage:
                got.after.append(usage_report(usage))
    except ClientError as error:
        got.failure = error
    got.text = texts[0] if len(texts) == 1 else "".join(texts)
    return got


def event_json(name: bytes, data: bytes) -> dict[str, Any]:
    """One event's JSON; an ``error`` the server sent in the stream raises its ClientError."""
    try:
        chunk = json.loads(data)
    except ValueError:
        shown = data[:80].decode("utf-8", "replace")
        raise StreamCut(f"the server sent an unreadable event: {shown!r}") from None
    if not isinstance(chunk, dict):
        if name == b"error":
            raise errors.stream_error(chunk)
        return {}
    if chunk.get("error") or name == b"error":
        raise errors.stream_error(chunk.get("error") or chunk)
    return chunk


def usage_report(usage: dict[str, Any]) -> UsageReport:
    """The server's usage object; cached tokens only when it reported them."""
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return UsageReport(token_count(usage.get("prompt_tokens")),
                       token_count(usage.get("completion_tokens")),
                       cached if isinstance(cached, int) and not isinstance(cached, bool)
                       and cached >= 0 else None)


def token_count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def completion(data: Any, shown_url: str) -> Completion:
    """A whole chat completion's JSON as a :class:`Completion`; what is not one is an error."""
    if not isinstance(data, dict) or "choices" not in data:
        raise errors.ClientError(f"{shown_url} did not answer with a chat completion")
    usage = data.get("usage")
    report = None
    if isinstance(usage, dict) and token_count(usage.get("prompt_tokens")):
        report = usage_report(usage)
    choices = data.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(choice, dict):
        return Completion("", None, report)
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    reason = choice.get("finish_reason")
    return Completion(content if isinstance(content, str) else "",
                      reason if isinstance(reason, str) else None, report)


def is_json_body(response: Any) -> bool:
    """Whether an HTTP response says its body is JSON (not an event stream)."""
    kind = response.headers.get("content-type", "")
    return kind.split(";")[0].strip().lower() == "application/json"
