"""``gpt-tui windows``, ``strategy``, ``context`` and ``pin``: context management from the shell.

``windows`` lists what was learned about model windows (per server, with where each figure
came from) and forgets one; ``strategy`` shows or sets a chat's strategy (the config's
``strategy`` only applies to new chats); ``context`` prints the next request as the planner
would send it (nothing is sent); ``pin`` keeps a message in every request.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui.cli_support import UsageError
from tui.core.literal import printable
from tui.core.models import Strategy

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def register(commands: Any, add_common: Any) -> None:
    windows = commands.add_parser(
        "windows",
        description="List the context windows gpt-tui learned from servers (/props, "
                    "max_model_len, an overflow error), per server, with their source. "
                    "--forget MODEL forgets what was learned for MODEL (on every server, or "
                    "only on --server URL).")
    windows.add_argument("--forget", metavar="MODEL", help="forget the learned window of MODEL")
    windows.add_argument("--server", metavar="URL", help="with --forget: only on this server")
    windows.add_argument("--json", action="store_true", help="print a JSON array")
    add_common(windows)
    windows.set_defaults(handler=run_windows)

    strategy = commands.add_parser(
        "strategy",
        description="Show (without NAME) or set a conversation's context strategy: summarize, "
                    "truncate or off. The config file's 'strategy' only applies to new chats.")
    strategy.add_argument("id", metavar="ID", help="conversation id or unique prefix")
    strategy.add_argument("name", metavar="NAME", nargs="?",
                          choices=[s.value for s in Strategy], help="summarize, truncate or off")
    add_common(strategy)
    strategy.set_defaults(handler=run_strategy)

    context = commands.add_parser(
        "context",
        description="Print what the next message in conversation ID would send: each stored "
                    "message with its tokens and fate (sent, pinned, summarized, dropped, "
                    "skipped), the summary, the reply reserve and the window with its source. "
                    "Nothing is sent to the model (the server may be asked to count tokens).")
    context.add_argument("id", metavar="ID", help="conversation id or unique prefix")
    context.add_argument("--json", action="store_true", help="print JSON")
    context.add_argument("--model", default=argparse.SUPPRESS, help="model (default: config)")
    context.add_argument("--base-url", dest="base_url", default=argparse.SUPPRESS,
                         help="OpenAI-compatible server")
    add_common(context)
    context.set_defaults(handler=run_context)

    pin = commands.add_parser(
        "pin",
        description="Pin message MESSAGE_ID (or a unique prefix of it) of conversation ID, so "
                    "every request sends it; --unpin undoes it.")
    pin.add_argument("id", metavar="ID", help="conversation id or unique prefix")
    pin.add_argument("message_id", metavar="MESSAGE_ID", help="message id or unique prefix")
    pin.add_argument("--unpin", action="store_true", help="unpin instead")
    add_common(pin)
    pin.set_defaults(handler=run_pin)


def _store(args: argparse.Namespace, *, create: bool = False):
    from tui.cli_support import open_store
    from tui.core.paths import resolve_db_path
    from tui.core.store import NoDatabase, Store

    try:
        return Store(resolve_db_path(args.db), create=True) if create else open_store(args)
    except NoDatabase as error:
        raise UsageError(f"no conversations yet ({error})") from None


def run_windows(args: argparse.Namespace) -> int:
    from tui.core.hosts import sanitize_url
    from tui.core.store import NoDatabase
    from tui.core.windows import format_window

    try:
        store = _store(args)
    except UsageError:
        if args.forget:
            raise
        print("[]" if args.json else "no learned windows", file=sys.stdout if args.json
              else sys.stderr)
        return EXIT_OK
    except NoDatabase:  # pragma: no cover - _store maps it
        return EXIT_OK
    with store:
        if args.forget:
            removed = store.forget_model_window(args.forget, args.server)
            if not removed:
                raise UsageError(f"no learned window for {args.forget!r}"
                                 + (f" on {sanitize_url(args.server)}" if args.server else ""))
            print(f"forgot {removed} learned window(s) for {args.forget}", file=sys.stderr)
            return EXIT_OK
        rows = store.list_model_windows()
    if args.json:
        print(json.dumps([{"server": r.base_url or None, "model": r.model,
                           "window": r.context_window, "source": r.source,
                           "updated": r.updated, "refused": r.refused} for r in rows],
                         indent=2))
        return EXIT_OK
    if not rows:
        print("no learned windows", file=sys.stderr)
        return EXIT_OK
    width = max(5, *(len(r.model) for r in rows))
    print(f"{'MODEL':<{width}}  {'WINDOW':>7}  {'SOURCE':<8}  SERVER")
    for r in rows:
        print(f"{printable(r.model):<{width}}  {format_window(r.context_window):>7}  "
              f"{r.source:<8}  {r.base_url or '(any server: learned before windows had one)'}")
    return EXIT_OK


def run_strategy(args: argparse.Namespace) -> int:
    with _store(args) as store:
        conversation = store.resolve_conversation(args.id)
        if args.name is None:
            print(conversation.strategy.value)
            return EXIT_OK
        store.update_conversation(conversation.id, strategy=Strategy(args.name))
    print(f"{conversation.id}: strategy {conversation.strategy.value} -> {args.name}",
          file=sys.stderr)
    return EXIT_OK


def run_pin(args: argparse.Namespace) -> int:
    from tui.core.store import NotFound

    with _store(args) as store:
        conversation = store.resolve_conversation(args.id)
        wanted = args.message_id.strip().upper()
        matches = [m for m in store.load_messages(conversation.id) if m.id.startswith(wanted)]
        if not wanted or not matches:
            raise NotFound(f"no message {args.message_id!r} in conversation {conversation.id}")
        if len(matches) > 1:
            raise UsageError(f"message id prefix {args.message_id!r} matches several messages; "
                             "type more of it")
        store.set_message_pinned(matches[0].id, not args.unpin)
    print(f"{'unpinned' if args.unpin else 'pinned'} {matches[0].id}", file=sys.stderr)
    return EXIT_OK


def run_context(args: argparse.Namespace) -> int:
    from tui.command_signals import exit_now, run_until_signal
    from tui.core.config import ConfigError
    from tui.core.preview import preview_request
    from tui.core.services import open_services
    from tui.core.store import NoDatabase

    try:
        services = open_services(db_path=args.db, flags={
            "model": getattr(args, "model", None), "base_url": getattr(args, "base_url", None)},
            create=False)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except NoDatabase as error:
        raise UsageError(f"no conversations yet ({error})") from None
    try:
        conversation = services.store.resolve_conversation(args.id)
        services.counter.wait_loaded()

        async def run() -> Any:
            try:
                return await preview_request(services.flow, conversation)
            finally:
                await services.client.aclose()

        # A signal another thread gets still ends it at once (tui.command_signals).
        preview, ended = run_until_signal(
            run(), lambda signum: exit_now(128 + signum, sys.stderr.flush))
        if preview is None:  # cancelled by the signal
            print(f"gpt-tui: {ended.said}", file=sys.stderr)
            return ended.exit_code
    finally:
        services.close()
    if args.json:
        print(json.dumps(preview.to_json(), indent=2, ensure_ascii=False))
        return EXIT_OK
    print(render_preview(preview))
    return EXIT_OK


def render_preview(preview: Any) -> str:
    """The preview as text: a header, one line per message, the summary."""
    from tui.core.windows import format_window

    # As the app's preview (F6) says it: the local count is the model's own on OpenAI's
    # models (the meter shows no ≈ there); "estimated" alone contradicted the app.
    counted = ("the server's count" if preview.exact
               else "counted locally: exact on OpenAI's own models, else an estimate")
    lines = [
        f"conversation {preview.conversation_id} · {preview.model} · strategy {preview.strategy}",
        f"window {format_window(preview.window)} ({preview.window:,} tokens, from "
        f"{preview.window_source}) · reply reserve {preview.reply_reserve:,} · prompt budget "
        f"{preview.available:,}",
        f"next request: {preview.tokens:,} tokens ({counted}) of {preview.available:,}; "
        f"whole conversation {preview.full_tokens:,}",
    ]
    if preview.error:
        lines.append(f"cannot be sent as is: {preview.error}")
    if preview.will_summarize:
        lines.append("the next send summarizes the messages marked 'summarized' first")
    lines.append("")
    for item in preview.items:
        text = printable(" ".join(item.content.split()))
        if len(text) > 60:
            text = text[:59] + "…"
        lines.append(f"{item.fate:<10} {item.tokens:>6}  {item.message_id}  {item.role:<9} {text}")
    if preview.summary:
        lines += ["", "summary sent in their place:", printable(preview.summary)]
    return "\n".join(lines)
