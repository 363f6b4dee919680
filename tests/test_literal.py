"""One rule for showing untrusted text: control characters become visible, text stays."""

from tui.core.literal import printable


def test_controls_become_visible_and_text_is_kept():
    assert printable("a\x1b[31mred\x1b[0m") == "a␛[31mred␛[0m"
    assert printable("bell\x07 nul\x00 del\x7f csi\x9b") == "bell␇ nul␀ del␡ csi\ufffd"
    assert printable("tab\tand\nnewline [bold]x[/]") == "tab\tand\nnewline [bold]x[/]"
    assert printable("\r") == "␍"


def test_bidi_controls_and_unicode_line_separators_become_visible():
    # "Trojan Source": an override would show ``admin`` for text that reads otherwise.
    assert printable("a\u202enimda\u202c b") == "a\ufffdnimda\ufffd b"
    assert printable("x\u2066y\u2069 \u2067\u2068\u202a\u202b\u202d") == "x\ufffdy\ufffd " + "\ufffd" * 5
    assert printable("one\u2028two\u2029three") == "one␤two␤three"
    assert printable("שלום and مرحبا stay") == "שלום and مرحبا stay"
