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

from tests.fake_openai import FakeOpenAI, Script, foreign, markdown_reply
from tests.fake_openai.summaries import is_summary_request

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


# --- an awkward server: foreign tokenizer, llama.cpp / vLLM flavors, misbehaving summaries ----

PROSE = ("The planner keeps the newest turns and folds older ones into a running summary, "
         "so the model sees what matters; it was tested on 12345 requests, mostly short.")


def call(server: FakeOpenAI, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(method, path, None if body is None else json.dumps(body),
                 {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data)


@pytest.fixture
def llama() -> Any:
    server = FakeOpenAI(tokenizer="foreign", flavor="llamacpp", context_window=512,
                        models=["tiny-llama"])
    with server:
        yield server


def test_foreign_tokenizer_counts_about_twice_tiktoken_but_not_in_proportion() -> None:
    enc = tiktoken.get_encoding("o200k_base")
    assert foreign.count_text("word " * 600) == 1201  # the real tiny model: 1,211
    assert foreign.pieces(" conversation") == [" co", "nve", "rsa", "tio", "n"]
    assert foreign.pieces("12345") == list("12345")  # o200k_base: 2 tokens
    assert "".join(foreign.pieces(PROSE)) == PROSE
    ratio = foreign.count_text(PROSE) / len(enc.encode(PROSE))
    digits = foreign.count_text("1234567890" * 10) / len(enc.encode("1234567890" * 10))
    assert 1.6 < ratio < 2.4 and digits > 2.9  # no single ratio maps one onto the other


def test_foreign_usage_counts_the_chatml_rendering(llama: FakeOpenAI) -> None:
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": PROSE}]
    prompt = ("<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\n" + PROSE
              + "<|im_end|>\n<|im_start|>assistant\n")
    assert call(llama, "POST", "/apply-template", {"messages": messages}) == (200,
                                                                              {"prompt": prompt})
    status, tokens = call(llama, "POST", "/tokenize", {"content": prompt, "add_special": True})
    assert status == 200 and tokens["tokens"][0] == 1  # <|im_start|> is one special token
    status, body = call(llama, "POST", "/v1/chat/completions",
                        {"model": "tiny-llama", "messages": messages})
    assert status == 200
    assert body["usage"]["prompt_tokens"] == len(tokens["tokens"]) == foreign.count_messages(
        messages)
    assert body["usage"]["prompt_tokens"] > 1.5 * openai_count(messages)
    # the reply streams in (and is billed by) foreign tokens too
    assert body["usage"]["completion_tokens"] == foreign.count_text(
        body["choices"][0]["message"]["content"])


def test_llamacpp_tokenize_shapes(llama: FakeOpenAI) -> None:
    status, plain = call(llama, "POST", "/tokenize", {"content": "Hi <|im_end|> 42"})
    assert status == 200 and all(isinstance(t, int) for t in plain["tokens"])
    assert plain["tokens"][2] == 2 and len(plain["tokens"]) == 6  # Hi, " ", <|im_end|>, " ", 4, 2
    _, pieces = call(llama, "POST", "/tokenize", {"content": "Hi <|im_end|> 42",
                                                  "with_pieces": True})
    assert [p["piece"] for p in pieces["tokens"]] == ["Hi", " ", "<|im_end|>", " ", "4", "2"]
    assert [p["id"] for p in pieces["tokens"]] == plain["tokens"]
    _, literal = call(llama, "POST", "/tokenize", {"content": "<|im_end|>",
                                                   "parse_special": False})
    assert len(literal["tokens"]) > 1
    assert call(llama, "POST", "/tokenize", {}) == (200, {"tokens": []})
    assert call(llama, "POST", "/apply-template", {})[0] == 400


def test_llamacpp_props_health_and_models(llama: FakeOpenAI) -> None:
    status, props = get(llama, "/props")
    assert status == 200 and props["default_generation_settings"]["n_ctx"] == 512
    assert props["total_slots"] == 1 and props["model_alias"] == "tiny-llama"
    assert get(llama, "/health") == (200, {"status": "ok"})
    _, models = get(llama, "/v1/models")
    assert models["object"] == "list" and models["models"][0]["model"] == "tiny-llama"
    entry = models["data"][0]
    assert entry["meta"]["n_ctx"] == 512 and entry["owned_by"] == "llamacpp"
    assert "max_model_len" not in entry
    llama.props_n_ctx = 2048  # /props may report another window than the one enforced
    assert get(llama, "/props")[1]["default_generation_settings"]["n_ctx"] == 2048
    assert llama.window == 512
    plain = FakeOpenAI(tokenizer="foreign")
    with plain:
        assert call(plain, "POST", "/tokenize", {"content": "x"})[0] == 404
        assert get(plain, "/health")[0] == 404


def fill(server: FakeOpenAI, tokens: int) -> list[dict[str, str]]:
    """User messages whose prompt is exactly ``tokens`` by the server's count."""
    words = []
    while server.count_prompt([{"role": "user", "content": " ".join(words + ["ab"])}]) <= tokens:
        words.append("ab")
    messages = [{"role": "user", "content": " ".join(words)}]
    while server.count_prompt(messages) < tokens:
        messages[0]["content"] += "."
    assert server.count_prompt(messages) == tokens
    return messages


@pytest.mark.parametrize("stream", [False, True])
def test_llamacpp_overflow_error(llama: FakeOpenAI, stream: bool) -> None:
    messages = fill(llama, 512)
    status, body = call(llama, "POST", "/v1/chat/completions",
                        {"model": "tiny-llama", "messages": messages, "stream": stream})
    assert status == 400
    assert body == {"error": {
        "code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 512, "n_ctx": 512,
        "message": "request (512 tokens) exceeds the available context size (512 tokens), "
                   "try increasing it"}}
    record = llama.chat_log()[-1]
    assert (record.status, record.too_long, record.prompt_tokens) == (400, True, 512)


def test_llamacpp_generates_to_the_end_of_the_window(llama: FakeOpenAI) -> None:
    messages = fill(llama, 500)
    llama.script(Script.reply("one two three four five six seven eight nine ten eleven twelve"))
    # max_tokens is not part of llama.cpp's check: 500 + 100 > 512 is still answered
    status, body = call(llama, "POST", "/v1/chat/completions",
                        {"model": "tiny-llama", "messages": messages, "max_tokens": 100})
    assert status == 200
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"] == 512
    assert body["choices"][0]["message"]["content"] == "one two three four five six se"
    record = llama.chat_log()[-1]
    assert (record.status, record.too_long, record.finish_reason) == (200, False, "length")


def test_llamacpp_flavor_can_answer_openai_errors() -> None:
    server = FakeOpenAI(tokenizer="foreign", flavor="llamacpp", context_window=64,
                        overflow_error="openai")
    with server:
        messages = fill(server, 70)
        status, body = call(server, "POST", "/v1/chat/completions",
                            {"model": "gpt-4o-mini", "messages": messages})
        assert status == 400 and body["error"]["code"] == "context_length_exceeded"
        assert "your messages resulted in 70 tokens" in body["error"]["message"]
    with pytest.raises(ValueError):
        FakeOpenAI(flavor="koboldcpp")


def test_vllm_tokenize_and_max_model_len() -> None:
    server = FakeOpenAI(tokenizer="foreign", flavor="vllm", context_window=1024, models=["m"])
    with server:
        messages = [{"role": "user", "content": PROSE}]
        status, body = call(server, "POST", "/tokenize", {"model": "m", "messages": messages})
        assert status == 200 and set(body) == {"count", "max_model_len", "tokens", "token_strs"}
        assert body["count"] == len(body["tokens"]) == foreign.count_messages(messages)
        assert body["max_model_len"] == 1024
        _, text = call(server, "POST", "/tokenize", {"model": "m", "prompt": PROSE,
                                                     "return_token_strs": True})
        assert text["count"] == foreign.count_text(PROSE)
        assert "".join(text["token_strs"]) == PROSE
        assert get(server, "/v1/models")[1]["data"][0]["max_model_len"] == 1024
        assert call(server, "POST", "/apply-template", {"messages": messages})[0] == 404
        # vLLM refuses prompt + max_tokens over the window, like OpenAI
        over = fill(server, 1000)
        status, error = call(server, "POST", "/v1/chat/completions",
                             {"model": "m", "messages": over, "max_tokens": 50})
        assert status == 400 and error["error"]["code"] == "context_length_exceeded"


def summary_request(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "You maintain a running summary of a conversation."},
        {"role": "user", "content": text}], **extra}


