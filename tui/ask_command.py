"""``gpt-tui ask``: one turn of a conversation, headless, through the same flow as the app.

The reply streams to stdout as it arrives; everything else (notices, retries, errors, the
conversation id) goes to stderr, so ``gpt-tui ask "..." > answer.md`` captures only the
answer. Exit codes: 0 success, 1 model/server error, 2 bad usage (a file that cannot be
attached included), 130 Ctrl-C (the partial reply is kept in the database as interrupted),
143 ``kill`` or ``timeout`` (SIGTERM: the same as Ctrl-C, with the signal's own code), 3 the
reply to a request for JSON (``--json``, or a chat or persona set to JSON output) does not
parse as JSON (the reply is still printed and stored).

``--temperature``, ``--top-p``, ``--max-tokens``, ``--json`` and ``--param`` set the
conversation's own settings, kept for later turns like ``--system`` and ``--strategy``;
``--persona NAME`` starts (or re-sets) the conversation from a saved persona, and flags
given with it win over the persona's values.

Files go with the prompt (``-f FILE``, repeatable): text files as fenced blocks under their
names, images as image parts. Standard input piped in next to a prompt
(``git diff | gpt-tui ask "review this"``) is attached like a text file named "stdin".
"""

from __future__ import annotations

import argparse
import logging
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tui.ask_flags import add_ask_parser, requested_settings, with_params
from tui.cli_support import UsageError, silence_closed_output, utf8_text
from tui.core.attachments import (
    AttachmentError,
    ImageFile,
    TextFile,
    decode_text,
    read_attachment,
    with_files,
)
from tui.core.literal import printable
from tui.core.models import Conversation

if TYPE_CHECKING:  # the flow pulls in the openai SDK: imported when `ask` runs, not before
    from tui.core.services import Services
    from tui.core.session import NewConversation

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# SIGTERM (``kill``, ``timeout 60 gpt-tui ask ...``) while a reply streams ends it the way
# Ctrl-C does (the partial reply stored as interrupted; tui.command_signals), with its own
# code.
EXIT_TERMINATED = 128 + 15


# The reply to a request for a JSON object is not valid JSON.
EXIT_NOT_JSON = 3

log = logging.getLogger(__name__)


