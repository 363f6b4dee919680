"""The ``[keymap]`` table of the config file: binding id -> keys, with the line it is on.

    [keymap]
    "chat.copy" = "ctrl+k"          # a binding id (F1 lists them) and its new keys
    messages.copy_code = "y,Y"      # dots without quotes work too; commas give several keys

The core only reads the table (each value a string of keys) and remembers each entry's line;
the UI knows the bindings, so it checks ids, key names and conflicts, and names the line
of any entry it cannot use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_ENTRY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")


@dataclass(frozen=True)
class KeymapEntry:
    binding_id: str
    keys: str
    where: str  # "config.toml, line 12": for messages


def flatten_keymap(table: dict[str, Any], where: str, prefix: str = "") -> dict[str, str]:
    """``{"chat": {"copy": "x"}}`` (a dotted bare key) -> ``{"chat.copy": "x"}``; every
    value must be a string of keys (else ValueError with the one-line reason)."""
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_keymap(value, where, f"{name}."))
        elif isinstance(value, str) and value.strip():
            flat[name] = value.strip()
        else:
            raise ValueError(f"{where}: 'keymap.{name}' must be a string of keys such as "
                             f"\"ctrl+k\" or \"f7,ctrl+k\", not {value!r}")
    return flat


def _dotted(text: str) -> str:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text)
    return ".".join(next(p for p in part if p) if any(part) else "" for part in parts)


def entry_lines(text: str) -> dict[str, int]:
    """Line number (from 1) of each binding id in the file's ``[keymap]`` table."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            inside = header.group(1).strip() in ("keymap", '"keymap"')
            continue
        match = _ENTRY.match(line)
        if inside and match:
            lines.setdefault(_dotted(match.group(1)), number)
    return lines


def keymap_entries(keymap: dict[str, str], path: Path) -> list[KeymapEntry]:
    """The entries in file order, each knowing its line (or just the file, when the
    table is written some other way)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    lines = entry_lines(text)
    entries = [KeymapEntry(binding_id, keys,
                           f"{path}, line {lines[binding_id]}" if binding_id in lines
                           else f"{path}, [keymap]")
               for binding_id, keys in keymap.items()]
    return sorted(entries, key=lambda e: lines.get(e.binding_id, 0))
