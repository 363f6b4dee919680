"""``gpt-tui list`` and ``gpt-tui search``: the store, read and printed for people or scripts.

Both only read (a missing database is an empty listing), page through the store instead of
loading it whole, and import neither the SDK nor Textual nor sqlite-utils (checked by
tests/test_cli_imports.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.cli_support import EXIT_FAILURE, EXIT_OK, UsageError, open_store, utf8_text
from tui.core.literal import printable
from tui.core.models import HIGHLIGHT_END, HIGHLIGHT_START, Conversation

if TYPE_CHECKING:
    from tui.core.store import Store

PLAIN_MARK = "**"
BOLD, RESET = "\x1b[1m", "\x1b[0m"
SHORT_ID = 8


def _open_for_listing(args: argparse.Namespace) -> Store | None:
    """The store, or None when there is no database yet (an empty listing, not an error)."""
    from tui.core.store_errors import NoDatabase

    try:
        return open_store(args)
    except NoDatabase:
        if args.json:
            print("[]")
        return None


def _short_ids(all_ids: list[str]) -> dict[str, str]:
    """The shortest prefix (at least SHORT_ID characters) that tells each id apart.

    Sorted, an id's nearest rivals are its neighbours; each neighbour pair is compared once,
    and only pairs that share the first SHORT_ID characters character by character (10,000
    ids: 30 ms, was 0.1-0.2 s, the most of ``list | head -1`` on a big store).
    """
    ordered = sorted(all_ids)

    def common(a: str, b: str) -> int:
        if a[:SHORT_ID] != b[:SHORT_ID]:
            return 0  # shorter than SHORT_ID: the exact length does not matter
        n, end = SHORT_ID, min(len(a), len(b))
        while n < end and a[n] == b[n]:
            n += 1
        return n

    pairs = [common(a, b) for a, b in zip(ordered, ordered[1:])]
    short: dict[str, str] = {}
    for i, cid in enumerate(ordered):
        need = max(pairs[i - 1] if i else 0, pairs[i] if i < len(pairs) else 0)
        short[cid] = cid[:max(SHORT_ID, need + 1)]
    return short


def _local_time(stamp: str) -> str:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp[:16]
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _one_line(text: str, width: int | None = None) -> str:
    flat = printable(" ".join(text.split()))
    if width is not None and len(flat) > width:
        flat = flat[:width - 1] + "…"
    return flat


def _styled_snippet(snippet: str, tty: bool) -> str:
    start, end = (BOLD, RESET) if tty else (PLAIN_MARK, PLAIN_MARK)
    # Make other control characters visible first, then turn the markers into styling.
    guarded = snippet.replace(HIGHLIGHT_START, "\ue000").replace(HIGHLIGHT_END, "\ue001")
    return _one_line(guarded).replace("\ue000", start).replace("\ue001", end)


def _conversation_record(conversation: Conversation, message_count: int) -> dict[str, Any]:
    record = asdict(conversation)
    record["strategy"] = conversation.strategy.value
    record["message_count"] = message_count
    return record


# -- commands -------------------------------------------------------------------------------

def _say_empty(archived: int) -> None:
    """An empty listing says so on stderr (stdout stays empty for scripts)."""
    if archived:
        print(f"gpt-tui: no conversations ({archived} archived: see --all)", file=sys.stderr)
    else:
        print("gpt-tui: no conversations yet", file=sys.stderr)


LIST_PAGE = 500


def _listed(store: Store, args: argparse.Namespace, total: int) -> Iterator[
        tuple[Conversation, int]]:
    """The listing's conversations with their message counts, one page at a time."""
    archived = None if args.all else False
    offset = 0
    while offset < total:
        page = store.list_conversations(limit=min(LIST_PAGE, total - offset), offset=offset,
                                        archived=archived)
        if not page:
            return
        counts = store.message_counts([c.id for c in page])
        for conversation in page:
            yield conversation, counts[conversation.id]
        offset += len(page)


def _print_json_array(records: Iterable[dict[str, Any]]) -> None:
    """``json.dumps(list, indent=2)``, written one element at a time."""
    import json

    first = True
    for record in records:
        element = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        sys.stdout.write(("[\n  " if first else ",\n  ") + element)
        first = False
    sys.stdout.write("[]\n" if first else "\n]\n")


def run_list(args: argparse.Namespace) -> int:
    """Prints page by page: ``gpt-tui list | head`` stops at the first page (see main)."""
    store = _open_for_listing(args)
    if store is None:
        if not args.json:
            _say_empty(0)
        return EXIT_OK
    with store:
        keys = store.listing_widths(archived=None if args.all else False, limit=args.limit)
        if args.json:
            _print_json_array(_conversation_record(c, count)
                              for c, count in _listed(store, args, len(keys)))
            return EXIT_OK
        if not keys:
            hidden = 0 if args.all else store.count_conversations(archived=True)
            _say_empty(hidden)
            return EXIT_OK
        short = _short_ids(store.conversation_ids())
        id_width = max(len(short[cid]) for cid, _ in keys)
        model_width = min(24, max(5, *(size for _, size in keys)))
        print(f"{'ID':<{id_width}}  {'UPDATED':<16}  {'MSGS':>5}  {'':3}"
              f"{'MODEL':<{model_width}}  TITLE")
        for c, count in _listed(store, args, len(keys)):
            flags = ("*" if c.pinned else " ") + ("a" if c.archived else " ")
            title = _one_line(c.title, 60) or "(untitled)"
            print(f"{short[c.id]:<{id_width}}  {_local_time(c.updated):<16}  {count:>5}  "
                  f"{flags} {_one_line(c.model, model_width):<{model_width}}  {title}")
    return EXIT_OK


def _no_match(query: str) -> int:
    """Like grep: no hit is exit status 1, said on stderr."""
    print(f"gpt-tui: nothing matches {query!r}", file=sys.stderr)
    return EXIT_FAILURE


def run_search(args: argparse.Namespace) -> int:
    import json

    query = utf8_text(" ".join(args.query), "the search")
    if not query.strip():
        raise UsageError("the search is empty: give the words to look for")
    store = _open_for_listing(args)
    if store is None:
        return _no_match(query)
    with store:
        hits = store.search(query, limit=max(0, args.limit), include_archived=not args.active)
        short = _short_ids(store.conversation_ids()) if hits and not args.json else {}
    if args.json:
        records = [{"conversation_id": h.conversation.id, "title": h.conversation.title,
                    "message_id": h.message_id, "in": "title" if h.message_id is None
                    else "message", "snippet": _styled_snippet(h.snippet, tty=False)}
                   for h in hits]
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return EXIT_OK if hits else _no_match(query)
    if not hits:
        return _no_match(query)
    tty = sys.stdout.isatty()
    for hit in hits:
        c = hit.conversation
        print(f"{short[c.id]}  {_local_time(c.updated)}  {_one_line(c.title, 60) or '(untitled)'}")
        where = "title" if hit.message_id is None else "message"
        print(f"    {where}: {_styled_snippet(hit.snippet, tty)}")
    return EXIT_OK
