"""`python -m tui` does exactly what the `gpt-tui` console script does."""

from tui.cli import entry

entry()
