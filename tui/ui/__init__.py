"""The Textual user interface. It calls ``tui.core``; it never runs SQL or HTTP itself."""
