"""Sending from the composer while reading further up: the view goes to the message and
follows the reply. It stayed at the top for the whole reply (found in tmux; Pilot, which
scrolls without the terminal's timing, did not show it)."""

from __future__ import annotations

from tests.fake_openai.scripts import Script

SIZE = (100, 30)
CTRL_O, CTRL_T = b"\x0f", b"\x14"
LONG = "\n\n".join(f"Paragraph {n} of a long answer, with enough words to wrap." for n in
                   range(40))


def test_a_message_sent_while_scrolled_up_is_followed(launch, fake_openai):
    fake_openai.script(Script.reply(LONG + "\n\nFIRST END", tps=2000),
                       Script.reply(LONG + "\n\nSECOND END", tps=2000),
                       Script.reply(LONG + "\n\nTHIRD END", tps=400))
    term = launch(size=SIZE)
    term.wait_for("Message…")
    term.send(b"first question\r")
    term.wait_for("FIRST END", timeout=20)
    term.send(b"second question")
    term.wait_for("second question")
    term.send(b"\r")
    term.wait_for("SECOND END", timeout=20)
    term.send(CTRL_O + b"g")  # the messages pane, its first message
    term.wait_for("first question")
    term.wait_gone("SECOND END")
    term.send(CTRL_T + b"third question")
    term.wait_for("third question")
    term.send(b"\r")
    term.wait_for("THIRD END", timeout=30)
