"""The full-screen chat app: ``GptTuiApp`` and the ``run_app`` entry point.

The app owns the Services (store, client, flow), the global keys and the colour theme; the
main screen does the chat work. It can be built straight from a Services object, which is how
tests drive it.

Themes: every bundled and user theme file is registered at start-up and the configured one
applied; a bad file or an unknown name is reported in a notification, never a crash. A theme
picked later (command palette, "Change theme") is saved to the config file so it sticks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.markup import escape as escape_markup
from textual.screen import Screen
from textual.widget import Widget

from tui.core.clipboard import CopyResult, copy_text
from tui.core.config import DEFAULT_THEME, ConfigError, save_settings
from tui.core.paths import config_dir
from tui.core.services import Services, open_services
from tui.core.store import StoreError
from tui.ui.keymap import check_keymap, with_keymap
from tui.ui.gc_tuning import freeze_startup_objects, raise_gen0_threshold
from tui.ui import keys
from tui.ui.screens.main import MainScreen
from tui.ui.theme_files import load_themes
from tui.ui.widgets.composer import Composer
from tui.ui.widgets.literal import one_line, visible
from tui.ui.widgets.markdown_blocks import warm_rendering

log = logging.getLogger(__name__)

ENDING_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")
"""``kill``, a closed terminal window and ``kill -INT`` (Ctrl+C typed in the app is a key,
not a signal: the terminal is in raw mode): the app ends as on ctrl+q (the draft kept, a
streaming reply stored as interrupted with all its text, the terminal given back), where it
used to die at once, the reply left "streaming" and, after ``kill``, the terminal in the app's
modes (mouse reports, the alternate screen)."""


COMPOSER_TOOLS = ("composer.history_search", "composer.attach", "composer.expand_pastes",
                  "composer.editor")
"""The composer's bindings the command palette offers too (they act on the composer)."""


def composer_tools() -> list[Binding]:
    """The composer's palette bindings, in ``COMPOSER_TOOLS`` order."""
    by_id = {b.id: b for b in Composer.BINDINGS if isinstance(b, Binding)}
    return [by_id[i] for i in COMPOSER_TOOLS if i in by_id]


class GptTuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "gpt-tui"
    BINDINGS = keys.APP
    # False until mounted: the start-up theme is applied, not picked, so it is not saved.
    _theme_ready = False
    _exiting_on_signal = False

    def get_driver_class(self) -> type[Driver]:
        """Textual's terminal driver on Linux and macOS, with an input thread that sleeps
        until there is input (``quiet_driver``): Textual's polls ten times a second."""
        driver_class = super().get_driver_class()
        # By name: importing the Linux driver on Windows would fail (termios).
        if (driver_class.__module__, driver_class.__name__) == (
                "textual.drivers.linux_driver", "LinuxDriver"):
            from tui.ui.quiet_driver import QuietLinuxDriver

            return QuietLinuxDriver
        return driver_class

    def _handle_exception(self, error: Exception) -> None:
        """An error nothing caught ends the app (Textual prints it on the way out): its
        traceback goes to the log file too, where a report can quote it once the terminal
        has scrolled it away. A private hook: tests/test_textual_private_api.py checks it."""
        log.error("the app stopped on an unexpected error", exc_info=error)
        super()._handle_exception(error)

    def __init__(self, services: Services, *, now: Callable[[], datetime] | None = None,
                 conversation_page: int = 50, owns_services: bool = False,
                 tune_gc: bool = False) -> None:
        """``now`` pins the clock used for relative times (tests, snapshots).

        With ``owns_services`` the app closes the services when it exits (run_app does);
        otherwise whoever built them does. ``tune_gc`` (run_app, benchmarks) freezes the
        start-up object graph after the first frame: process-wide, so not for test runs.
        """
        super().__init__()
        self.services = services
        self._tune_gc = tune_gc
        self._owns_services = owns_services
        self._now = now
        self._conversation_page = conversation_page
        # Start-up problems wait for on_mount: notifications need a running app.
        self._theme_warnings: list[str] = []
        # The theme in the config file: a run-time change to another one gets saved.
        self._saved_theme = services.settings.theme
        self._apply_start_theme(services.settings.theme)
        # The [keymap] entries that check out, applied; the others are reported on mount.
        checked = check_keymap(services.settings.keymap)
        self.user_keymap = checked.keymap
        self._keymap_problems = checked.problems
        if checked.keymap:
            self.set_keymap(checked.keymap)

    def _apply_start_theme(self, name: str) -> None:
        """Register every theme file, then switch to ``name`` (or the default if unknown)."""
        themes, problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self._theme_warnings += [f"Skipped theme file {problem.path}: {problem.reason}"
                                 for problem in problems]
        if name not in self.available_themes:
            folder = config_dir() / "themes"
            self._theme_warnings.append(f"Unknown theme “{name}”: not built in, bundled or in "
                                        f"{folder}; using {DEFAULT_THEME}.")
            name = DEFAULT_THEME
        self.theme = name

    def on_mount(self) -> None:
        # The settings' warnings (a config file others can read) also went to stderr before
        # the screen was taken, where nobody sees them until the app has quit.
        for warning in [*self.services.settings.warnings, *self._theme_warnings]:
            self.notify(warning, severity="warning", timeout=10)
        for problem in self._keymap_problems:
            self.notify(problem, title="Keymap", severity="warning", timeout=15)
        self._theme_ready = True
        self._end_on_signals()
        self.call_after_refresh(self._after_first_frame)

    def _end_on_signals(self) -> None:
        if self.is_headless or os.name != "posix":  # tests run in-process; no such signals
            return
        loop = asyncio.get_running_loop()
        for name in ENDING_SIGNALS:
            number = getattr(signal, name)
            loop.add_signal_handler(number, self._signalled, number)

    def _signalled(self, number: int) -> None:
        """Exit with 128 + the signal's number, as a shell reports a process it ended; a
        second signal while exiting ends the process at once, as before."""
        if self._exiting_on_signal:
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
            return
        self._exiting_on_signal = True
        log.info("%s: exiting", signal.Signals(number).name)
        self.exit(128 + number)

    def _after_first_frame(self) -> None:
        """Start-up work that can wait until the screen is up.

        The openai SDK is imported (and its client built) in a thread: ~0.7 s that used to
        come before the first frame. A send made before it is ready waits for it (see
        ChatClient._client). The commonest code lexers load in a thread too
        (markdown_code.warm_lexers), and markdown-it, which the first frame does without
        (markdown_blocks.warm_rendering).
        """
        if self._tune_gc:
            freeze_startup_objects()
        self.services.client.start_warming()
        threading.Thread(target=warm_rendering, name="warm-rendering", daemon=True).start()

    def watch_theme(self, name: str) -> None:
        """Save a theme the user picked, so the next launch starts with it."""
        if not self._theme_ready or name == self._saved_theme:
            return
        try:
            save_settings({"theme": name})
        except (ConfigError, OSError) as error:
            self.notify(f"Could not save the theme “{name}”: {error}", severity="error")
            return
        self._saved_theme = self.services.settings.theme = name

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification is literal: they carry model names, titles and server errors,
        which must never be read as markup (widgets and screens pass ``markup=True``
        by default, so the app decides here, once), and their control characters are shown
        as symbols (a toast writes ESC and bidi overrides to the terminal as they are)."""
        super().notify(visible(message), title=visible(title), severity=severity,
                       timeout=timeout, markup=False)

    # -- the clipboard -------------------------------------------------------------------------

    def copy_to_clipboard(self, text: str) -> None:
        """Every copy (a message, a code block, a mouse selection, the composer's cut) goes
        the way tui.core.clipboard picks; a worker runs the tool, if any, off the loop, and
        the notification says which way it went and nothing it cannot know."""
        self._clipboard = text
        self.run_worker(self._deliver_copy(text), group="clipboard")

    async def _deliver_copy(self, text: str) -> CopyResult:
        result = await asyncio.to_thread(copy_text, text, dict(os.environ))
        if result.sequence:
            self.write_to_terminal(result.sequence)
        message = result.message + "".join(f" Note: {note}." for note in result.notes)
        severity = "information" if result.ok and not result.notes else (
            "error" if result.path not in ("tmux-passthrough",) and not result.ok
            else "warning")
        self.notify(message, severity=severity, timeout=4 if result.ok else 10)
        return result

    def write_to_terminal(self, sequence: str) -> None:
        """Raw bytes for the terminal (escape sequences); nothing when headless."""
        driver = self._driver
        if driver is not None:
            driver.write(sequence)

    def get_default_screen(self) -> Screen:
        self._main = MainScreen(self.services, now=self._now,
                                conversation_page=self._conversation_page)
        return self._main

    @property
    def main(self) -> MainScreen:
        return self._main

    def action_help(self) -> None:
        from tui.ui.screens.help import HelpScreen  # a screen is imported when first shown

        if isinstance(self.screen, HelpScreen):
            return
        sections = keys.help_sections(list(Composer.BINDINGS))
        self.push_screen(HelpScreen([(s.title, with_keymap(s.bindings, self.user_keymap))
                                     for s in sections]))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action in the command palette (ctrl+p), from the key registry, each once.

        Textual's own "Keys" entry opens its key panel; ours opens the app's help instead.
        An action that does not apply now (Stop reply with nothing streaming) is left out.
        """
        from tui.ui.keys import key_label

        own = {"Keys", "Quit"}
        for command in super().get_system_commands(screen):
            if command.title not in own:
                yield command
        yield SystemCommand("Keys", "Every key, where it applies (F1)", self.action_help)
        if not isinstance(screen, MainScreen):
            return
        for binding in with_keymap(keys.palette_bindings(), self.user_keymap):
            if binding.action == "help":
                continue
            target = self if binding.id in {b.id for b in keys.APP} else screen
            if target.check_action(binding.action, ()) is False:
                continue
            yield SystemCommand(keys.long_description(binding),
                                f"Key: {key_label(binding.key)}",
                                lambda binding=binding, target=target: self.call_later(
                                    target.run_action, binding.action))
        # The composer's own tools (its keys only work while it has focus): from the palette
        # they focus it first. The README promises every action a palette entry.
        composer = screen.composer
        for binding in with_keymap(composer_tools(), self.user_keymap):
            yield SystemCommand(keys.long_description(binding),
                                f"Key: {key_label(binding.key)} (in the composer)",
                                lambda binding=binding: self.call_later(
                                    self._composer_action, composer, binding.action))
        for command in keys.COMMANDS:
            if screen.check_action(command.action, ()) is not False:
                yield SystemCommand(command.title, command.help,
                                    lambda command=command: self.call_later(
                                        screen.run_action, command.action))
        yield from self._code_block_commands(screen)

    @staticmethod
    async def _composer_action(composer: Widget, action: str) -> None:
        composer.focus()
        await composer.run_action(action)

    def _code_block_commands(self, screen: MainScreen) -> Iterable[SystemCommand]:
        """One palette entry per code block of the focused message (else the last reply).

        The palette reads a command's title as markup, and a block's title is the reply's
        (its language and first line): a first line ``[/]`` ended the app, ``[@click=…]``
        made a link. Escaped, and its control characters made visible."""
        focused = screen.focused
        for block in screen.chat_view.code_blocks(focused):
            yield SystemCommand(escape_markup(f"Copy code block {one_line(block.title)}"),
                                f"{block.code.count(chr(10)) + 1} lines",
                                lambda number=block.number: screen.chat_view.copy_code(
                                    focused, number))

    async def on_unmount(self) -> None:
        # The draft being typed is kept; then streams stop: each stores its partial reply
        # as interrupted on the way out.
        await self.main.drafts.flush()
        await self.main.streams.stop_all()
        if self._owns_services:
            await self.services.aclose()


def open_app_services(*, db_path: str | None = None,
                      flags: dict[str, Any] | None = None) -> Services:
    """The services as the app opens them (run_app, and bench/bench_app.py measuring it).

    The encoding (~45 MB, ~0.4 s) loads when typing starts (ContextTracker): stored counts
    serve an open chat until then, and a reader who never types never pays.
    """
    services = open_services(db_path=db_path, flags=flags, load_encoding=False)
    services.counter.defer_loading()
    return services


def run_app(args: Any) -> int:
    """Open the services from the command line's options and run the app."""
    try:
        services = open_app_services(
            db_path=getattr(args, "db", None),
            flags={"model": getattr(args, "model", None),
                   "base_url": getattr(args, "base_url", None)},
        )
    except (ConfigError, StoreError) as error:
        print(f"gpt-tui: error: {error}", file=sys.stderr)
        return 1
    for warning in services.settings.warnings:
        print(f"gpt-tui: warning: {warning}", file=sys.stderr)
    raise_gen0_threshold()
    app = GptTuiApp(services, owns_services=True, tune_gc=True)
    return exit_status(app.run(), app.return_code)


def exit_status(result: int | None, return_code: int | None) -> int:
    """The process's exit status: the app's own (130, 143 on a signal), else Textual's
    return code, which is 1 after an error that ended the app (it exited 0, telling a
    script all was well)."""
    return result if isinstance(result, int) else (return_code or 0)
