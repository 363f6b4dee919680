"""Every key binding of the app, in one registry.

Each component takes its ``BINDINGS`` from here, and the help screen and the command palette
are generated from the same sections, so a key, its description and its palette entry cannot
drift apart. Every binding has an id (``section.action``): ``App.set_keymap`` can rebind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


def key(keys: str, action: str, description: str, *, id: str, show: bool = True,
        priority: bool = False, long: str = "") -> Binding:
    """``description`` is what the footer shows; ``long`` (if the footer's word is terse)
    is what the help screen and the command palette say. The footer shows the first key."""
    first = keys.split(",")[0]
    return Binding(keys, action, description, show=show, priority=priority, id=id,
                   tooltip=long, key_display=first if len(first) == 1 else None)


def action_name(binding: Binding) -> str:
    """"focus_search('slash')" -> "focus_search"."""
    return binding.action.split("(")[0]


def long_description(binding: Binding) -> str:
    return binding.tooltip or binding.description


APP = [
    key("f1,question_mark", "help", "Help", id="app.help"),
    key("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
]

SCREEN = [
    key("ctrl+n", "new_chat", "New chat", id="chat.new", priority=True),
    key("escape", "cancel_stream", "Stop reply", id="chat.stop", priority=True),
    key("ctrl+r", "regenerate", "Regenerate / retry", id="chat.regenerate", priority=True),
    key("ctrl+f", "focus_search", "Search", id="focus.search", priority=True, show=False),
    # A priority key, so keys typed right after it land in the search box; the screen's
    # check_action lets "/" through as text where text is typed.
    key("slash", "focus_search('slash')", "Search", id="focus.search_slash", priority=True,
        show=False),
    key("f3", "pick_model", "Model", id="chat.model", show=False),
    key("alt+up,ctrl+pageup", "previous_chat", "Previous chat", id="chat.previous",
        priority=True, show=False),
    key("alt+down,ctrl+pagedown", "next_chat", "Next chat", id="chat.next", priority=True,
        show=False),
    key("ctrl+b", "toggle_sidebar", "Show / hide the sidebar", id="sidebar.toggle",
        priority=True, show=False),
    key("ctrl+l", "focus_list", "Conversation list", id="focus.list", priority=True,
        show=False),
    key("ctrl+t", "focus_composer", "Composer", id="focus.composer", priority=True,
        show=False),
    key("ctrl+o", "focus_messages", "Messages", id="focus.messages", priority=True,
        show=False),
    key("ctrl+y", "copy", "Copy reply", id="chat.copy", priority=True, show=False,
        long="Copy reply: the focused message or the last one (Markdown source)"),
    key("alt+y", "pick_code", "Copy code", id="chat.copy_code", show=False, priority=True,
        long="Copy a code block of the focused message or the last reply (picker; 1-9)"),
    key("ctrl+e", "export", "Export", id="chat.export", priority=True, show=False),
    key("f2", "rename", "Rename", id="chat.rename", show=False),
    key("f4", "edit_system_prompt", "System prompt", id="chat.system_prompt", show=False),
    key("f5", "cycle_strategy", "Strategy", id="chat.strategy", show=False),
    # A priority key: the composer's TextArea binds F6 to "select line" otherwise.
    key("f6", "context_preview", "Context preview", id="chat.context_preview", show=False,
        priority=True, long="Context preview: what the next request sends"),
    # A priority key: the composer's TextArea binds F7 to "select all" otherwise.
    key("f7", "chat_settings", "Chat settings", id="chat.settings", show=False, priority=True,
        long="Chat settings: model, system prompt, temperature, top_p, max tokens, JSON, "
             "extra parameters"),
    key("f8", "delete", "Delete chat", id="chat.delete", show=False),
    key("f11", "personas", "Personas", id="chat.personas", show=False, priority=True,
        long="Personas: start a chat from one, save this chat's settings as one"),
    key("f12", "usage_panel", "Usage", id="chat.usage", show=False, priority=True,
        long="Usage: tokens and estimated cost per conversation, day or month"),
    key("f9", "pin", "Pin / unpin", id="chat.pin", show=False),
    key("f10", "archive", "Archive / unarchive", id="chat.archive", show=False),
]

LIST = [
    key("k", "cursor_up", "Previous conversation", id="list.up", show=False),
    key("j", "cursor_down", "Next conversation", id="list.down", show=False),
    key("r", "screen.rename", "Rename", id="list.rename"),
    key("d,delete", "screen.delete", "Delete", id="list.delete"),
    key("p", "screen.pin", "Pin", id="list.pin"),
    key("a", "screen.archive", "Archive", id="list.archive"),
    key("A", "toggle_archived", "Show archived", id="list.archived"),
    key("escape", "clear_search", "Clear search", id="list.clear_search",
        long="Clear the search (while the list shows its hits)"),
]

MESSAGES = [
    # The letter first: it is the one the footer shows. The footer has room for the everyday
    # keys only; the rest (show=False) are in the help screen and the palette.
    key("k,up", "previous_block", "Prev", id="messages.previous", long="Previous message"),
    key("j,down", "next_block", "Next", id="messages.next", long="Next message"),
    key("g,home", "first_block", "First", id="messages.first", long="First message"),
    key("G,end", "last_block", "Last", id="messages.last", long="Last message"),
    key("c", "copy_block", "Copy", id="messages.copy", long="Copy message (Markdown source)"),
    key("C", "copy_plain", "Copy text", id="messages.copy_plain", show=False,
        long="Copy message as plain text"),
    key("y", "copy_code", "Copy code", id="messages.copy_code",
        long="Copy the message's last code block (1-9: block N)"),
    key("v", "copy_mode", "Copy mode", id="messages.copy_mode", show=False,
        long="Copy mode: a keyboard cursor over the conversation's text (select, copy)"),
    key("x,delete", "delete_block", "Delete", id="messages.delete",
        long="Delete message and the branch below it (asks first)"),
    key("e", "edit_block", "Edit", id="messages.edit",
        long="Edit and resend this message of yours (a new branch; the old one stays)"),
    key("h,left", "branch(-1)", "‹", id="messages.branch_previous",
        long="Previous version of this message (‹ 2/3 ›: regenerated answers, edits)"),
    key("l,right", "branch(1)", "›", id="messages.branch_next",
        long="Next version of this message"),
    key("f", "fork_block", "Fork", id="messages.fork",
        long="Fork: copy the chat up to this message into a new chat"),
    key("p", "pin_block", "Pin", id="messages.pin",
        long="Pin / unpin message (always sent, never summarized or dropped)"),
    key("u", "toggle_usage", "Usage", id="messages.usage", show=False,
        long="Show / hide each reply's usage: tokens (cached), first token, tokens/s"),
]

SEARCH = [
    key("down", "focus_results", "Results", id="search.results", show=False),
    key("escape", "clear", "Clear search", id="search.clear"),
]

# Dialogs.
RENAME = [key("escape", "cancel", "Cancel", id="rename.cancel")]
CONFIRM = [
    key("escape,n", "answer(False)", "Cancel", id="confirm.no"),
    key("y", "answer(True)", "Confirm", id="confirm.yes"),
]
HELP = [key("escape,f1,q,question_mark", "close", "Close", id="help.close")]
CONTEXT_PREVIEW = [key("escape,f6,q", "close", "Close", id="context_preview.close")]
HISTORY_PICKER = [
    key("escape", "cancel", "Cancel", id="history.cancel"),
    key("down", "focus_list", "Prompts", id="history.list", show=False),
]
COPY_MODE = [
    key("escape,q", "leave", "Leave", id="copy_mode.leave"),
    key("y,enter", "copy", "Copy", id="copy_mode.copy",
        long="Copy the selection (or the cursor's line)"),
]
COPY_MODE_MOTIONS = [
    key("h", "vi('left')", "Left", id="copy_mode.left", show=False),
    key("l", "vi('right')", "Right", id="copy_mode.right", show=False),
    key("j", "vi('down')", "Down", id="copy_mode.down", show=False),
    key("k", "vi('up')", "Up", id="copy_mode.up", show=False),
    key("w", "vi('word_right')", "Next word", id="copy_mode.word_right", show=False),
    key("b", "vi('word_left')", "Previous word", id="copy_mode.word_left", show=False),
    key("0", "vi('line_start')", "Line start", id="copy_mode.line_start", show=False),
    key("dollar_sign", "vi('line_end')", "Line end", id="copy_mode.line_end", show=False),
    key("g", "vi_edge(False)", "Top", id="copy_mode.top", show=False),
    key("G", "vi_edge(True)", "Bottom", id="copy_mode.bottom", show=False),
    key("v", "toggle_selecting", "Select", id="copy_mode.select",
        long="Start / drop a selection (motions extend it; Shift+arrows too)"),
]
FILE_PICKER = [
    key("escape", "cancel", "Cancel", id="file_picker.cancel"),
    key("down", "focus_list", "Files", id="file_picker.list", show=False),
]
CODE_PICKER = [key("escape", "cancel", "Cancel", id="code_picker.cancel")]
MODEL_PICKER = [
    key("escape", "cancel", "Cancel", id="model.cancel"),
    key("down", "focus_list", "Models", id="model.list", show=False),
    key("ctrl+d", "toggle_default", "Make default", id="model.default", priority=True,
        long="Also make the pick the default model for new chats"),
]
SETTINGS = [
    key("escape", "cancel", "Cancel", id="settings.cancel"),
    key("ctrl+s", "save", "Save", id="settings.save", priority=True),
]
PERSONAS = [
    key("escape,q", "close", "Close", id="personas.close"),
    key("n", "create", "New from this chat", id="personas.create",
        long="Save the open chat's settings as a new persona"),
    key("e", "edit", "Edit", id="personas.edit"),
    key("r", "rename", "Rename", id="personas.rename"),
    key("d,delete", "delete", "Delete", id="personas.delete"),
]
USAGE_PANEL = [
    key("escape,q,f12", "close", "Close", id="usage.close"),
    key("c", "group('conversation')", "By conversation", id="usage.by_conversation"),
    key("d", "group('day')", "By day", id="usage.by_day"),
    key("m", "group('month')", "By month", id="usage.by_month"),
]
EDIT_MESSAGE = [
    key("escape", "cancel", "Cancel", id="edit_message.cancel"),
    key("f2,ctrl+s", "send", "Send", id="edit_message.send",
        long="Send the edited message (a new branch)"),
]
SYSTEM_PROMPT = [
    key("escape", "cancel", "Cancel", id="system_prompt.cancel"),
    key("f2,ctrl+s", "save", "Save", id="system_prompt.save"),
]


@dataclass(frozen=True)
class Command:
    """A palette-only action of the main screen (no key of its own)."""

    action: str
    title: str
    help: str
    id: str


# Actions rare enough to need no key: the command palette lists them after the keyed ones.
COMMANDS = [
    Command("copy_plain", "Copy reply as plain text",
            "Copy the focused message or the last reply without its Markdown",
            id="chat.copy_plain"),
    Command("forget_window", "Forget learned window",
            "Forget the context window learned for this chat's model on this server",
            id="chat.forget_window"),
    Command("toggle_usage", "Show / hide usage on replies",
            "Each reply's tokens (cached), time to first token, tokens/s and cost (u in the "
            "messages)", id="chat.toggle_usage"),
    # The messages pane's tree keys, for the focused message (else the newest one that fits).
    Command("edit_message", "Edit message",
            "Edit and resend your focused (else nearest above, else last) message: a new "
            "branch (e in messages)",
            id="chat.edit_message"),
    Command("branch(-1)", "Previous branch",
            "Show the previous version of the focused (else last) message (h in messages)",
            id="chat.branch_previous"),
    Command("branch(1)", "Next branch",
            "Show the next version of the focused (else last) message (l in messages)",
            id="chat.branch_next"),
    Command("fork_chat", "Fork chat here",
            "Copy the chat up to the focused (else last) message into a new chat (f)",
            id="chat.fork"),
    Command("delete_message", "Delete message",
            "Delete the focused (else last) message and the branch below it (x)",
            id="chat.delete_message"),
]


@dataclass(frozen=True)
class Section:
    title: str
    bindings: list[Binding]


def help_sections(composer_bindings: list[Binding]) -> list[Section]:
    """What the help screen lists, grouped by where the keys apply."""
    return [
        Section("Everywhere", [*SCREEN, *APP]),
        Section("Composer", [*composer_bindings, Binding(
            "up,down", "", "Earlier prompts (in an empty composer)")]),
        Section("Conversation list (ctrl+l)", [
            Binding("up,down", "", "Move"), Binding("enter", "", "Open"), *LIST]),
        Section("Messages (ctrl+o)", [*MESSAGES,
                                      Binding("1-9", "", "Copy code block N of the message")]),
        Section("Search box (ctrl+f)", [Binding("enter", "", "Open the highlighted hit"),
                                        *SEARCH]),
    ]


def palette_bindings() -> list[Binding]:
    """The command palette's actions: the screen's and the app's, each once."""
    seen: set[str] = set()
    unique: list[Binding] = []
    for binding in [*SCREEN, *APP]:
        name = action_name(binding)
        if name not in seen:
            seen.add(name)
            unique.append(binding)
    return unique


# How keys are named to people (the help, the palette, the composer's placeholder).
KEY_NAMES = {
    "ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "pageup": "PgUp", "pagedown": "PgDn",
    "escape": "Esc", "enter": "Enter", "delete": "Del", "up": "↑", "down": "↓",
    "question_mark": "?", "slash": "/", "home": "Home", "end": "End", "left": "←",
    "right": "→",
}


def key_label(key: str) -> str:
    """"ctrl+pageup" -> "Ctrl+PgUp", "ctrl+n" -> "Ctrl+N"; other single letters stay as
    typed (case matters: g and G are two keys)."""
    parts = key.split("+")
    names = [KEY_NAMES.get(p, p.upper() if len(p) > 1 and p[0] == "f" else p) for p in parts]
    if parts[0] == "ctrl" and len(names[-1]) == 1:  # Ctrl+N: no case after Ctrl
        names[-1] = names[-1].upper()
    return "+".join(names)
