"""The flags of ``gpt-tui ask`` and the chat settings they ask for (see ``ask_command``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tui.core.models import Strategy
from tui.core.params import check_max_tokens, check_temperature, check_top_p
from tui.param_flags import removable_pair, typed

__all__ = ["add_ask_parser", "requested_settings", "with_params"]


def add_ask_parser(commands: Any, add_common: Callable[[argparse.ArgumentParser], None]
                   ) -> argparse.ArgumentParser:
    """The ``ask`` command's parser, its flags added (the caller sets its handler)."""
    parser = commands.add_parser(
        "ask",
        description="Send PROMPT (or standard input) and stream the reply to stdout. "
                    "Both messages are stored like in the app; the conversation id is "
                    "printed on stderr at the end.",
    )
    parser.add_argument("prompt", nargs="?", help="the message; read from stdin when omitted")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("-c", dest="conversation", metavar="ID",
                       help="continue conversation ID (a unique prefix is enough)")
    which.add_argument("--continue", dest="continue_last", action="store_true",
                       help="continue the most recent conversation")
    # SUPPRESS: don't clobber the global --model/--base-url given before "ask".
    parser.add_argument("--model", default=argparse.SUPPRESS, help="model to use")
    parser.add_argument("--base-url", dest="base_url", default=argparse.SUPPRESS,
                        help="OpenAI-compatible server, e.g. http://localhost:11434/v1")
    parser.add_argument("--system", help="system prompt (new conversation, or replace it)")
    parser.add_argument("--strategy", choices=[s.value for s in Strategy],
                        help="context strategy for this conversation (kept for later turns): "
                             "summarize, truncate or off")
    parser.add_argument("-f", "--file", dest="files", action="append", metavar="FILE",
                        default=[], help="attach FILE (repeat for more): text files as "
                                         "fenced blocks, png/jpeg/gif/webp as images")
    parser.add_argument("--temperature", type=typed(check_temperature, "temperature"),
                        metavar="T", help="sampling temperature, 0 to 2 (kept for the chat)")
    parser.add_argument("--top-p", dest="top_p", type=typed(check_top_p, "top_p"),
                        metavar="P", help="nucleus sampling, 0 to 1 (kept for the chat)")
    parser.add_argument("--max-tokens", dest="max_tokens", metavar="N",
                        type=typed(check_max_tokens, "max tokens"),
                        help="most tokens the reply may have (kept for the chat)")
    parser.add_argument("--json", dest="json_output", action=argparse.BooleanOptionalAction,
                        default=None,
                        help="ask for a JSON object (response_format); the reply is checked "
                             "to parse, exit status 3 if it does not (kept for the chat)")
    parser.add_argument("--param", dest="params", action="append", metavar="NAME=VALUE",
                        type=removable_pair, default=None,
                        help="a server's own request parameter, e.g. top_k=40 or min_p=0.05 "
                             "(repeatable; NAME= with no value removes it; kept for the chat)")
    parser.add_argument("--persona", metavar="NAME",
                        help="start from a saved persona (gpt-tui personas): its model, "
                             "system prompt and parameters; other flags win over it")
    add_common(parser)
    return parser


def requested_settings(args: argparse.Namespace) -> dict[str, object]:
    """The chat settings the flags set (only those given)."""
    wanted: dict[str, object] = {}
    for flag, field in (("temperature", "temperature"), ("top_p", "top_p"),
                        ("max_tokens", "max_output_tokens"), ("json_output", "json_output")):
        value = getattr(args, flag, None)
        if value is not None:
            wanted[field] = value
    if getattr(args, "strategy", None):
        wanted["strategy"] = Strategy(args.strategy)
    if getattr(args, "system", None) is not None:
        wanted["system_prompt"] = args.system
    return wanted


def with_params(base: dict[str, object], args: argparse.Namespace) -> dict[str, object]:
    """``base`` extra parameters with --param's additions and removals."""
    extra = dict(base)
    for name, value in getattr(args, "params", None) or []:
        if value is None:
            extra.pop(name, None)
        else:
            extra[name] = value
    return extra
