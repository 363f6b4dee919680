"""Short relative times for the conversation list ("5m", "yesterday", "Mar 3").

``now`` is a parameter so the list (and its snapshot tests) can be pinned to a fixed clock.
"""

from __future__ import annotations

from datetime import datetime, timezone


def parse_timestamp(stamp: str) -> datetime:
    """Parse the store's ISO 8601 UTC timestamps (``2026-11-22T02:05:00.123Z``)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def relative_time(stamp: str, now: datetime) -> str:
    try:
        then = parse_timestamp(stamp)
    except ValueError:
        return ""
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    days = (now.date() - then.date()).days
    if days <= 1:
        return "yesterday"
    if days < 7:
        return f"{days}d ago"
    if then.year == now.year:
        return then.strftime("%b %-d")
    return then.strftime("%Y-%m-%d")
