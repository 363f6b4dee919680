"""The core: storage, tokens and context, the model client, export, config and the chat flow.

Nothing under ``tui.core`` may import Textual (``tests/test_layers.py`` checks it), so every
piece here can be used headless by ``gpt-tui ask`` and tested without a terminal.
"""
