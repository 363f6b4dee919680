"""Usage and cost: per reply, and totals per conversation, day and month.

Every figure is the server's own (``usage`` in its reply: prompt, completion and cached
tokens); a reply whose server sent none counts as a reply with unknown usage, never as an
estimate. The requests that are not replies (summaries of old turns, model-written titles)
are billed too: they are kept in ``side_requests`` and their tokens and cost are in the
totals, counted apart from the replies. Costs come from the price table (tui.core.pricing) applied to those figures, per
model and server: a reply with no price adds no cost, and a total with no priced reply is
"unknown", not $0. Days and months are UTC, as the store's timestamps are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from tui.core.client_records import UsageReport
from tui.core.models import Message, utc_now
from tui.core.pricing import Price, format_cost, price_for
from tui.core.store import Store

Grouping = Literal["conversation", "day", "month"]


@dataclass
class UsageTotal:
    """Replies of one conversation, day or month (or all of them: ``key`` "total")."""

    key: str
    label: str
    replies: int = 0
    reported: int = 0  # replies whose server reported usage
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    priced: int = 0  # reported replies with a price
    _cost: float = 0.0
    last: str = ""  # the newest reply's time
    # Summaries and titles: how many, how many with usage, how many of those priced.
    side: int = 0
    side_reported: int = 0
    side_priced: int = 0

    @property
    def cost(self) -> float | None:
        """Dollars for the priced requests; None when none has a price."""
        return self._cost if self.priced or self.side_priced else None

    @property
    def unpriced(self) -> int:
        """Requests (replies, summaries, titles) with usage but no price."""
        return self.reported - self.priced + self.side_reported - self.side_priced

    @property
    def unreported(self) -> int:
        """Requests (replies, summaries, titles) whose server sent no usage."""
        return self.replies - self.reported + self.side - self.side_reported

    def requests_text(self) -> str:
        """"12", "12 + 3 summary/title", with "(2 no usage)" when some sent none."""
        text = str(self.replies)
        if self.side:
            text += f" + {self.side} summary/title"
        return text + (f" ({self.unreported} no usage)" if self.unreported else "")

    def add(self, other: UsageTotal) -> None:
        self.replies += other.replies
        self.reported += other.reported
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens
        self.priced += other.priced
        self._cost += other._cost
        self.last = max(self.last, other.last)
        self.side += other.side
        self.side_reported += other.side_reported
        self.side_priced += other.side_priced

    def cost_text(self) -> str:
        """"$0.0123", "$0.01 + 3 unpriced", or "unknown"."""
        if self.cost is None:
            return "unknown"
        text = format_cost(self.cost)
        return f"{text} + {self.unpriced} unpriced" if self.unpriced else text

    def record(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "replies": self.replies,
                "replies_without_usage": self.replies - self.reported, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cached_tokens": self.cached_tokens, "cost_usd": self.cost,
                "replies_without_price": self.reported - self.priced,
                "summary_and_title_requests": self.side}


_QUERY = """
SELECT m.conversation_id, c.title, substr(m.created, 1, 10), coalesce(m.model, c.model),
       m.server, count(*), count(m.prompt_tokens), coalesce(sum(m.prompt_tokens), 0),
       coalesce(sum(m.completion_tokens), 0), coalesce(sum(m.cached_tokens), 0),
       max(m.created)
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.role = 'assistant' AND m.status != 'error' {where}
GROUP BY m.conversation_id, substr(m.created, 1, 10), coalesce(m.model, c.model), m.server
"""


_SIDE_QUERY = """
SELECT s.conversation_id, c.title, substr(s.created, 1, 10), s.model, s.server, count(*),
       count(s.prompt_tokens), coalesce(sum(s.prompt_tokens), 0),
       coalesce(sum(s.completion_tokens), 0), coalesce(sum(s.cached_tokens), 0), max(s.created)
