"""`gpt-tui ask` flags and personas, as scripts run them: each parameter on the wire."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.fake_openai.scripts import Script
from tests.test_ask import ask, env  # noqa: F401 - the fixture
from tui import cli
from tui.ask_command import EXIT_NOT_JSON
from tui.core.personas import Persona, PersonaError, Personas, persona_from
from tui.core.store import Store


def gpt_tui(env, *args: str):
    import subprocess
    import sys

    from tests.test_ask import ROOT

    return subprocess.run([sys.executable, "-m", "tui", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def conversation_id(result) -> str:
    return result.stderr.strip().splitlines()[-1].split(": ")[1]


def test_every_flag_reaches_the_request_and_is_kept(env, fake_openai):
    fake_openai.script(Script.reply('{"answer": 42}'), Script.reply('{"again": true}'))
    result = ask(env, "--temperature", "0.3", "--top-p", "0.9", "--max-tokens", "64",
                 "--json", "--param", "top_k=40", "--param", "min_p=0.05", "JSON please")
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"answer": 42}\n'
    body = fake_openai.chat_requests()[-1]
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.3, 0.9, 64)
    assert body["response_format"] == {"type": "json_object"}
    assert (body["top_k"], body["min_p"]) == (40, 0.05)
    # Kept for later turns, like --system and --strategy; --param NAME= removes one.
    again = ask(env, "-c", conversation_id(result), "--param", "min_p=", "more")
    assert again.returncode == 0, again.stderr
    body = fake_openai.chat_requests()[-1]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == \
        (0.3, 0.9, 64, 40)
    assert "min_p" not in body and body["response_format"] == {"type": "json_object"}


def test_a_reply_that_is_not_json_gets_its_own_exit_status(env, fake_openai):
    fake_openai.script(Script.reply("Sure! Here is your JSON: {oops"))
    result = ask(env, "--json", "Give me JSON")
    assert result.returncode == EXIT_NOT_JSON == 3
    assert result.stdout == "Sure! Here is your JSON: {oops\n", "the reply is still printed"
    assert "the reply is not valid JSON" in result.stderr
    with sqlite3.connect(env["GPT_TUI_DB"]) as conn:
        stored = conn.execute("select content from messages where role = 'assistant'").fetchall()
    assert stored == [("Sure! Here is your JSON: {oops",)]


@pytest.mark.parametrize("args, reason", [
    (["--temperature", "2.5"], "temperature must be between 0 and 2"),
    (["--top-p", "-0.1"], "top_p must be between 0 and 1"),
    (["--max-tokens", "0"], "max tokens must be a positive whole number"),
    (["--param", "stream=false"], "clashes with a field"),
    (["--param", "top_k"], "expected NAME=VALUE"),
])
def test_bad_values_exit_2_with_the_reason_and_send_nothing(tmp_path, fake_openai, capsys,
                                                            args, reason):
    # In process (argparse refuses before anything is opened): no interpreter start-up each.
    code = cli.main(["--db", str(tmp_path / "x.db"), "--base-url", fake_openai.base_url,
                     "ask", *args, "hi"])
    err = capsys.readouterr().err
    assert code == 2
    assert reason in err and "Traceback" not in err
    assert fake_openai.chat_requests() == []


def test_config_defaults_reach_ask(env, fake_openai, isolated_env):
    config = Path(isolated_env) / "config" / "gpt-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('system_prompt = "Answer in French."\ntemperature = 0.6\n'
                      'top_p = 0.7\nmax_tokens = 99\n[extra_params]\nrepeat_penalty = 1.1\n',
                      encoding="utf-8")
    config.chmod(0o600)
    env = {**env, "XDG_CONFIG_HOME": str(config.parents[1])}
    fake_openai.script(Script.reply("Bonjour"))
    result = ask(env, "hello")
    assert result.returncode == 0, result.stderr
    body = fake_openai.chat_requests()[-1]
    assert body["messages"][0] == {"role": "system", "content": "Answer in French."}
    assert (body["temperature"], body["top_p"], body["max_tokens"],
            body["repeat_penalty"]) == (0.6, 0.7, 99, 1.1)
    assert "response_format" not in body


def test_a_persona_reaches_the_request_and_flags_win(env, fake_openai):
    created = gpt_tui(env, "personas", "create", "Pirate", "--model", "gpt-4.1", "--system",
                      "Talk like a pirate.", "--temperature", "1.2", "--top-p", "0.95",
                      "--max-tokens", "80", "--json-output", "--param", "top_k=12")
    assert created.returncode == 0, created.stderr
    listed = gpt_tui(env, "personas")
    assert listed.returncode == 0 and "Pirate" in listed.stdout and "gpt-4.1" in listed.stdout
    fake_openai.script(Script.reply('{"arr": "matey"}'), Script.reply('{"x": 1}'))
    result = ask(env, "--persona", "pirate", "Ahoy")
    assert result.returncode == 0, result.stderr
    body = fake_openai.chat_requests()[-1]
    assert body["model"] == "gpt-4.1"
    assert body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == \
        (1.2, 0.95, 80, 12)
    assert body["response_format"] == {"type": "json_object"}
    result = ask(env, "--persona", "Pirate", "--temperature", "0.1", "--no-json", "Ahoy")
    body = fake_openai.chat_requests()[-1]
    assert body["temperature"] == 0.1 and "response_format" not in body
    assert body["top_k"] == 12


def test_an_unknown_persona_is_a_usage_error(env, fake_openai):
    result = ask(env, "--persona", "Nobody", "hi")
    assert result.returncode == 2
    assert "no persona named 'Nobody'" in result.stderr
    assert fake_openai.chat_requests() == []


# -- the personas themselves (in process) ---------------------------------------------------

@pytest.fixture
def personas(tmp_path: Path):
    with Store(tmp_path / "p.db") as store:
        yield Personas(store)


def test_personas_add_get_rename_delete(personas):
    personas.add(Persona(name="  Code   reviewer ", model="gpt-4o", temperature=0.2,
                         extra_params={"top_k": 5}))
    found = personas.get("code reviewer")
    assert found.name == "Code reviewer" and found.temperature == 0.2
    assert found.extra_params == {"top_k": 5}
    with pytest.raises(PersonaError, match="already exists"):
        personas.add(Persona(name="CODE REVIEWER"))
    personas.add(Persona(name="Poet"))
    with pytest.raises(PersonaError, match="already exists"):
        personas.rename("poet", "code reviewer")
    personas.rename("poet", "Bard")
    assert [p.name for p in personas.list()] == ["Bard", "Code reviewer"]
    updated = personas.update("bard", temperature=1.5, system_prompt="Rhyme.")
    assert (updated.temperature, updated.system_prompt) == (1.5, "Rhyme.")
    personas.delete("BARD")
    with pytest.raises(PersonaError, match="no persona named 'Bard'"):
        personas.get("Bard")


@pytest.mark.parametrize("persona, reason", [
    (Persona(name=""), "needs a name"),
    (Persona(name="x" * 61), "at most 60"),
    (Persona(name="Hot", temperature=4), "between 0 and 2"),
    (Persona(name="Odd", extra_params={"messages": 1}), "clashes"),
])
def test_bad_personas_are_refused_with_the_reason(personas, persona, reason):
    with pytest.raises(PersonaError, match=reason):
        personas.add(persona)
    assert personas.list() == []


def test_a_persona_from_a_conversation_copies_its_settings(personas):
    conversation = personas.store.create_conversation(
        model="m", system_prompt="S", temperature=0.5, json_output=True,
        extra_params={"min_p": 0.1}, context_window=4096)
    saved = personas.add(persona_from("Copy", conversation))
    assert (saved.model, saved.system_prompt, saved.temperature, saved.json_output,
            saved.extra_params, saved.context_window) == ("m", "S", 0.5, True,
                                                          {"min_p": 0.1}, 4096)
    assert personas.get("copy").settings()["model"] == "m"
    assert "model" not in Persona(name="any").settings(), "no model: the session's"