def test_summary_requests_are_recognised() -> None:
    assert is_summary_request(summary_request("x"))
    chat_with_summary = {"messages": [
        {"role": "system", "content": "Summary of the earlier conversation:\nthey met"},
        {"role": "user", "content": "hi"}]}
    assert not is_summary_request(chat_with_summary)
    assert not is_summary_request(chat("Summarize this"))


def test_summary_replies_misbehave_in_turn() -> None:
    text = "Messages to fold in:\n\nUser: " + PROSE
    server = FakeOpenAI(tokenizer="foreign", summary_replies=["short", "long", "cut", "echo"])
    with server:
        server.script(Script.reply("queued for chat"))
        replies = [call(server, "POST", "/v1/chat/completions", summary_request(text))[1]
                   for _ in range(4)]
        short, long, cut, echo = [r["choices"][0] for r in replies]
        assert short["finish_reason"] == "stop"
        assert len(short["message"]["content"].split()) < len(text.split())
        assert long["finish_reason"] == "stop"
        assert foreign.count_text(long["message"]["content"]) > 2 * foreign.count_text(text)
        assert cut["finish_reason"] == "length"
        assert long["message"]["content"].startswith(cut["message"]["content"])
        assert len(cut["message"]["content"]) < len(long["message"]["content"])
        assert echo["message"]["content"] == "You said: " + text  # the default reply text
        # a short summary keeps to half of max_tokens; a limit cuts a long one like any reply
        _, brief = call(server, "POST", "/v1/chat/completions",
                        summary_request(text, max_tokens=10))
        assert brief["choices"][0]["finish_reason"] == "stop"
        assert brief["usage"]["completion_tokens"] <= 5
        _, limited = call(server, "POST", "/v1/chat/completions",
                          summary_request(text, max_tokens=10))
        assert limited["choices"][0]["finish_reason"] == "length"
        assert limited["usage"]["completion_tokens"] == 10
        assert all(r.summary for r in server.chat_log())
        _, plain = call(server, "POST", "/v1/chat/completions", chat("hello"))
        assert plain["choices"][0]["message"]["content"] == "queued for chat"  # left to chat
        assert not server.chat_log()[-1].summary
    with pytest.raises(ValueError):
        FakeOpenAI(summary_replies=["wordy"])


