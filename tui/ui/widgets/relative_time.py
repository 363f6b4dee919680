"""Short relative times for the conversation list ("5m", "yesterday", "Mar 3").

``now`` is a parameter so the list (and its snapshot tests) can be pinned to a fixed clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def parse_timestamp(stamp: str) -> datetime:
    """Parse the store's ISO 8601 UTC timestamps (``2026-11-22T02:05:00.123Z``)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _moments(stamp: str, now: datetime) -> tuple[datetime, datetime] | None:
    """(then, now), both aware; None for an unreadable stamp."""
    try:
        then = parse_timestamp(stamp)
    except ValueError:
        return None
    return then, now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def relative_time(stamp: str, now: datetime) -> str:
    moments = _moments(stamp, now)
    if moments is None:
        return ""
    then, now = moments
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


def seconds_until_change(stamp: str, now: datetime) -> float | None:
    """How long ``relative_time(stamp, now)`` stays what it is (None: unreadable stamp).

    "just now" turns into "1m ago" a minute after, minutes move each minute, hours each hour,
    days (and the dates past a week, for a new year) at midnight of ``now``'s day."""
    moments = _moments(stamp, now)
    if moments is None:
        return None
    then, now = moments
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 3600:
        return 60 - seconds % 60
    if seconds < 86400:
        return 3600 - seconds % 3600
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=now.tzinfo)
    return (midnight - now).total_seconds()
