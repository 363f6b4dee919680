"""The one-line status bar: model, context meter, strategy and what the app is doing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from tui.core.windows import format_window
from tui.ui.widgets.literal import one_line

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


def meter_bar(fraction: float, width: int = BAR_WIDTH) -> Content:
    filled = max(0, min(width, round(fraction * width)))
    return Content.assemble(("█" * filled, "$accent"), ("░" * (width - filled), "$foreground 30%"))


class StatusLine(Horizontal):
    def compose(self) -> ComposeResult:
        yield Label("", id="status-model")
        yield Label("", id="status-meter")
        yield Label("", id="status-strategy")
        yield Label("", id="status-state")

    def set_model(self, model: str) -> None:
        self.query_one("#status-model", Label).update(Content(one_line(model)))

    def set_strategy(self, strategy: str) -> None:
        self.query_one("#status-strategy", Label).update(f"strategy: {strategy}")

    def set_meter(self, reading) -> None:
        """Show a MeterReading (tokens, window, estimated, action), or nothing."""
        label = self.query_one("#status-meter", Label)
        if reading is None:
            label.update("")
            label.set_class(False, "-warn")
            label.set_class(False, "-over")
            return
        prefix = "≈" if reading.estimated else ""
        fraction = reading.fraction  # of the prompt budget, for what the next request sends
        whole = getattr(reading, "full", 0)
        apart = f" (all {short_count(whole)})" if whole > reading.tokens else ""
        text = f"{prefix}{short_count(reading.tokens)} / {format_window(reading.window)}{apart} "
        label.update(Content.assemble(text, meter_bar(fraction)))
        over = reading.action in ("refuse", "over")
        label.set_class(over, "-over")
        label.set_class(not over and (reading.action != "none" or fraction >= WARN_FRACTION),
                        "-warn")

    def set_state(self, text: str, kind: str = "") -> None:
        """``kind`` is "", "streaming", "retrying" or "error" (styled in app.tcss)."""
        label = self.query_one("#status-state", Label)
        label.update(Content(one_line(text)))
        for name in ("streaming", "retrying", "error"):
            label.set_class(kind == name, f"-{name}")
