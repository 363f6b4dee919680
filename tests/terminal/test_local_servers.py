"""Ollama in a real terminal: typing for a model it has not loaded shows the window Ollama
runs it with before anything is sent (Ollama cuts a longer prompt without a word)."""

from __future__ import annotations

from tests.terminal.harness import ENTER

MODEL = "llama3.1:8b"


def status_row_shows(term, text: str) -> bool:
    return any(text in row for row in term.rows()[-3:])


def test_typing_for_an_ollama_model_shows_its_window_before_the_send(launch, fake_openai):
    fake_openai.flavor = "ollama"
    fake_openai.models = [MODEL]
    fake_openai.context_window = 2048
    term = launch("--model", MODEL)
    term.wait_until(lambda _: status_row_shows(term, "4k (guess?)"),
                    what="Ollama's usual default, as a guess")
    term.send("hello")
    term.wait_until(lambda _: status_row_shows(term, "2k (server)"),
                    what="the window Ollama loaded the model with")
    assert fake_openai.chat_requests() == []
    assert [r.path for r in fake_openai.requests].count("/api/generate") == 1
    term.send(ENTER)
    term.wait_for("You said: hello")
    assert [r.truncated for r in fake_openai.chat_log()] == [0]
