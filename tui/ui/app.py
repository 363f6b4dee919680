"""The full-screen chat app: ``GptTuiApp`` and the ``run_app`` entry point.

The app owns the Services (store, client, flow) and the global keys; the main screen does
the chat work. It can be built straight from a Services object, which is how tests drive it.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui.core.config import ConfigError
from tui.core.services import Services, open_services
from tui.core.store import StoreError
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.main import MainScreen


class GptTuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "gpt-tui"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, services: Services, *, now: Callable[[], datetime] | None = None,
                 conversation_page: int = 50, owns_services: bool = False) -> None:
        """``now`` pins the clock used for relative times (tests, snapshots).

        With ``owns_services`` the app closes the services when it exits (run_app does);
        otherwise whoever built them does.
        """
        super().__init__()
        self.services = services
        self._owns_services = owns_services
        self._now = now
        self._conversation_page = conversation_page
        theme = services.settings.theme
        if theme in self.available_themes:
            self.theme = theme

    def get_default_screen(self) -> Screen:
        self._main = MainScreen(self.services, now=self._now,
                                conversation_page=self._conversation_page)
        return self._main

    @property
    def main(self) -> MainScreen:
        return self._main

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        sections = self.main.binding_sections()
        sections[0] = (sections[0][0], [*sections[0][1], *self.BINDINGS])
        self.push_screen(HelpScreen(sections))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every chat action in the command palette (ctrl+p), for discoverability."""
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        for binding in screen.BINDINGS:
            if binding.action == "cancel_stream" or not binding.description:
                continue
            action = binding.action
            yield SystemCommand(binding.description, f"Key: {binding.key}",
                                lambda action=action: self.call_later(
                                    screen.run_action, action))

    async def on_unmount(self) -> None:
        # Stop streams first: each stores its partial reply as interrupted on the way out.
        workers = [live.worker for live in self.main.streams.values() if live.worker]
        for live in list(self.main.streams.values()):
            live.cancel()
        for worker in workers:
            try:
                await worker.wait()
            except Exception:
                pass
        if self._owns_services:
            await self.services.aclose()


def run_app(args: Any) -> int:
    """Open the services from the command line's options and run the app."""
    try:
        services = open_services(
            db_path=getattr(args, "db", None),
            flags={"model": getattr(args, "model", None),
                   "base_url": getattr(args, "base_url", None)},
        )
    except (ConfigError, StoreError) as error:
        print(f"gpt-tui: {error}", file=sys.stderr)
        return 1
    for warning in services.settings.warnings:
        print(f"gpt-tui: warning: {warning}", file=sys.stderr)
    app = GptTuiApp(services, owns_services=True)
    result = app.run()
    return result if isinstance(result, int) else 0