FROM side_requests s JOIN conversations c ON c.id = s.conversation_id
WHERE 1 {where}
GROUP BY s.conversation_id, substr(s.created, 1, 10), s.model, s.server
"""


def record_side_request(store: Store, conversation_id: str, kind: str, *, model: str,
                        server: str | None, usage: UsageReport | None) -> None:
    """Keep the usage of a summary or title request (``usage`` None: the server sent none)."""
    row = (conversation_id, kind, model, server,
           None if usage is None else usage.prompt_tokens,
           None if usage is None else usage.completion_tokens,
           None if usage is None else usage.cached_tokens, utc_now())

    def insert(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO side_requests (conversation_id, kind, model, server, "
                     "prompt_tokens, completion_tokens, cached_tokens, created) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)

    store.run(insert, write=True)


def usage_totals(store: Store, prices: Mapping[str, Price], *, by: Grouping,
                 conversation_id: str | None = None) -> list[UsageTotal]:
    """Totals per ``by``: conversations by their newest reply, days and months newest first."""
    def where(alias: str) -> str:
        return f"AND {alias}.conversation_id = ?" if conversation_id else ""

    params = (conversation_id,) if conversation_id else ()

    def query(conn: sqlite3.Connection) -> tuple[list[tuple], list[tuple]]:
        return (conn.execute(_QUERY.format(where=where("m")), params).fetchall(),
                conn.execute(_SIDE_QUERY.format(where=where("s")), params).fetchall())

    replies, sides = store.run(query)
    totals: dict[str, UsageTotal] = {}
    for side, rows in ((False, replies), (True, sides)):
        for (cid, title, day, model, server, count, reported, prompt, completion, cached,
             last) in rows:
            key = {"conversation": cid, "day": day, "month": day[:7]}[by]
            label = (title or "(untitled)") if by == "conversation" else key
            part = UsageTotal(key, label, prompt_tokens=prompt, completion_tokens=completion,
                              cached_tokens=cached, last=last)
            price = price_for(model, server, prices)
            priced = reported if price is not None else 0
            if side:
                part.side, part.side_reported, part.side_priced = count, reported, priced
            else:
                part.replies, part.reported, part.priced = count, reported, priced
            if price is not None and reported:
                part._cost = price.cost(prompt, completion, cached)
            totals.setdefault(key, UsageTotal(key, label)).add(part)
    order = (lambda t: t.last) if by == "conversation" else (lambda t: t.key)
    return sorted(totals.values(), key=order, reverse=True)


def grand_total(totals: list[UsageTotal]) -> UsageTotal:
    total = UsageTotal("total", "total")
    for part in totals:
        total.add(part)
    return total


# -- one reply ------------------------------------------------------------------------------

def tokens_per_second(message: Message) -> float | None:
    """The server's completion tokens over the time from the first token to the last."""
    if (message.completion_tokens is None or message.duration_ms is None
            or message.first_token_ms is None):
        return None
    span = message.duration_ms - message.first_token_ms
    if message.completion_tokens < 2 or span <= 0:
        return None
    return message.completion_tokens / (span / 1000)


def reply_usage_text(message: Message, price: Price | None = None) -> str:
    """One line for a reply's header: tokens (with cached), speed and, with a price, cost."""
    parts = []
    if message.prompt_tokens is None:
        parts.append("usage not reported by the server")
    else:
        prompt = f"{message.prompt_tokens:,} in"
        if message.cached_tokens:
            prompt += f" ({message.cached_tokens:,} cached)"
        parts.append(prompt)
        parts.append(f"{message.completion_tokens or 0:,} out")
    if message.first_token_ms is not None:
        parts.append(f"first token {message.first_token_ms / 1000:.2f} s")
    speed = tokens_per_second(message)
    if speed is not None:
        parts.append(f"{speed:,.1f} tok/s")
    if price is not None and message.prompt_tokens is not None:
        parts.append(format_cost(price.cost(message.prompt_tokens,
                                            message.completion_tokens or 0,
                                            message.cached_tokens)))
    return " · ".join(parts)
