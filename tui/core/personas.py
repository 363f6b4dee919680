"""Personas: named, saved bundles of chat settings (system prompt, parameters, model).

A chat started from a persona gets a copy of its settings; editing the persona later does not
change chats already started from it (they may have been tuned since). Names are unique
whatever their case and are what users type (``gpt-tui ask --persona Reviewer``); an empty
model means "whatever model the session uses", so one persona serves several servers.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tui.core.models import Conversation, ParamValue, Strategy, utc_now
from tui.core.params import CHAT_SETTINGS, ParamError, check_settings
from tui.core.store import Store
from tui.core.store_rows import to_db_value

MAX_NAME = 60
_COLUMNS = ("name", "model", "system_prompt", "strategy", "temperature", "top_p",
            "max_output_tokens", "context_window", "json_output", "extra_params", "created",
            "updated")


class PersonaError(Exception):
    """No such persona, a taken or bad name, or a bad setting; str(e) is the one line."""


@dataclass
class Persona:
    name: str
    model: str = ""
    system_prompt: str = ""
    strategy: Strategy = Strategy.SUMMARIZE
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    context_window: int | None = None
    json_output: bool = False
    extra_params: dict[str, ParamValue] = field(default_factory=dict)
    created: str = field(default_factory=utc_now)
    updated: str = field(default_factory=utc_now)

    def settings(self) -> dict[str, Any]:
        """The chat settings a chat started from it gets (no model: the session's)."""
        values = {name: getattr(self, name) for name in CHAT_SETTINGS}
        if not self.model:
            values.pop("model")
        values["extra_params"] = dict(self.extra_params)
        return values

    def record(self) -> dict[str, Any]:
        """For JSON output."""
        record = asdict(self)
        record["strategy"] = self.strategy.value
        return record


def check_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise PersonaError("a persona needs a name")
    if len(name) > MAX_NAME:
        raise PersonaError(f"a persona's name may have at most {MAX_NAME} characters")
    if any(not c.isprintable() for c in name):
        raise PersonaError("a persona's name cannot have control characters")
    return name


def persona_from(name: str, conversation: Conversation) -> Persona:
    """A persona with the settings a conversation has now (\"save as persona\")."""
    return Persona(name=check_name(name),
                   **{key: getattr(conversation, key) for key in CHAT_SETTINGS})


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    model = values.get("model")
    try:
        checked = check_settings({k: v for k, v in values.items() if k != "model"})
    except ParamError as error:
        raise PersonaError(str(error)) from None
    if model is not None:
        if any(not c.isprintable() for c in model):
            raise PersonaError("the model name has control characters")
        checked["model"] = model.strip()
    return checked


def _from_row(row: sqlite3.Row | tuple[Any, ...]) -> Persona:
    values = dict(zip(_COLUMNS, row))
    try:
        values["strategy"] = Strategy(values["strategy"])
    except ValueError:
        values["strategy"] = Strategy.SUMMARIZE
    values["json_output"] = bool(values["json_output"])
    try:
        extra = json.loads(values["extra_params"] or "{}")
    except ValueError:
        extra = {}
    values["extra_params"] = extra if isinstance(extra, dict) else {}
    return Persona(**values)


_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM personas"


class Personas:
    """The store's personas. Each call is one short query under the store's lock."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self) -> list[Persona]:
        """By name, ignoring case."""
        rows = self.store.run(lambda conn: conn.execute(
            f"{_SELECT} ORDER BY name COLLATE NOCASE").fetchall())
        return [_from_row(row) for row in rows]

    def get(self, name: str) -> Persona:
        row = self.store.run(lambda conn: conn.execute(
            f"{_SELECT} WHERE name = ?", (name.strip(),)).fetchone())
        if row is None:
            known = ", ".join(p.name for p in self.list()) or "none yet"
            raise PersonaError(f"no persona named {name.strip()!r} (personas: {known})")
        return _from_row(row)

    def add(self, persona: Persona) -> Persona:
        """Save a new persona; a name already taken (in any case) is refused."""
        name = check_name(persona.name)
        now = utc_now()
        saved = replace(persona, name=name, created=now, updated=now,
                        **_checked({k: getattr(persona, k) for k in CHAT_SETTINGS}))
        row = [to_db_value(getattr(saved, column)) for column in _COLUMNS]
        marks = ", ".join("?" * len(_COLUMNS))

        def insert(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                f"INSERT INTO personas ({', '.join(_COLUMNS)}) VALUES ({marks}) "
                f"ON CONFLICT (name) DO NOTHING", row)
            return cursor.rowcount > 0

        if not self.store.run(insert, write=True):
            raise PersonaError(f"a persona named {name!r} already exists")
        return saved

    def update(self, name: str, **settings: Any) -> Persona:
        """Change some of a persona's settings (the name: see rename)."""
        current = self.get(name)
        values = _checked(settings)
        if values:
            assignments = ", ".join(f"{key} = ?" for key in values)
            params = [to_db_value(value) for value in values.values()]
            self.store.run(lambda conn: conn.execute(
                f"UPDATE personas SET {assignments}, updated = ? WHERE name = ?",
                (*params, utc_now(), current.name)), write=True)
        return self.get(current.name)

    def rename(self, name: str, new_name: str) -> Persona:
        current = self.get(name)
        new_name = check_name(new_name)
        if new_name.lower() != current.name.lower():
            try:
                self.get(new_name)
            except PersonaError:
                pass
            else:
                raise PersonaError(f"a persona named {new_name!r} already exists")
        self.store.run(lambda conn: conn.execute(
            "UPDATE personas SET name = ?, updated = ? WHERE name = ?",
            (new_name, utc_now(), current.name)), write=True)
        return self.get(new_name)

    def delete(self, name: str) -> None:
        current = self.get(name)
        self.store.run(lambda conn: conn.execute(
            "DELETE FROM personas WHERE name = ?", (current.name,)), write=True)