def register(commands: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    add_ask_parser(commands, add_common).set_defaults(handler=run)


def _read_prompt(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.prompt is not None:
        prompt = args.prompt
    elif stdin is not None and not stdin.isatty():
        prompt = stdin.read()
    else:
        raise UsageError("no prompt: give it as an argument or on standard input")
    if not prompt.strip():
        raise UsageError("the prompt is empty")
    return utf8_text(prompt, "the prompt")


def _piped(stdin: TextIO | None) -> bool:
    """True when stdin is a pipe or a file (not a terminal, not /dev/null)."""
    if stdin is None or stdin.isatty():
        return False
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):
        return False  # no file descriptor (a test runner's stand-in): nothing piped
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _attachments(args: argparse.Namespace, prompt: str,
                 stdin: TextIO | None) -> tuple[str, list[ImageFile]]:
    """The prompt with the text files (and piped stdin) in it, and the images apart."""
    texts: list[TextFile] = []
    images: list[ImageFile] = []
    if args.prompt is not None and _piped(stdin):
        assert stdin is not None
        piped = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        if piped.strip():
            try:
                texts.append(TextFile("stdin", decode_text(piped, "standard input")))
            except AttachmentError as error:
                raise UsageError(str(error)) from None
    for name in getattr(args, "files", None) or []:
        try:
            attachment = read_attachment(Path(name), name)
        except AttachmentError as error:
            raise UsageError(str(error)) from None
        (images if isinstance(attachment, ImageFile) else texts).append(attachment)
    return (with_files(prompt, texts) if texts else prompt), images


EXACT_COUNTS_FROM = 2048
"""Bytes of text a request may hold and still be sent on estimated counts. A token is at
least a byte, so such a request is at most this many tokens: loading the encoding (~0.3 s
of the ~0.6 s ``ask`` takes otherwise) cannot change what is sent to any model with a
window of a few thousand tokens, and where a server counts for us (llama.cpp, vLLM) the
planner uses its counts anyway. The counts stored are marked as estimates and counted
again once the app has the encoding."""


def _request_bytes(services: Services, conversation: Conversation | NewConversation,
                   prompt: str) -> int:
    """An upper bound on the tokens of the request's text: its UTF-8 bytes."""
    total = len(prompt.encode()) + len(conversation.system_prompt.encode())
    if isinstance(conversation, Conversation):
        for message in services.store.load_messages(conversation.id):
            total += len(message.content.encode())
            if total > EXACT_COUNTS_FROM:
                break
    return total


def _pick_conversation(services: Services, args: argparse.Namespace, model: str | None):
    from dataclasses import replace

    from tui.core.session import new_conversation_spec
    from tui.core.store_errors import AmbiguousId, NotFound

    store = services.store
    wanted: dict[str, object] = {}
    persona_name = getattr(args, "persona", None)
    if persona_name:
        from tui.core.personas import PersonaError, Personas

        try:
            wanted.update(Personas(store).get(persona_name).settings())
        except PersonaError as error:
            raise UsageError(str(error)) from None
    wanted.update(requested_settings(args))
    if model:
        wanted["model"] = model
    if args.conversation:
        try:
            conversation = store.resolve_conversation(args.conversation)
        except (NotFound, AmbiguousId) as error:
            raise UsageError(str(error)) from None
    elif args.continue_last:
        conversation = store.latest_conversation()
        if conversation is None:
            raise UsageError("there is no conversation to continue")
    else:
        # Stored by the flow together with the prompt: a failure before leaves nothing.
        spec = replace(new_conversation_spec(services.settings), **wanted)
        if getattr(args, "params", None):
            spec = replace(spec, extra_params=with_params(spec.extra_params, args))
        return spec
    if getattr(args, "params", None):
        wanted["extra_params"] = with_params(
            wanted.get("extra_params", conversation.extra_params), args)  # type: ignore[arg-type]
    changes = {name: value for name, value in wanted.items()
               if getattr(conversation, name) != value}
    if changes:
        conversation = store.update_conversation(conversation.id, **changes)
    return conversation


async def _converse(services: Services, conversation: Conversation | NewConversation,
                    prompt: str, out: TextIO, err: TextIO, stored: list[str], *,
                    images: list[ImageFile] | None = None) -> int:
    """Stream one exchange; the conversation's id goes into ``stored`` once it exists."""
    from tui.core.chat import (
        AssistantDelta,
        AssistantFinished,
        ContextNotice,
        ConversationCreated,
        FlowFailed,
        RetryWait,
        StoreWaiting,
    )

    sanitize = out.isatty()
    code = EXIT_OK
    reply: str | None = None
    ended_with_newline = True
    if isinstance(conversation, Conversation):
        stored.append(conversation.id)
    target = conversation.id if isinstance(conversation, Conversation) else conversation
    try:
        async for event in services.flow.send(target, prompt, images=images):
            if isinstance(event, ConversationCreated):
                stored.append(event.conversation.id)
            elif isinstance(event, AssistantDelta):
                out.write(printable(event.text) if sanitize else event.text)
                out.flush()
                ended_with_newline = event.text.endswith("\n")
            elif isinstance(event, ContextNotice):
                print(f"gpt-tui: {event.text}", file=err)
            elif isinstance(event, RetryWait):
                print(f"gpt-tui: {event.reason}: retrying in {event.delay:.1f} s "
                      f"(attempt {event.attempt})", file=err)
            elif isinstance(event, StoreWaiting):
                print(f"gpt-tui: the database is locked by another program: {event.what} "
                      "is saved once it is free", file=err)
            elif isinstance(event, AssistantFinished):
                reply = event.message.content
                note = event.note  # "output limit" only when max_tokens was the cause
                if note:
                    print(f"\ngpt-tui: {note}", file=err)
            elif isinstance(event, FlowFailed):
                if not ended_with_newline:
                    out.write("\n")
                    ended_with_newline = True
                print(f"gpt-tui: error: {event.error}", file=err)
                code = event.exit_code
    finally:
        if not ended_with_newline:
            out.write("\n")
        out.flush()
    if code == EXIT_OK and reply is not None and _asked_for_json(services, conversation,
                                                                 stored):
        problem = json_problem(reply)
        if problem:
            print(f"gpt-tui: error: the reply is not valid JSON ({problem})", file=err)
            code = EXIT_NOT_JSON
    return code


def _asked_for_json(services: Services, conversation: Conversation | NewConversation,
                    stored: list[str]) -> bool:
    if isinstance(conversation, Conversation) and stored:
        return services.store.get_conversation(stored[0]).json_output
    return conversation.json_output


def json_problem(text: str) -> str | None:
    """Why ``text`` is not a JSON value (None: it parses)."""
    import json

    try:
        json.loads(text)
    except ValueError as error:
        return str(error)
    return None


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    from tui.core.config import ConfigError
    from tui.core.gc_pause import collector_paused
    from tui.core.store_errors import StoreError

    err = sys.stderr if stderr is None else stderr
    try:
        # One short process whose imports are most of its work: ~30 ms of cycle collection
        # for ~1,100 objects of cyclic garbage, a 20k-token reply included (gc.get_stats).
        with collector_paused(freeze=True):
            return _ask(args, sys.stdin if stdin is None else stdin,
                        sys.stdout if stdout is None else stdout, err)
    except (UsageError, ConfigError) as error:
        log.info("ask stopped: %s", error)
        print(f"gpt-tui: error: {error}", file=err)
        return EXIT_USAGE
    except StoreError as error:
        log.warning("ask: database error", exc_info=True)
        print(f"gpt-tui: error: {error}", file=err)
        return EXIT_FAILURE


def _ask(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """The command; bad usage and store failures propagate to run() as exceptions."""
    # Imported here, not at the top: building the parser must stay cheap.
    from tui.command_signals import GRACE, exit_now, run_until_signal, said_for
    from tui.core.services import open_services

    model = getattr(args, "model", None)
    prompt, images = _attachments(args, _read_prompt(args, stdin), stdin)
    _needs_a_database(args)
    services = open_services(
        db_path=getattr(args, "db", None),
        flags={"model": model, "base_url": getattr(args, "base_url", None)},
        load_encoding=False,
    )
    for warning in services.settings.warnings:
        print(f"gpt-tui: warning: {warning}", file=err)
    stored: list[str] = []
    try:
        conversation = _pick_conversation(services, args, model)
        if _request_bytes(services, conversation, prompt) > EXACT_COUNTS_FROM:
            # Near enough to a window for the counts to matter: count this exchange exactly.
            services.counter.start_loading()
            services.counter.wait_loaded()

        def force_exit(signum: int) -> None:
            log.warning("ask: the reply did not end %s s after signal %d; exiting", GRACE,
                        signum)
            print(f"\ngpt-tui: {said_for(signum)}{_kept(stored)}", file=err)
            exit_now(128 + signum, lambda: (out.flush(), err.flush()))

        code, ended = run_until_signal(
            _run_and_close(services, conversation, prompt, out, err, stored, images=images),
            force_exit)
        if ended.signum is not None:
            print(f"\ngpt-tui: {ended.said}{_kept(stored)}", file=err)
            code = ended.exit_code
    except KeyboardInterrupt:  # Ctrl-C before the reply, or where the loop takes no signals
        print(f"\ngpt-tui: interrupted{_kept(stored)}", file=err)
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        # `ask ... | head -1`: the reader got what it asked for. The reply stopped with the
        # write (its cleanup stored it as interrupted); quiet and 0, as `list` does.
        log.info("ask: the reader of stdout went away; the partial reply is kept")
        silence_closed_output(out)
        code = EXIT_OK
    finally:
        services.close()
    if stored:
        print(f"conversation: {stored[0]}", file=err)
    return code


def _needs_a_database(args: argparse.Namespace) -> None:
    """A chat or persona named from a database that does not exist is a usage error before
    the database is created: a failing command leaves no empty database behind."""
    from tui.core.paths import resolve_db_path

    if args.conversation:
        missing = f"no conversation with id '{args.conversation}'"
    elif args.continue_last:
        missing = "there is no conversation to continue"
    elif getattr(args, "persona", None):
        missing = f"no persona named '{args.persona}'"
    else:
        return
    path = resolve_db_path(getattr(args, "db", None))
    if not path.exists():
        raise UsageError(f"{missing} (no database at {path})")


def _kept(stored: list[str]) -> str:
    """What an interruption kept: nothing was stored before the conversation was."""
    return "; the partial reply is kept" if stored else " before anything was stored"


async def _run_and_close(services: Services, conversation: Conversation | NewConversation,
                         prompt: str, out: TextIO, err: TextIO, stored: list[str], *,
                         images: list[ImageFile] | None = None) -> int:
    try:
        return await _converse(services, conversation, prompt, out, err, stored,
                               images=images)
    finally:
        await services.client.aclose()
