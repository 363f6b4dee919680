"""``gpt-tui usage``: tokens and estimated cost per conversation, day or month.

The figures are the servers' own usage reports, replies and the summary and title requests
behind them alike; requests whose server sent none are counted
apart ("no usage"), and a cost only appears where the price table ([prices] in the config,
or the built-in OpenAI prices on OpenAI's API) has the model or server: otherwise "unknown".
Exit codes: 0, 1 database error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Callable

from tui.cells import clip_cells
from tui.core.literal import printable

if TYPE_CHECKING:  # loaded when the command runs (--version stays light)
    from tui.core.usage import UsageTotal

EXIT_OK, EXIT_USAGE = 0, 2


def register(commands: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser(
        "usage",
        description="Sum the usage servers reported for each reply (prompt, cached and "
                    "completion tokens) per conversation (default), day or month (UTC), with "
                    "the estimated cost from the price table ([prices] in the config; "
                    "built-in prices for OpenAI's API). Without a price the cost is "
                    "'unknown', never $0.")
    parser.add_argument("--by", choices=("conversation", "day", "month"),
                        default="conversation", help="how to group (default: conversation)")
    parser.add_argument("-c", "--conversation", metavar="ID",
                        help="only this conversation (a unique id prefix)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_common(parser)
    parser.set_defaults(handler=run_usage)


def run_usage(args: argparse.Namespace) -> int:
    from tui.core.config import load_settings
    from tui.core.paths import resolve_db_path
    from tui.core.store import AmbiguousId, NoDatabase, NotFound, Store
    from tui.core.usage import grand_total, usage_totals

    settings = load_settings(flags={"model": getattr(args, "model", None),
                                    "base_url": getattr(args, "base_url", None)})
    try:
        store = Store(resolve_db_path(args.db), create=False)
    except NoDatabase:
        totals: list[UsageTotal] = []
    else:
        with store:
            conversation_id = None
            if args.conversation:
                try:
                    conversation_id = store.resolve_conversation(args.conversation).id
                except (NotFound, AmbiguousId) as error:
                    print(f"gpt-tui: error: {error}", file=sys.stderr)
                    return EXIT_USAGE
            totals = usage_totals(store, settings.prices, by=args.by,
                                  conversation_id=conversation_id)
    total = grand_total(totals)
    if args.json:
        print(json.dumps({"by": args.by, "rows": [t.record() for t in totals],
                          "total": total.record()}, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not totals:
        print("gpt-tui: no replies yet", file=sys.stderr)
        return EXIT_OK
    print_table(totals, total, args.by)
    return EXIT_OK


def print_table(totals: list[UsageTotal], total: UsageTotal, by: str) -> None:
    """Columns measured in terminal cells (a CJK title is two a character: it pushed every
    column after it out of line), REPLIES as wide as its widest entry ("3 + 6
    summary/title")."""
    from rich.cells import cell_len

    heading = {"conversation": "CONVERSATION", "day": "DAY (UTC)", "month": "MONTH"}[by]
    labels = [(printable(" ".join(t.label.split())) if by == "conversation" else t.label)
              for t in totals]
    if by == "conversation":
        labels = [f"{t.key[:10]}  {clip_cells(label, 40)}"
                  for t, label in zip(totals, labels)]
    rows = [*zip(labels, totals), ("total", total)]
    width = max(len(heading), 5, *(cell_len(label) for label in labels))
    replies_width = max(7, *(len(t.requests_text()) for _, t in rows))

    def pad(text: str) -> str:
        return text + " " * (width - cell_len(text))

    print(f"{pad(heading)}  {'REPLIES':>{replies_width}}  {'PROMPT':>10}  {'CACHED':>9}  "
          f"{'COMPLETION':>10}  COST")
    for label, t in rows:
        replies = t.requests_text()
        print(f"{pad(label)}  {replies:>{replies_width}}  {t.prompt_tokens:>10,}  "
              f"{t.cached_tokens:>9,}  {t.completion_tokens:>10,}  {t.cost_text()}")