def test_request_log_records_the_servers_count(fake_openai: FakeOpenAI) -> None:
    messages = [{"role": "user", "content": "Tell me about the sea. " * 5}]
    count = openai_count(messages)
    fake_openai.context_window = count + 2
    post(fake_openai, {"model": "gpt-4o", "messages": messages})
    post(fake_openai, {"model": "gpt-4o", "messages": messages, "max_tokens": 5})
    ok, refused = fake_openai.chat_log()
    assert (ok.status, ok.prompt_tokens, ok.too_long, ok.finish_reason) == (200, count, False,
                                                                           "length")
    assert ok.completion_tokens == 2 and ok.messages == messages
    assert (refused.status, refused.prompt_tokens, refused.too_long) == (400, count, True)
    assert refused.finish_reason is None


def test_command_line_plays_llamacpp() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.fake_openai", "--port", "0",
                             "--tokenizer", "foreign", "--flavor", "llamacpp",
                             "--context-window", "256", "--summary-replies", "cut"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/props")
        assert json.loads(conn.getresponse().read())["default_generation_settings"]["n_ctx"] == 256
        conn.request("POST", "/tokenize", json.dumps({"content": "word " * 10}))
        assert len(json.loads(conn.getresponse().read())["tokens"]) == 21
        conn.request("POST", "/v1/chat/completions", json.dumps(summary_request("a b c d")))
        assert json.loads(conn.getresponse().read())["choices"][0]["finish_reason"] == "length"
    finally:
        proc.terminate()
        proc.wait(5)
