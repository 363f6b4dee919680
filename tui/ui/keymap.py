"""The user's ``[keymap]`` (tui.core.keymap_config) checked against the key registry.

An entry is applied only when its id names a binding, every key is one Textual knows, and
no key takes another binding's place where both apply (Textual would silently drop the
other one); anything else is a one-line message naming the config line, and the rest of
the keymap still applies.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

from textual.binding import Binding
from textual.keys import Keys, _normalize_key_list

from tui.core.keymap_config import KeymapEntry
from tui.ui import keys

MODIFIERS = {"ctrl", "alt", "shift", "super", "meta", "hyper"}
_NAMED = ({key.value.split("+")[-1] for key in Keys}
          | {"enter", "tab", "space", "backspace", "escape"}
          | {f"f{n}" for n in range(1, 25)})


def _character_names() -> set[str]:
    return set(_normalize_key_list(",".join(chr(c) for c in range(33, 127) if chr(c) != ","))
               .split(",")) | {"comma"}


def binding_groups() -> dict[str, list[Binding]]:
    """Bindings by where they apply; "global" ones apply on the main screen everywhere."""
    from tui.ui.widgets.composer import Composer  # widgets import keys; keep this lazy

    return {
        "global": [*keys.APP, *keys.SCREEN],
        "composer": list(Composer.BINDINGS),
        "messages": keys.MESSAGES,
        "list": keys.LIST,
        "search": keys.SEARCH,
        "rename": keys.RENAME,
        "confirm": keys.CONFIRM,
        "help": keys.HELP,
        "context_preview": keys.CONTEXT_PREVIEW,
        "model": keys.MODEL_PICKER,
        "system_prompt": keys.SYSTEM_PROMPT,
        "code_picker": keys.CODE_PICKER,
        "history": keys.HISTORY_PICKER,
        "file_picker": keys.FILE_PICKER,
        "copy_mode": [*keys.COPY_MODE, *keys.COPY_MODE_MOTIONS],
    }


# The groups a main-screen global key competes with (dialogs have their own screens).
MAIN_SCREEN = ("global", "composer", "messages", "list", "search")


def bad_key(key: str) -> str | None:
    """Why ``key`` is not a key name, or None if it is one."""
    *modifiers, name = key.split("+")
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        return f"'{unknown[0]}' is not a modifier (ctrl, alt, shift, super, meta, hyper)"
    if len(name) == 1 and name.isprintable():
        return None
    if name in _NAMED or name in _character_names():
        return None
    return f"'{name}' is not a key name (examples: ctrl+k, f7, alt+up, pagedown, question_mark)"


@dataclass
class KeymapCheck:
    keymap: dict[str, str] = field(default_factory=dict)  # what to give App.set_keymap
    problems: list[str] = field(default_factory=list)


def check_keymap(entries: list[KeymapEntry]) -> KeymapCheck:
    groups = binding_groups()
    group_of = {b.id: name for name, bindings in groups.items() for b in bindings if b.id}
    description = {b.id: keys.long_description(b)
                   for bindings in groups.values() for b in bindings if b.id}
    current = {b.id: _normalize_key_list(b.key).split(",")
               for bindings in groups.values() for b in bindings if b.id}
    result = KeymapCheck()
    for entry in entries:
        binding_id = entry.binding_id
        if binding_id not in group_of:
            close = difflib.get_close_matches(binding_id, list(group_of), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else " (F1 lists the ids)"
            result.problems.append(f"{entry.where}: unknown binding id '{binding_id}'{hint}; "
                                   "not applied.")
            continue
        wanted = [k.strip() for k in entry.keys.split(",") if k.strip()]
        reasons = [reason for reason in map(bad_key, wanted) if reason]
        if reasons:
            result.problems.append(f"{entry.where}: {reasons[0]}; '{binding_id}' keeps "
                                   f"{', '.join(current[binding_id])}.")
            continue
        normalized = _normalize_key_list(",".join(wanted)).split(",")
        clash = _clash(binding_id, normalized, group_of, current)
        if clash is not None:
            key, other = clash
            taken = (f"{key} is already the key of '{other}' ({description[other]})"
                     if other else f"{key} is a character you type: a key that works "
                                   "everywhere cannot be one")
            result.problems.append(f"{entry.where}: {taken}; '{binding_id}' keeps "
                                   f"{', '.join(current[binding_id])}.")
            continue
        current[binding_id] = normalized
        result.keymap[binding_id] = ",".join(normalized)
    return result


def _clash(binding_id: str, wanted: list[str], group_of: dict[str, str],
           current: dict[str, list[str]]) -> tuple[str, str | None] | None:
    """The first wanted key another binding that applies in the same place has (None as
    the other: a global key that is a plain character)."""
    group = group_of[binding_id]
    if group == "global":
        rivals = set(MAIN_SCREEN)
    elif group in MAIN_SCREEN:
        rivals = {group, "global"}
    else:
        rivals = {group}
    for other, other_keys in current.items():
        if other == binding_id or group_of[other] not in rivals:
            continue
        for key in wanted:
            if key in other_keys:
                return key, other
    if group == "global":
        printable = next((k for k in wanted if len(k) == 1 or k in _character_names()), None)
        if printable is not None:
            return printable, None
    return None


def with_keymap(bindings: list[Binding], keymap: dict[str, str]) -> list[Binding]:
    """``bindings`` showing the user's keys (for the help screen and the palette)."""
    return [replace(b, key=keymap[b.id], key_display=None) if b.id in keymap else b
            for b in bindings]
