"""One rule for showing untrusted text: control characters become visible, text stays."""

from tui.core.literal import printable


def test_controls_become_visible_and_text_is_kept():
    assert printable("a\x1b[31mred\x1b[0m") == "a␛[31mred␛[0m"
    assert printable("bell\x07 nul\x00 del\x7f csi\x9b") == "bell␇ nul␀ del␡ csi\ufffd"
    assert printable("tab\tand\nnewline [bold]x[/]") == "tab\tand\nnewline [bold]x[/]"
    assert printable("\r") == "␍"
