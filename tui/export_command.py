"""``gpt-tui export``: one conversation (ID or ``--last``) to stdout or a file, or every
conversation (``--all -o DIR``), one file each.

Markdown is the branch shown (the active path); JSON is the whole tree, which
``gpt-tui import`` reads back unchanged. A file is never replaced without ``--force``:
``-o FILE`` refuses an existing FILE, and ``--all`` gives a taken name a ``-1``, ``-2``...
suffix instead. File names come from the titles, readable in any script.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from tui.core import tree
from tui.core.export import (
    FORMATS,
    Images,
    export_filename,
    to_json,
    to_markdown,
    write_image_files,
)
from tui.core.models import Conversation, Message
from tui.core.paths import ensure_private_folder, open_private
from tui.core.store import NoDatabase, Store

EXIT_OK, EXIT_FAILURE = 0, 1
# How many "-N" suffixes --all tries for one title before giving up.
MAX_SUFFIX = 10_000

log = logging.getLogger(__name__)


class ExportRefused(Exception):
    """Reported as one line with exit status 1 (the file exists, it cannot be written)."""


@dataclass
class Rendered:
    """An export's text, and the image files a Markdown export links to (``files``: the
    folder's name beside the document, None when nothing is written apart)."""

    text: str
    messages: list[Message]
    images: Images
    files: str | None = None

    def write_files(self, document: Path) -> None:
        if not self.files:
            return
        try:
            write_image_files(document.parent / self.files, self.messages, self.images)
        except OSError as error:
            log.warning("cannot write the export's images beside %s", document, exc_info=True)
            raise ExportRefused(f"cannot write the images beside {document}: "
                                f"{error.strerror}") from None


def render(store: Store, conversation: Conversation, fmt: str,
           output: Path | None = None) -> Rendered:
    if fmt == "json":  # the whole tree, every branch, images embedded: it imports back
        messages, summaries = tree.whole_tree(store, conversation.id)
        images = store.images_for([m.id for m in messages])
        text = to_json(conversation, messages, summaries, images,
                       active_leaf_id=tree.active_leaf(store, conversation.id))
        return Rendered(text, messages, images)
    messages = store.load_messages(conversation.id)  # the branch shown
    images = store.images_for([m.id for m in messages])
    # Images go in files beside an output file (on stdout they are only named).
    files = f"{output.stem}-files" if output is not None and images else None
    text = to_markdown(conversation, messages, store.list_summaries(conversation.id), images,
                       files, elsewhere=store.count_messages(conversation.id) - len(messages))
    return Rendered(text, messages, images, files)


def write(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path``; an existing file only with ``force`` (ExportRefused)."""
    try:
        with open_private(path, replace=force) as handle:
            handle.write(text)
    except FileExistsError:
        raise ExportRefused(f"{path} exists; add --force to replace it") from None
    except OSError as error:
        log.warning("cannot write the export to %s", path, exc_info=True)
        raise ExportRefused(f"cannot write {path}: {error.strerror}") from None


STDOUT = "-"
"""The ``-o`` name that means standard output."""


def _format(args: argparse.Namespace, target: str | None) -> str:
    fmt = args.format
    if fmt is None:
        fmt = "json" if target and Path(target).suffix.lower() == ".json" else "markdown"
    assert fmt in FORMATS
    return fmt


def run_export(args: argparse.Namespace) -> int:
    from tui.cli_support import UsageError, open_store

    try:
        try:
            store = open_store(args)
        except NoDatabase as error:
            what = ("no conversation to export" if args.last or args.all
                    else f"no conversation with id {args.id!r}")
            raise UsageError(f"{what} ({error})") from None
        with store:
            if args.all:
                return _export_all(store, args)
            if args.last:
                conversation = (store.latest_conversation()
                                or store.latest_conversation(include_archived=True))
                if conversation is None:
                    raise UsageError("no conversation to export: the database is empty")
            else:
                conversation = store.resolve_conversation(args.id)
            # "-o -" is stdout, as for most tools (it wrote a file named "-").
            named = args.output if args.output != STDOUT else None
            output = Path(named).expanduser() if named else None
            rendered = render(store, conversation, _format(args, named), output)
        if output is not None:
            write(output, rendered.text, force=args.force)
            rendered.write_files(output)
        else:
            sys.stdout.write(rendered.text)
    except ExportRefused as error:
        print(f"gpt-tui: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _export_all(store: Store, args: argparse.Namespace) -> int:
    from tui.cli_support import UsageError

    if not args.output or args.output == STDOUT:
        raise UsageError("--all writes one file per conversation: name a folder with -o DIR")
    folder = Path(args.output).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{args.output} is not a folder")
    ensure_private_folder(folder)
    fmt = args.format or "markdown"
    conversations = store.list_conversations(limit=-1, archived=None)
    used: set[str] = set()
    for conversation in conversations:
        name = Path(export_filename(conversation, fmt))
        for n in range(MAX_SUFFIX):
            candidate = name.name if n == 0 else f"{name.stem}-{n}{name.suffix}"
            path = folder / candidate
            if candidate in used or (path.exists() and not args.force):
                continue
            break
        else:
            raise ExportRefused(f"too many exports named {name} in {folder}")
        used.add(candidate)
        rendered = render(store, conversation, fmt, path)
        write(path, rendered.text, force=args.force)
        rendered.write_files(path)
        print(path)
    print(f"exported {len(conversations)} conversation{'s' if len(conversations) != 1 else ''}"
          f" to {folder}", file=sys.stderr)
    return EXIT_OK
