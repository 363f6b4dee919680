"""The message composer: a multi-line TextArea where Enter sends.

Terminals send the same byte (CR) for Enter and Shift+Enter unless they speak an extended
keyboard protocol, so the newline keys are, from most to least portable:

* Ctrl+J: a bare line feed, distinct everywhere (tmux, screen, SSH, every emulator);
* Alt+Enter: ESC then CR in every xterm-style terminal, tmux included. Textual 8 does not
  know that pair and, after its escape timeout, reports a plain Enter, which would send a
  half-written message; :func:`register_alt_enter` teaches its parser the pair;
* Shift+Enter: only where the terminal reports it: the Kitty keyboard protocol
  (``CSI 13;2u``: kitty, WezTerm, foot, Ghostty, iTerm2) or xterm's modifyOtherKeys
  (``CSI 27;2;13~``: xterm, tmux with ``extended-keys``).

Two helpers for longer input live here too:

* earlier prompts: ↑ in an empty composer recalls the newest one (this conversation's
  first, then every other's; the screen loads the list off the event loop), ↑ again older
  ones, ↓ newer ones and finally the empty draft. Once a recalled prompt is edited, the
  arrows move the cursor again;
* large pastes: a paste of more than ``PASTE_LINES`` lines or ``PASTE_CHARS`` characters
  shows as a chip (``[pasted 1,243 lines]``); :attr:`Composer.full_text` (what is sent,
  counted on the meter and kept as the draft) has the whole text, and ``alt+e`` expands
  the chips in place;
* attachments (``alt+a`` opens a file picker; ``@path`` then Tab attaches the best match):
  a text file is a chip standing for a fenced block under its name, like a paste; an
  image's chip stays in the message as its marker and the image goes with it
  (:attr:`Composer.images`).
"""

from __future__ import annotations

import re
import time

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import TextArea
from textual.widgets.text_area import EditResult

from tui.core.attachments import Attachment, ImageFile, TextFile, fenced, human_size, set_apart
from tui.ui.keys import key_label
from tui.ui.widgets.safe_fields import SafeTextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})
# The keys the placeholder names when the [keymap] table gives none (Shift+Enter left out:
# few terminals send it).
SHOWN_SEND_KEYS, SHOWN_NEWLINE_KEYS = "enter", "ctrl+j,alt+enter"
# A paste longer than either collapses to a chip (20 lines fill a composer several times).
PASTE_LINES = 20
PASTE_CHARS = 2000
FILE_CHIP_START = "[file "  # an attached text file's chip (its fenced block); "[pasted ...]"
IMAGE_CHIP = re.compile(r"\[image [^\]\n]+ · [\d.]+ (?:B|kB|MB)(?: #\d+)?\]")
ALT_ENTER_SEQUENCE = "\x1b\r"


class _KeyName(str):
    """A key name where Textual's sequence table expects a ``Keys`` member (it reads .value)."""

    @property
    def value(self) -> str:
        return str(self)


def register_alt_enter() -> bool:
    """Make ESC CR arrive as ``alt+enter`` instead of ``enter``. True if it is registered.

    Uses Textual's private sequence table (``textual._ansi_sequences``); the tested Textual
    range is pinned in pyproject.toml and tests/terminal/test_key_sequences.py fails if it moves.
    """
    try:
        from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
    except ImportError:
        return False
    if not isinstance(ANSI_SEQUENCES_KEYS, dict):
        return False
    ANSI_SEQUENCES_KEYS.setdefault(ALT_ENTER_SEQUENCE, (_KeyName("alt+enter"),))  # type: ignore[arg-type]
    return True


register_alt_enter()


def key_name(event: events.Key) -> str:
    """The key's name, with xterm modifyOtherKeys' ``shift+\\r`` read as ``shift+enter``."""
    return event.key.replace("\r", "enter")


class _ChipLine(Text):
    """A draft line whose chip styles stay on top: TextArea styles the cursor's line after
    :meth:`Composer.get_line` with one whole-line ``stylize``, which would cover them, so
    that one call goes underneath instead (a selection, drawn over ranges, still shows)."""

    def stylize(self, style: str | Style, start: int = 0, end: int | None = None) -> None:
        if start == 0 and end is None:
            self.stylize_before(style)
        else:
            super().stylize(style, start, end)


