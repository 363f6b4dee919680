"""Issue 9, part 2 item 2: the newline keys insert a newline and never send.

Sent as real terminals send them: Alt+Enter as ESC CR (xterm, tmux, every emulator with
"Alt sends Escape"), Shift+Enter under the Kitty keyboard protocol (CSI 13;2u) and under
xterm's modifyOtherKeys (CSI 27;2;13~, tmux with extended-keys), Ctrl+J as a bare line feed.
Each is followed by more text in a separate burst, as typed; Enter then sends the whole
draft as one message.
"""

from __future__ import annotations

from tests.terminal.harness import (
    ALT_ENTER,
    CTRL_J,
    ENTER,
    SHIFT_ENTER_KITTY,
    SHIFT_ENTER_XTERM,
)


def test_newline_keys_insert_a_line_and_enter_sends_it_all(launch, fake_openai):
    term = launch("--model", "gpt-4o-mini")
    term.wait_for("Message…")
    term.send("first")
    term.wait_for("first")
    lines = ["first"]
    for key, text in ((ALT_ENTER, "second"), (SHIFT_ENTER_KITTY, "third"),
                      (SHIFT_ENTER_XTERM, "fourth"), (CTRL_J, "fifth")):
        term.send(key)
        term.send(text)
        term.wait_for(text)
        lines.append(text)
        rows = {word: term.find(word) for word in lines}
        assert [rows[word][0] for word in lines] == list(
            range(rows["first"][0], rows["first"][0] + len(lines))), \
            f"not one line each:\n{term.text()}"
    assert fake_openai.chat_requests() == [], "a newline key sent the draft"
    term.send(ENTER)
    term.wait_for("You said:")
    sent = [body["messages"][-1]["content"] for body in fake_openai.chat_requests()]
    assert sent == ["first\nsecond\nthird\nfourth\nfifth"]
