"""Write a conversation to a Markdown file without ever overwriting one."""

from __future__ import annotations

from pathlib import Path

from tui.core.export import export_filename, to_markdown
from tui.core.models import Conversation
from tui.core.store import Store

MAX_SUFFIX = 10_000


def write_export(store: Store, conversation: Conversation, export_dir: str | Path) -> Path:
    """Write ``<slug>.md`` (or ``<slug>-1.md``, ``-2``... if taken) in ``export_dir``."""
    text = to_markdown(conversation, store.load_messages(conversation.id),
                       store.list_summaries(conversation.id))
    folder = Path(export_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(export_filename(conversation, "markdown"))
    for n in range(MAX_SUFFIX):
        path = folder / (name.name if n == 0 else f"{name.stem}-{n}{name.suffix}")
        try:
            # "x": exclusive create, so a file appearing meanwhile is never clobbered.
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        except FileExistsError:
            continue
        return path.resolve()
    raise OSError(f"too many exports named {name} in {folder}")