def placeholder_text(send: str, newline: str) -> str:
    """"Message… (Enter to send, Ctrl+J or Alt+Enter for a new line)" for these keys."""
    def label(key: str) -> str:
        text = key_label(key)
        head, plus, last = text.rpartition("+")
        return f"{head}+{last.upper()}" if plus and len(last) == 1 else text  # Ctrl+J

    def keys(spec: str) -> str:
        return " or ".join(label(key.strip()) for key in spec.split(",") if key.strip())

    return f"Message… ({keys(send)} to send, {keys(newline)} for a new line)"


class Composer(SafeTextArea):
    """Drafts a message; posts ``Composer.Submitted`` on Enter (the text stays until sent)."""

    BINDINGS = [
        # Enter and the newline keys are handled in _on_key (TextArea inserts text before
        # bindings run); these entries put them in the footer and the help screen.
        Binding("enter", "submit", "Send", id="composer.send"),
        Binding("ctrl+j,alt+enter,shift+enter", "newline", "New line", id="composer.newline"),
        # ctrl+y is the app's copy key; keep redo reachable where the terminal allows.
        Binding("ctrl+shift+z", "redo", "Redo", show=False, id="composer.redo"),
        Binding("ctrl+g", "open_editor", "Editor", show=False, id="composer.editor",
                tooltip="Edit the draft in $VISUAL / $EDITOR"),
        Binding("alt+e", "expand_pastes", "Expand pastes", show=False,
                id="composer.expand_pastes", tooltip="Show collapsed pastes in full"),
        Binding("alt+r", "search_history", "Prompt history", show=False,
                id="composer.history_search", tooltip="Search earlier prompts"),
        Binding("alt+a", "attach", "Attach", show=False, id="composer.attach",
                tooltip="Attach a file (text or image); or type @path and Tab"),
    ]

    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"composer--chip",
                                                      "composer--chip-missing"}
    """Chips stand out from typed text; an image chip with no image behind it (typed, or a
    draft kept by an older version) is marked as such (styles in app.tcss)."""

    class Submitted(Message):
        """The user asked to send ``text``."""

        def __init__(self, composer: Composer, text: str,
                     images: list[ImageFile] | None = None) -> None:
            super().__init__()
            self.composer = composer
            self.text = text
            self.images = images or []

        @property
        def control(self) -> Composer:
            return self.composer

    BLINK_FOR = 5.0
    """The cursor blinks this long (seconds) after a key or a focus, then stays lit, as a
    terminal's own cursor does (kitty: cursor_stop_blinking_after): a blink repaints the
    screen twice a second, and an app left alone should do no work."""

    class EditorWanted(Message):
        """Open the draft (``text``, chips expanded) in the user's editor."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class HistorySearchWanted(Message):
        """Search the earlier prompts (the screen opens the picker)."""

    class AttachWanted(Message):
        """Attach a file: ``query`` is a typed ``@path`` (Tab), or None for the picker."""

        def __init__(self, query: str | None) -> None:
            super().__init__()
            self.query = query

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
                         placeholder=placeholder_text(SHOWN_SEND_KEYS, SHOWN_NEWLINE_KEYS))
        # Earlier prompts, newest first (set by the screen), and which one is shown.
        self.prompts: list[str] = []
        self._recalled: int | None = None
        # Chip label -> the pasted text (or a text file's block) it stands for.
        self._pastes: dict[str, str] = {}
        # Chip label -> the attached image (sent while its chip is in the draft).
        self._images: dict[str, ImageFile] = {}
        self._active_at = 0.0
        self._blink_stop: Timer | None = None

    # -- what the draft really says ------------------------------------------------------

    @property
    def full_text(self) -> str:
        """The draft with every paste chip replaced by its text: what is sent."""
        text = self.text
        for label, pasted in self._pastes.items():
            if not label.startswith(FILE_CHIP_START):
                text = text.replace(label, pasted, 1)
                continue
            at = text.find(label)
            if at >= 0:  # a file's fenced block: a paragraph of its own
                text = set_apart(text[:at], pasted, text[at + len(label):])
        return text

    @staticmethod
    def is_large(text: str) -> bool:
        return text.count("\n") + 1 > PASTE_LINES or len(text) > PASTE_CHARS

    @property
    def images(self) -> list[ImageFile]:
        """The attached images whose chips are still in the draft."""
        return list(self.image_chips.values())

    @property
    def image_chips(self) -> dict[str, ImageFile]:
        """Chip label -> image, for the chips still in the draft (kept with the draft)."""
        text = self.text
        return {label: image for label, image in self._images.items() if label in text}

    def get_line(self, line_index: int) -> Text:
        """A line of the draft with its chips styled (TextArea's hook for extra styling)."""
        plain = self.document.get_line(line_index)
        if "[" not in plain:
            return super().get_line(line_index)
        line = _ChipLine(plain, end="", no_wrap=True)
        chip = self.get_component_rich_style("composer--chip", partial=True)
        for label in (*self._pastes, *self._images):
            for match in re.finditer(re.escape(label), plain):
                line.stylize(chip, match.start(), match.end())
        missing = self.get_component_rich_style("composer--chip-missing", partial=True)
        for match in IMAGE_CHIP.finditer(plain):
            if match.group() not in self._images:
                line.stylize(missing, match.start(), match.end())
        return line

    def _chip(self, text: str) -> str:
        lines = text.count("\n") + 1
        return self._unique(f"[pasted {lines:,} lines]" if lines > 1
                            else f"[pasted {len(text):,} characters]")

    def _unique(self, label: str) -> str:
        number = 1
        while ((label if number == 1 else f"{label[:-1]} #{number}]")
               in {**self._pastes, **self._images}):
            number += 1
        return label if number == 1 else f"{label[:-1]} #{number}]"

    def attach(self, attachment: Attachment, replacing: tuple | None = None) -> str:
        """Insert the attachment's chip at the cursor (or over ``replacing``, a typed
        ``@path``'s (start, end)); returns the chip."""
        kind = "image" if isinstance(attachment, ImageFile) else "file"
        label = self._unique(f"[{kind} {attachment.name} · {human_size(attachment.size)}]")
        if isinstance(attachment, TextFile):
            self._pastes[label] = fenced(attachment)
        else:
            self._images[label] = attachment
        start, end = replacing or self.selection
        self.replace(label, start, end, maintain_selection_offset=False)
        return label

    def typed_path(self) -> tuple[str, tuple] | None:
        """The ``@path`` just before the cursor and its (start, end), if there is one."""
        row, column = self.cursor_location
        line = self.document.get_line(row)[:column]
        match = re.search(r"(?:^|\s)@(\S*)$", line)
        if match is None:
            return None
        return match.group(1), ((row, column - len(match.group(1)) - 1), (row, column))

    async def _on_paste(self, event: events.Paste) -> None:
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        if self.read_only or not self.is_large(text):
            return  # TextArea's own handler (Textual calls each class's) inserts it
        event.stop()
        event.prevent_default()
        label = self._chip(text)
        self._pastes[label] = text
        start, end = self.selection
        self.replace(label, start, end, maintain_selection_offset=False)

    def action_expand_pastes(self) -> None:
        if not self._pastes:
            self.notify("No collapsed paste here.", severity="warning")
            return
        self.set_draft(self.full_text)

    def action_open_editor(self) -> None:
        self.post_message(self.EditorWanted(self.full_text))

    def action_search_history(self) -> None:
        self.post_message(self.HistorySearchWanted())

    def action_attach(self) -> None:
        self.post_message(self.AttachWanted(None))

    # -- earlier prompts -----------------------------------------------------------------

    def _recall(self, step: int) -> bool:
        """↑ (step 1) / ↓ (step -1) through earlier prompts; False if the arrow is the
        cursor's (the draft has text of the user's own)."""
        shown = self._recalled if self.text else None
        if self.text and (shown is None or self.text != self.prompts[shown]):
            return False
        if shown is None and (step < 0 or not self.prompts):
            return False
        index = (-1 if shown is None else shown) + step
        if index >= len(self.prompts):
            return True  # the oldest: stay
        self._recalled = index if index >= 0 else None
        self.set_draft(self.prompts[index] if index >= 0 else "")
        if step > 0 and index >= 0:
            self.move_cursor((0, 0))  # ↑ again goes on back, as in a shell
        return True

    def recall(self, text: str) -> None:
        """Put an earlier prompt (picked in the history search) in the composer."""
        self.set_draft(text)
        self._recalled = None

    def _wake_cursor(self) -> None:
        self._active_at = time.monotonic()
        self.cursor_blink = True
        if self._blink_stop is None:
            self._blink_stop = self.set_timer(self.BLINK_FOR, self._still)

    def _still(self) -> None:
        self._blink_stop = None
        left = self._active_at + self.BLINK_FOR - time.monotonic()
        if left > 0.01:
            self._blink_stop = self.set_timer(left, self._still)
        else:
            self.cursor_blink = False

    def on_focus(self) -> None:
        self._wake_cursor()

    async def _on_key(self, event: events.Key) -> None:
        self._wake_cursor()
        if self.read_only:
            return
        key = key_name(event)
        if event.character and key.startswith("alt+") and key in self.screen.active_bindings:
            # A terminal sends Alt+R as ESC r, which Textual reads as alt+r with the
            # character "r": TextArea would type the "r" before any binding ran.
            event.prevent_default()
            return
        if key in ("up", "down") and self._recall(1 if key == "up" else -1):
            event.stop()
            event.prevent_default()
            return
        if key == "tab":
            typed = self.typed_path()
            if typed is not None:
                event.stop()
                event.prevent_default()
                self.post_message(self.AttachWanted(typed[0]))
                return
        if key in self._keys("composer.send", {"enter"}):
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif key in self._keys("composer.newline", NEWLINE_KEYS):
            event.stop()
            event.prevent_default()
            self.action_newline()

    def on_mount(self) -> None:
        """The placeholder names the keys the [keymap] table gave sending and new lines (it
        said Enter to send after Enter had become the new-line key)."""
        keymap = getattr(self.app, "user_keymap", {})
        self.placeholder = placeholder_text(keymap.get("composer.send", SHOWN_SEND_KEYS),
                                            keymap.get("composer.newline", SHOWN_NEWLINE_KEYS))

    def _keys(self, binding_id: str, default: frozenset[str] | set[str]) -> set[str]:
        """The keys the user gave ``binding_id`` in the [keymap] table, else ``default``
        (Enter and the newline keys are handled here, before TextArea's own keys)."""
        mapped = getattr(self.app, "user_keymap", {}).get(binding_id)
        return set(mapped.split(",")) if mapped else set(default)

    def orphan_images(self) -> list[str]:
        """Image chips in the draft with no image behind them (typed, or kept by a build
        that kept a draft's text only)."""
        return [chip for chip in IMAGE_CHIP.findall(self.text) if chip not in self._images]

    def action_submit(self) -> None:
        orphans = self.orphan_images()
        if orphans:
            # The chip's text without its image: typed, or a draft kept by an older version.
            self.notify(f"{orphans[0]} is no longer attached: "
                        "delete the chip or attach the image again (alt+a).",
                        severity="warning", timeout=10)
            return
        self.post_message(self.Submitted(self, self.full_text, self.images))

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def clear(self) -> EditResult:
        self._pastes.clear()
        self._images.clear()
        self._recalled = None
        return super().clear()

    def set_draft(self, text: str, images: dict[str, ImageFile] | None = None) -> None:
        """Replace the draft and put the cursor at its end (chips become their text; an
        image's chip stays, with its image; ``images`` are a kept draft's, by chip label)."""
        self._pastes.clear()
        self._images.update(images or {})
        if text == self.text:
            # The same text (mostly: empty to empty when switching chats): no reload, so no
            # re-layout of the screen; the undo history still starts afresh.
            self.history.clear()
        else:
            self.load_text(text)
        self.move_cursor(self.document.end)
