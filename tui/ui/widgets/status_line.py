"""The status bar: model, context meter, strategy and what the app is doing.

It follows the screen's state by watching it (the open conversation, the replies streaming
and the last failure per chat); only the meter reading is given to it, because it changes
with every keystroke in the composer. A long error wraps onto more lines, never cut mid-word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Label

from tui.core.meter import MeterReading
from tui.core.windows import format_window
from tui.ui.widgets.literal import one_line

if TYPE_CHECKING:
    from tui.ui.reply_streams import ReplyState

BAR_WIDTH = 10
# The meter turns to a warning colour from this share of the window (the default summarize /
# truncate trigger is 0.8 of the budget), and to an error colour when the next send must act.
WARN_FRACTION = 0.7


def short_count(tokens: int) -> str:
    """3200 -> "3.2k", 128000 -> "128k", 1048576 -> "1M"."""
    if tokens < 1000:
        return str(tokens)
    if tokens < 1_000_000:
        value = tokens / 1000
        return f"{value:.1f}k".replace(".0k", "k") if value < 100 else f"{round(value)}k"
    value = tokens / 1_000_000
    return f"{value:.1f}M".replace(".0M", "M")


# Where the window figure came from, as the status line says it (briefly): only the figures
# the server gave or taught, and a guess. The built-in table, the config and a size set on
# the chat are the usual case and cost no columns; the preview (F6) names every source.
SOURCE_MARKS = {"server": "server", "error": "learned", "accepted": "taken", "guess": "guess?"}


def window_source_mark(source: str) -> str:
    """" (server)", " (learned)", " (guess?)"; nothing for the table, config or chat."""
    mark = SOURCE_MARKS.get(source)
    return f" ({mark})" if mark else ""


def meter_bar(fraction: float, width: int = BAR_WIDTH) -> Content:
    filled = max(0, min(width, round(fraction * width)))
    return Content.assemble(("█" * filled, "$accent"), ("░" * (width - filled), "$foreground 30%"))


class StatusLine(Vertical):
    """One row of facts; a failure in the open chat adds a second, wrapped row below."""

    reading: reactive[MeterReading | None] = reactive(None, init=False)
    # The estimated cost of the next request's prompt ("" when the model has no price).
    next_cost: reactive[str] = reactive("", init=False)

    def __init__(self, *, default_model: str = "", default_strategy: str = "",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._defaults = (default_model, default_strategy)
        self._countdown: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="status-row"):
            yield Label("", id="status-model")
            yield Label("", id="status-meter")
            yield Label("", id="status-cost")
            yield Label("", id="status-strategy")
            yield Label("", id="status-state")
        yield Label("", id="status-error")

    def on_mount(self) -> None:
        screen: Any = self.screen
        if hasattr(screen, "conversation"):
            self.watch(screen, "conversation", self._show_conversation)
            self.watch(screen, "replies", self._show_state)
            self.watch(screen, "failures", self._show_state)

    def _show_conversation(self) -> None:
        conversation = getattr(self.screen, "conversation", None)
        model = conversation.model if conversation else self._defaults[0]
        strategy = conversation.strategy if conversation else self._defaults[1]
        self.query_one("#status-model", Label).update(Content(one_line(model)))
        self.query_one("#status-strategy", Label).update(
            f"strategy: {getattr(strategy, 'value', strategy)}")
        self._show_state()

    def set_defaults(self, model: str, strategy: str) -> None:
        self._defaults = (model, strategy)
        self._show_conversation()

    def _count_down_retries(self) -> None:
        """Keep "retrying in Ns" current while a reply waits out a rate limit; the timer
        runs only then (an idle app does no periodic work)."""
        replies: dict[str, ReplyState] = getattr(self.screen, "replies", {})
        if any(state.retry_at is not None for state in replies.values()):
            if self._countdown is None:
                self._countdown = self.set_interval(1.0, self._show_state)
        elif self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    def _show_state(self) -> None:
        screen: Any = self.screen
        conversation = screen.conversation
        cid = conversation.id if conversation else None
        replies: dict[str, ReplyState] = screen.replies
        self._count_down_retries()
        others = sum(1 for other in replies if other != cid)
        background = f"{others} streaming in the background" if others else ""
        reply = replies.get(cid) if cid else None
        failure = screen.failures.get(cid) if cid else None
        if reply is not None:
            text = reply.status_text() + (f" · {background}" if background else "")
            self._set_state(text, reply.kind)
        elif failure:
            self._set_state("error" + (f" · {background}" if background else ""), "error")
        else:
            self._set_state(background, "")
        self.query_one("#status-error", Label).update(
            Content(f"error: {one_line(failure)}") if failure and reply is None else "")

    def _set_state(self, text: str, kind: str) -> None:
        """``kind`` is "", "streaming", "retrying" or "error" (styled in app.tcss)."""
        label = self.query_one("#status-state", Label)
        label.update(Content(one_line(text)))
        for name in ("streaming", "retrying", "error"):
            label.set_class(kind == name, f"-{name}")
        self.set_class(kind == "error", "-error")
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """``-tight`` (the strategy hidden) when the row's facts are wider than the row: the
        row is cut at its edge, and the state at its right end ("streaming…", a retry's
        countdown) went first. The strategy is the one fact the chat's settings also show."""
        row = self.query_one("#status-row", Horizontal)
        width = row.content_size.width
        if not width:
            return
        needed = 0
        for label in row.query(Label):
            if label.display or label.id == "status-strategy":
                needed += (label.get_content_width(row.content_size, self.app.size)
                           + label.styles.margin.right)
        self.set_class(needed > width, "-tight")

    def watch_next_cost(self, text: str) -> None:
        label = self.query_one("#status-cost", Label)
        label.update(Content(text))
        label.display = bool(text)  # no empty gap when the model has no price
        self._fit()

    def watch_reading(self, reading: MeterReading | None) -> None:
        """Show a MeterReading (tokens, window, estimated, action), or nothing."""
        label = self.query_one("#status-meter", Label)
        if reading is None:
            label.update("")
            label.set_class(False, "-warn")
            label.set_class(False, "-over")
            self._fit()
            return
        # "≈" unless the server's own tokenizer counted (exact) or the local encoding is the
        # model's (not estimated, and the window is OpenAI's table figure for that model).
        exact = reading.exact or (not reading.estimated and reading.own_encoding)
        prefix = "" if exact else "≈"
        fraction = reading.fraction  # of the prompt budget, for what the next request sends
        whole = reading.full
        apart = f" (all {short_count(whole)})" if whole > reading.tokens else ""
        source = window_source_mark(reading.window_source)
        text = (f"{prefix}{short_count(reading.tokens)} / {format_window(reading.window)}"
                f"{source}{apart} ")
        label.update(Content.assemble(text, meter_bar(fraction)))
        over = reading.action in ("refuse", "over")
        label.set_class(over, "-over")
        label.set_class(not over and (reading.action != "none" or fraction >= WARN_FRACTION),
                        "-warn")
        self._fit()
