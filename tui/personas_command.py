"""``gpt-tui personas``: list, show, create, rename and delete saved personas.

``gpt-tui personas`` alone lists them (``--json`` for scripts). A persona is used with
``gpt-tui ask --persona NAME`` or, in the app, from the personas list (F11). ``create`` takes
the settings as flags, or copies a conversation's (``--from ID``) with flags on top.
Exit codes: 0 done, 1 database error, 2 bad usage (no such persona, a taken name, a value out
of range: one line saying which).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Callable

from tui.core.literal import printable
from tui.core.models import Strategy
from tui.core.params import (
    check_context_window,
    check_max_tokens,
    check_temperature,
    check_top_p,
    format_param_value,
)
from tui.param_flags import pair, typed

if TYPE_CHECKING:  # the store and personas load when a command runs (--version stays light)
    from tui.core.personas import Persona
    from tui.core.store import Store

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", dest="persona_model", metavar="MODEL",
                        help="model (default: the session's model when used)")
    parser.add_argument("--system", metavar="TEXT", help="system prompt")
    parser.add_argument("--strategy", choices=[s.value for s in Strategy],
                        help="context strategy")
    parser.add_argument("--temperature", type=typed(check_temperature, "temperature"),
                        metavar="T", help="0 to 2")
    parser.add_argument("--top-p", dest="top_p", type=typed(check_top_p, "top_p"),
                        metavar="P", help="0 to 1")
    parser.add_argument("--max-tokens", dest="max_tokens", metavar="N",
                        type=typed(check_max_tokens, "max tokens"), help="reply length limit")
    parser.add_argument("--context-window", dest="context_window", metavar="N",
                        type=typed(check_context_window, "context window"),
                        help="override the model's context window (tokens)")
    parser.add_argument("--json-output", dest="json_output",
                        action=argparse.BooleanOptionalAction, default=None,
                        help="ask for JSON objects")
    parser.add_argument("--param", dest="params", action="append", metavar="NAME=VALUE",
                        type=pair, default=None, help="a server's own parameter (repeatable)")


def register(commands: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser(
        "personas",
        description="Without a subcommand, list the saved personas. A persona starts a chat "
                    "with its settings: gpt-tui ask --persona NAME, or F11 in the app.")
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    add_common(parser)
    parser.set_defaults(handler=run_list)
    sub = parser.add_subparsers(dest="persona_command", metavar="SUBCOMMAND",
                                parser_class=type(parser))

    show = sub.add_parser("show", help="show one persona's settings")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_common(show)
    show.set_defaults(handler=run_show)

    create = sub.add_parser("create", help="save a new persona",
                            description="Save a persona from flags, or from a conversation's "
                                        "settings (--from ID) with flags on top.")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--from", dest="source", metavar="ID",
                        help="copy the settings of conversation ID (a unique prefix)")
    _add_settings(create)
    add_common(create)
    create.set_defaults(handler=run_create)

    rename = sub.add_parser("rename", help="rename a persona")
    rename.add_argument("name", metavar="NAME")
    rename.add_argument("new_name", metavar="NEW_NAME")
    add_common(rename)
    rename.set_defaults(handler=run_rename)

    delete = sub.add_parser("delete", help="delete a persona (chats started from it keep "
                                           "their settings)")
    delete.add_argument("name", metavar="NAME")
    add_common(delete)
    delete.set_defaults(handler=run_delete)


def _fail(error: Exception) -> int:
    print(f"gpt-tui: error: {error}", file=sys.stderr)
    return EXIT_USAGE


def _open(args: argparse.Namespace, *, create: bool = False) -> Store | None:
    from tui.core.paths import resolve_db_path
    from tui.core.store import NoDatabase, Store

    try:
        return Store(resolve_db_path(args.db), create=create)
    except NoDatabase:
        return None


def describe(persona: Persona) -> list[str]:
    """One "setting: value" line per setting that is set."""
    lines = [f"name: {printable(persona.name)}",
             f"model: {printable(persona.model) or '(the session model)'}",
             f"strategy: {persona.strategy.value}"]
    for label, value in (("temperature", persona.temperature), ("top_p", persona.top_p),
                         ("max tokens", persona.max_output_tokens),
                         ("context window", persona.context_window)):
        if value is not None:
            lines.append(f"{label}: {value:g}" if isinstance(value, float)
                         else f"{label}: {value}")
    if persona.json_output:
        lines.append("JSON output: on")
    for name, value in persona.extra_params.items():
        lines.append(f"param {printable(name)}: {printable(format_param_value(value))}")
    if persona.system_prompt:
        lines.append("system prompt:")
        lines += ["  " + printable(line) for line in persona.system_prompt.splitlines()]
    return lines


def run_list(args: argparse.Namespace) -> int:
    from tui.core.personas import Personas
    store = _open(args)
    personas = [] if store is None else Personas(store).list()
    if store is not None:
        store.close()
    if args.json:
        print(json.dumps([p.record() for p in personas], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not personas:
        print("gpt-tui: no personas yet (gpt-tui personas create NAME, or F11 in the app)",
              file=sys.stderr)
        return EXIT_OK
    name_width = min(30, max(4, *(len(p.name) for p in personas)))
    model_width = min(24, max(5, *(len(p.model or "-") for p in personas)))
    print(f"{'NAME':<{name_width}}  {'MODEL':<{model_width}}  {'TEMP':>5}  SYSTEM PROMPT")
    for p in personas:
        temperature = "-" if p.temperature is None else f"{p.temperature:g}"
        prompt = printable(" ".join(p.system_prompt.split()))
        if len(prompt) > 50:
            prompt = prompt[:49] + "…"
        print(f"{printable(p.name)[:name_width]:<{name_width}}  "
              f"{printable(p.model or '-')[:model_width]:<{model_width}}  {temperature:>5}  "
              f"{prompt}")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    from tui.core.personas import PersonaError, Personas
    store = _open(args)
    if store is None:
        return _fail(PersonaError(f"no persona named {args.name!r} (no database yet)"))
    with store:
        try:
            persona = Personas(store).get(args.name)
        except PersonaError as error:
            return _fail(error)
    if args.json:
        print(json.dumps(persona.record(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(describe(persona)))
    return EXIT_OK


def _flag_settings(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for flag, name in (("persona_model", "model"), ("system", "system_prompt"),
                       ("temperature", "temperature"), ("top_p", "top_p"),
                       ("max_tokens", "max_output_tokens"), ("context_window", "context_window"),
                       ("json_output", "json_output")):
        value = getattr(args, flag, None)
        if value is not None:
            values[name] = value
    if args.strategy:
        values["strategy"] = Strategy(args.strategy)
    if args.params:
        values["extra_params"] = {**base.get("extra_params", {}), **dict(args.params)}
    return values


def run_create(args: argparse.Namespace) -> int:
    from tui.core.personas import Persona, PersonaError, Personas, persona_from
    from tui.core.store_errors import AmbiguousId, NotFound
    store = _open(args, create=True)
    assert store is not None
    with store:
        try:
            if args.source:
                conversation = store.resolve_conversation(args.source)
                persona = persona_from(args.name, conversation)
            else:
                persona = Persona(name=args.name)
            values = _flag_settings(args, {"extra_params": persona.extra_params})
            for name, value in values.items():
                setattr(persona, name, value)
            saved = Personas(store).add(persona)
        except (PersonaError, NotFound, AmbiguousId) as error:
            return _fail(error)
    print(f"gpt-tui: saved persona {printable(saved.name)!r}", file=sys.stderr)
    return EXIT_OK


def run_rename(args: argparse.Namespace) -> int:
    from tui.core.personas import PersonaError, Personas
    store = _open(args)
    if store is None:
        return _fail(PersonaError(f"no persona named {args.name!r} (no database yet)"))
    with store:
        try:
            Personas(store).rename(args.name, args.new_name)
        except PersonaError as error:
            return _fail(error)
    # As create and delete say what they did (rename printed nothing).
    print(f"gpt-tui: renamed persona {printable(args.name)!r} to "
          f"{printable(args.new_name)!r}", file=sys.stderr)
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    from tui.core.personas import PersonaError, Personas
    store = _open(args)
    if store is None:
        return _fail(PersonaError(f"no persona named {args.name!r} (no database yet)"))
    with store:
        try:
            Personas(store).delete(args.name)
        except PersonaError as error:
            return _fail(error)
    print(f"gpt-tui: deleted persona {printable(args.name)!r}", file=sys.stderr)
    return EXIT_OK
