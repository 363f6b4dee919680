"""The fake OpenAI server speaks the wire format exactly: checked with plain http.client."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tiktoken

from tests.fake_openai import FakeOpenAI, Script, markdown_reply

ROOT = Path(__file__).resolve().parents[1]


def post(server: FakeOpenAI, body: dict[str, Any], headers: dict[str, str] | None = None
         ) -> tuple[http.client.HTTPResponse, bytes, http.client.HTTPConnection]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", json.dumps(body),
                 {"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    return response, response.read(), conn


def get(server: FakeOpenAI, path: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", path)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data)


def sse_events(raw: bytes) -> list[str]:
    """The data payloads, checking every event is exactly ``data: ...`` + blank line."""
    text = raw.decode()
    assert text.endswith("\n\n")
    blocks = text[:-2].split("\n\n")
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks)
    return [block[len("data: "):] for block in blocks]


def chat(content: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def openai_count(messages: list[dict[str, str]]) -> int:
    enc = tiktoken.get_encoding("o200k_base")
    return 3 + sum(3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"]))
                   for m in messages)


def test_stream_wire_format_with_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script.reply("Hello there, wörld! 日本語"))
    response, raw, _ = post(fake_openai, chat(stream=True, stream_options={"include_usage": True}))
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    assert response.getheader("Transfer-Encoding") == "chunked"
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert content == "Hello there, wörld! 日本語"
    assert len(chunks) > 5  # token-sized pieces, not one blob
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-2]["choices"][0]["delta"] == {}
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    messages = [{"role": "user", "content": "hi"}]
    assert usage_chunk["usage"]["prompt_tokens"] == openai_count(messages)
    enc = tiktoken.get_encoding("o200k_base")
    reply_tokens = len(enc.encode("Hello there, wörld! 日本語"))
    assert usage_chunk["usage"]["completion_tokens"] == reply_tokens
    assert all(c["usage"] is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage(fake_openai: FakeOpenAI) -> None:
    _, raw, _ = post(fake_openai, chat("ping", stream=True))
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all("usage" not in c and c["choices"] for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "You said: ping"


def test_non_streaming_completion(fake_openai: FakeOpenAI) -> None:
    response, raw, _ = post(fake_openai, chat("x"))
    body = json.loads(raw)
    assert response.status == 200
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "You said: x",
                                              "refusal": None, "annotations": []}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == (body["usage"]["prompt_tokens"]
                                             + body["usage"]["completion_tokens"])


def test_context_window_enforced_with_openai_count(fake_openai: FakeOpenAI) -> None:
    messages = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Tell me about the sea. " * 20}]
    count = openai_count(messages)
    fake_openai.context_window = count
    response, raw, _ = post(fake_openai, {"model": "gpt-4o", "messages": messages})
    assert response.status == 200
    assert json.loads(raw)["usage"]["prompt_tokens"] == count
    # prompt fits but leaves no room: the reply is cut at the window
    assert json.loads(raw)["choices"][0]["finish_reason"] == "length"

    fake_openai.context_window = count - 1
    response, raw, _ = post(fake_openai, {"model": "gpt-4o", "messages": messages})
    error = json.loads(raw)["error"]
    assert response.status == 400
    assert error["code"] == "context_length_exceeded"
    assert error["message"] == (
        f"This model's maximum context length is {count - 1} tokens. However, your messages "
        f"resulted in {count} tokens. Please reduce the length of the messages.")

    fake_openai.context_window = count + 10
    response, raw, _ = post(fake_openai, {"model": "gpt-4o", "messages": messages,
                                          "max_completion_tokens": 11})
    assert response.status == 400
    assert f"you requested {count + 11} tokens ({count} in the messages, 11 in the completion)" \
        in json.loads(raw)["error"]["message"]


def test_max_tokens_cuts_reply_with_length(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script.reply("one two three four five six seven"))
    _, raw, _ = post(fake_openai, chat(max_tokens=3))
    body = json.loads(raw)
    assert body["choices"][0]["message"]["content"] == "one two three"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize("script, status, code", [
    (Script.invalid_api_key(), 401, "invalid_api_key"),
    (Script.model_not_found("nope"), 404, "model_not_found"),
    (Script.server_error(503), 503, None),
    (Script.unsupported_parameter("max_tokens"), 400, "unsupported_parameter"),
])
def test_scripted_errors_use_openai_bodies(fake_openai: FakeOpenAI, script: Script, status: int,
                                           code: str | None) -> None:
    fake_openai.script(script)
    response, raw, _ = post(fake_openai, chat(stream=True))
    error = json.loads(raw)["error"]
    assert response.status == status
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code


def test_rate_limit_sends_retry_after_and_queue_falls_back(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script.rate_limited(2), Script.reply("after"))
    response, _, _ = post(fake_openai, chat())
    assert response.status == 429
    assert response.getheader("Retry-After") == "2"
    assert json.loads(post(fake_openai, chat())[1])["choices"][0]["message"]["content"] == "after"
    assert json.loads(post(fake_openai, chat("z"))[1])["choices"][0]["message"]["content"] \
        == "You said: z"


def test_server_wide_rules(fake_openai: FakeOpenAI) -> None:
    fake_openai.require_api_key = "sk-right"
    assert post(fake_openai, chat())[0].status == 401
    auth = {"Authorization": "Bearer sk-right"}
    assert post(fake_openai, chat(), auth)[0].status == 200
    fake_openai.known_models = {"only-this"}
    response, raw, _ = post(fake_openai, chat(), auth)
    assert response.status == 404 and "gpt-4o-mini" in json.loads(raw)["error"]["message"]
    fake_openai.known_models = None
    fake_openai.unsupported_params = {"max_tokens"}
    response, raw, _ = post(fake_openai, chat(max_tokens=5), auth)
    assert response.status == 400
    assert json.loads(raw)["error"]["message"] == (
        "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.")


def test_records_requests_and_responder(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: (Script.reply("SUMMARY") if "Summarize"
                                          in body["messages"][-1]["content"] else None)
    fake_openai.script(Script.reply("queued"))
    first = json.loads(post(fake_openai, chat("Summarize this"), {"X-Test": "1"})[1])
    second = json.loads(post(fake_openai, chat("normal"))[1])
    assert first["choices"][0]["message"]["content"] == "SUMMARY"
    assert second["choices"][0]["message"]["content"] == "queued"
    assert fake_openai.wait_for_requests(2, timeout=1)
    assert not fake_openai.wait_for_requests(3, timeout=0.01)
    recorded = fake_openai.requests[0]
    assert (recorded.method, recorded.path) == ("POST", "/v1/chat/completions")
    assert recorded.headers["x-test"] == "1"
    assert [b["messages"][0]["content"] for b in fake_openai.chat_requests()] == \
        ["Summarize this", "normal"]


def test_cut_closes_connection_without_done(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script.cut("a b c d e f g h", after=2))
    conn = http.client.HTTPConnection("127.0.0.1", fake_openai.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", json.dumps(chat(stream=True)))
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    partial = info.value.partial.decode()
    assert "[DONE]" not in partial and "finish_reason\":\"stop" not in partial
    assert partial.count("data: ") == 3  # role chunk + two content chunks


def test_client_disconnect_is_reported(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script(text="a b c d e f", hold_after=1))
    sock = socket.create_connection(("127.0.0.1", fake_openai.port), timeout=5)
    body = json.dumps(chat(stream=True)).encode()
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                 b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert fake_openai.holding.wait(2)
    assert not fake_openai.client_disconnected.is_set()
    sock.close()
    assert fake_openai.client_disconnected.wait(1)
    assert fake_openai.disconnects == 1


def test_release_lets_a_held_stream_finish(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script(text="a b c", hold_after=1))
    fake_openai.release()  # released before it stalls: passes straight through
    _, raw, _ = post(fake_openai, chat(stream=True))
    assert sse_events(raw)[-1] == "[DONE]"


def test_tps_paces_the_stream(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Script(text="one two three four five six seven eight nine ten", tps=100))
    start = time.monotonic()
    post(fake_openai, chat(stream=True))
    assert time.monotonic() - start >= 0.09  # 10 tokens at 100 tokens/s


def test_models_and_props(fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["a", "b"]
    fake_openai.max_model_len = {"b": 32768}
    status, body = get(fake_openai, "/v1/models")
    assert status == 200 and body["object"] == "list"
    assert [(m["id"], m.get("max_model_len")) for m in body["data"]] == [("a", None), ("b", 32768)]
    assert get(fake_openai, "/props")[0] == 404
    fake_openai.props_n_ctx = 8192
    assert get(fake_openai, "/props") == (200, {"default_generation_settings": {"n_ctx": 8192},
                                                "total_slots": 1})


def test_markdown_reply_has_requested_size_and_structure() -> None:
    text = markdown_reply(2000)
    tokens = len(tiktoken.get_encoding("o200k_base").encode(text))
    assert 1900 <= tokens <= 2010
    assert text.count("```") % 2 == 0
    assert "| --- |" in text and "\n## " in text and "\n- " in text
    assert markdown_reply(2000) == text


def test_command_line_runs_the_server() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.fake_openai", "--port", "0",
                             "--reply", "markdown", "--tokens", "50"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/v1/chat/completions", json.dumps(chat()))
        content = json.loads(conn.getresponse().read())["choices"][0]["message"]["content"]
        assert content.startswith("# Overview")
    finally:
        proc.terminate()
        proc.wait(5)
