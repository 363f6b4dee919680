"""`gpt-tui ask -f FILE…` and a pipe next to a prompt: what reaches the server, and the
files that are refused (exit 2, nothing sent)."""

from __future__ import annotations

import base64

from tests.fake_openai.scripts import Script
from tests.test_ask import ask, env, rows  # noqa: F401  (env is a fixture)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))


def test_stdin_next_to_a_prompt_is_attached_as_a_block(env, fake_openai):
    fake_openai.script(Script.reply("LGTM"))
    result = ask(env, "review this", stdin="-old\n+new\n")
    assert result.returncode == 0, result.stderr
    sent = fake_openai.chat_requests()[0]["messages"][-1]["content"]
    assert sent == "review this\n\nstdin:\n\n```\n-old\n+new\n```"


def test_text_files_and_an_image(env, fake_openai, tmp_path):
    fake_openai.script(Script.reply("seen"))
    code = tmp_path / "tool.py"
    code.write_text("x = 1\n")
    image = tmp_path / "shot.png"
    image.write_bytes(PNG)
    result = ask(env, "-f", str(code), "-f", str(image), "what is this?")
    assert result.returncode == 0, result.stderr
    content = fake_openai.chat_requests()[0]["messages"][-1]["content"]
    text = f"what is this?\n\n{code}:\n\n```python\nx = 1\n```"
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert content == [{"type": "text", "text": text},
                       {"type": "image_url", "image_url": {"url": url}}]
    # Stored with the message: the image is in the attachments table.
    assert rows(env["GPT_TUI_DB"], "select name, mime, length(data) from attachments") == [
        (str(image), "image/png", len(PNG))]


def test_binary_missing_or_oversized_files_exit_2_and_send_nothing(env, fake_openai,
                                                                   tmp_path):
    binary = tmp_path / "a.out"
    binary.write_bytes(b"\x7fELF\x00\x00\x01")
    big = tmp_path / "big.log"
    big.write_text("x" * 250_000)
    for path, said in ((binary, "is binary, not text; not attached"),
                       (tmp_path / "nope.txt", "no such file"),
                       (big, "text attachments stop at 200.0 kB")):
        result = ask(env, "-f", str(path), "hi")
        assert result.returncode == 2, result.stderr
        assert said in result.stderr and result.stderr.count("\n") == 1
    assert fake_openai.chat_requests() == []
