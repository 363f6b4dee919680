"""Issue 8, the pure parts: calibration, server-keyed windows, pins, window sizes, summaries."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.test_context import chat, exact_counter, make, plan, words
from tui.core import ids
from tui.core.calibration import Calibration
from tui.core.chat import finish_note
from tui.core.config import ConfigError, read_config_file
from tui.core.context import budget_for
from tui.core.hosts import sanitize_url
from tui.core.migrations import migrate
from tui.core.models import Message, Role, Strategy
from tui.core.sizing import Sizer
from tui.core.store import Store
from tui.core.summarize import _split
from tui.core.summary_plan import plan_summary_chunks, summary_budget, summary_prompt
from tui.core.windows import format_window, parse_window_size, window_info


# --- calibration ----------------------------------------------------------------------------

def test_calibration_separates_the_templates_fixed_cost_from_the_ratio() -> None:
    """A server counting 40 + 1.9 x local: small requests must not pass for a big ratio."""
    calibration = Calibration()
    for local in (30, 60, 45, 120, 200, 80):  # all small: the old rule (>= 256) learned nothing
        calibration.learn(local, round(40 + 1.9 * local))
    assert calibration.ratio == pytest.approx(1.9, abs=0.05)
    assert calibration.fixed == pytest.approx(40, abs=5)
    assert calibration.predict(300) == pytest.approx(40 + 1.9 * 300, rel=0.03)


def test_calibration_first_sample_and_persistence() -> None:
    calibration = Calibration()
    assert calibration.predict(100) == 100 and not calibration.learned
    calibration.learn(100, 190)
    assert calibration.predict(100) == 190
    again = Calibration.from_state(calibration.state())
    assert again == calibration
    assert Calibration.from_state({"ratio": "x", "junk": 1}).predict(10) == 10


def test_calibration_keeps_slack_after_predicting_too_low() -> None:
    calibration = Calibration()
    calibration.learn(100, 200)
    calibration.learn(100, 260)  # the same size counted higher: content varies
    assert calibration.slack > 0
    assert calibration.predict(100) >= 230


def test_a_count_of_part_of_a_cut_request_raises_the_line_without_bending_it() -> None:
    """Ollama cut a first request to its 2,048-token window and counted what it kept. Taken
    as a point, that count bent the line through the next real one (780 -> 1,790) flat:
    fixed 1,410, ratio 0.49, so a 100-token request was predicted at ~1,500 and every
    summary piece seemed too big to send."""
    calibration = Calibration()
    calibration.raise_to(1309, 2048)
    assert calibration.learned and calibration.predict(1309) >= 2048
    assert calibration.predict(100) < 200, "a ratio, not a fixed cost"
    calibration.raise_to(1309, 1000)  # a lower bound below the prediction says nothing
    assert calibration.predict(1309) >= 2048
    calibration.learn(780, 1790)
    assert calibration.fixed < 100 and calibration.ratio == pytest.approx(1790 / 780, rel=0.05)
    assert calibration.predict(100) < 300
    again = Calibration.from_state(json.loads(json.dumps(calibration.state())))
    assert again == calibration


def test_a_count_that_leaves_out_the_cached_prompt_is_not_learned() -> None:
    """Ollama 0.30 reported only the tokens it did not serve from its cache."""
    calibration = Calibration()
    calibration.learn(1000, 1900)
    calibration.learn(3000, 100)  # the whole chat cached but the last message
    assert calibration.samples == 1 and calibration.predict(3000) >= 5000
    calibration.learn(20, 4)  # a tiny request: its template may be all of it; learned
    assert calibration.samples == 2


@settings(max_examples=60, deadline=None)
@given(fixed=st.integers(0, 200), ratio=st.floats(0.5, 3.0),
       sizes=st.lists(st.integers(20, 4000), min_size=3, max_size=30))
@example(fixed=23, ratio=1.0, sizes=[97, 125, 143])  # a refit that tilted below the first size
def test_calibration_converges_on_any_line(fixed: int, ratio: float, sizes: list[int]) -> None:
    calibration = Calibration()
    for local in sizes:
        calibration.learn(local, round(fixed + ratio * local))
    for local in sizes[-3:]:  # at sizes it just saw: never notably low, not wildly high
        truth = fixed + ratio * local
        assert truth * 0.98 - 2 <= calibration.predict(local) <= truth * 1.6 + 10


def test_calibration_keeps_its_recent_samples_across_a_reload() -> None:
    calibration = Calibration()
    for local in (97, 125, 143):
        calibration.learn(local, local + 23)
    again = Calibration.from_state(json.loads(json.dumps(calibration.state())))
    assert again.recent == [[97, 120], [125, 148], [143, 166]]
    assert again.predict(97) == calibration.predict(97) >= 120


# --- windows: per server, with a source -----------------------------------------------------

def test_sanitize_url_drops_credentials_query_and_case() -> None:
    assert sanitize_url("HTTPS://user:pa55@Host.example:8443/v1/?key=sk-secret#x") == \
        "https://host.example:8443/v1"
    assert sanitize_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    assert "sk-" not in sanitize_url("https://h/v1?api_key=sk-abc")


def test_windows_belong_to_a_server_and_never_store_credentials(tmp_path: Path) -> None:
    with Store(tmp_path / "w.db") as store:
        store.set_model_window("llama", 1024, source="server error",
                               base_url="http://bob:hunter2@small-box:8080/v1?token=sk-x")
        assert store.get_model_window("llama", "http://small-box:8080/v1") == 1024
        assert store.get_model_window("llama", "http://big-box:8080/v1") is None
        row = store.model_window("llama", "http://small-box:8080/v1")
        assert row is not None and row.source == "error"
        dump = "\n".join(store.conn.iterdump())
        assert "hunter2" not in dump and "sk-x" not in dump and "bob" not in dump
        assert store.forget_model_window("llama") == 1
        assert store.list_model_windows() == []


def test_version_3_windows_keep_working_for_any_server(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=3)
    conn.execute("INSERT INTO model_windows VALUES ('qwen', 2048, 'server error', "
                 "'2024-01-01T00:00:00.000Z')")
    cid, mid = ids.new_ulid(), ids.new_ulid()
    conn.execute("INSERT INTO conversations (id, model, created, updated) VALUES (?, 'qwen', "
                 "'2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')", (cid,))
    conn.execute("INSERT INTO messages (id, conversation_id, role, content, created) "
                 "VALUES (?, ?, 'user', 'hi', '2024-01-01T00:00:00.000Z')", (mid, cid))
    conn.close()
    with Store(path) as store:
        assert store.get_model_window("qwen", "http://anywhere/v1") == 2048
        (old,) = store.list_model_windows()
        assert old.base_url == "" and old.source == "error"
        # A server's own figure wins over the old one, for that server only.
        store.set_model_window("qwen", 8192, source="server", base_url="http://big/v1")
        assert store.get_model_window("qwen", "http://big/v1") == 8192
        assert store.get_model_window("qwen", "http://other/v1") == 2048
        assert store.load_messages(cid)[0].pinned is False


def test_window_info_says_where_the_figure_came_from() -> None:
    assert window_info("gpt-4o") == window_info("gpt-4o", learned=None)
    assert window_info("gpt-4o").source == "table"
    assert window_info("mystery").source == "guess" and not window_info("mystery").trusted
    assert window_info("mystery", learned=512, learned_source="error").source == "error"
    assert window_info("mystery", learned=512).source == "server"
    assert window_info("llama3", overrides={"llama3": 4096}, learned=512).source == "config"
    assert window_info("x", conversation=900, overrides={"x": 4096}).size == 900


@pytest.mark.parametrize("text, size", [
    ("8k", 8192), ("128k", 131072), ("4K", 4096), ("1m", 1048576), ("32768", 32768),
    (8192, 8192), ("1.5k", 1536), ("0", None), ("lots", None), (-5, None), (True, None),
])
def test_window_sizes_are_read_as_people_write_them(text, size) -> None:
    assert parse_window_size(text) == size


@pytest.mark.parametrize("size, shown", [
    (512, "512"), (4096, "4k"), (8192, "8k"), (128_000, "128k"), (131_072, "128k"),
    (16_385, "16k"), (1_047_576, "1M"), (200_000, "200k"), (1500, "1.5k"),
])
def test_window_sizes_are_shown_as_people_say_them(size, shown) -> None:
    assert format_window(size) == shown


def test_config_accepts_window_sizes_like_8k(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[context_windows]\n"llama3.1:8b" = "8k"\n"qwen" = 32768\n')
    assert read_config_file(path)["context_windows"] == {"llama3.1:8b": 8192, "qwen": 32768}
    path.write_text('[context_windows]\n"llama3.1:8b" = "eight"\n')
    with pytest.raises(ConfigError, match="8k"):
        read_config_file(path)


# --- pins -----------------------------------------------------------------------------------

def test_a_pinned_message_is_never_dropped_or_summarized() -> None:
    history = chat(20, 100)
    history[2].pinned = True  # the second question
    budget = budget_for(4096, None)
    truncated = plan(history, budget, Strategy.TRUNCATE)
    assert truncated.truncated and history[2].id in truncated.sent_ids
    assert history[2].id not in truncated.dropped_ids
    assert truncated.pinned_ids == [history[2].id]
    assert truncated.messages[1]["content"] == history[2].content  # in its place in time
    assert truncated.tokens <= budget.available
    summarized = plan(history, budget, Strategy.SUMMARIZE)
    assert summarized.to_summarize and history[2] not in summarized.to_summarize
    assert history[2].id in summarized.sent_ids


@settings(max_examples=40, deadline=None)
@given(turns=st.integers(2, 25), pins=st.sets(st.integers(0, 49), max_size=3),
       strategy=st.sampled_from([Strategy.SUMMARIZE, Strategy.TRUNCATE]))
def test_pins_hold_for_any_history(turns: int, pins: set[int], strategy: Strategy) -> None:
    history = chat(turns, 60)
    for i in pins:
        if i < len(history):
            history[i].pinned = True
    budget = budget_for(4096, None)
    result = plan(history, budget, strategy)
    pinned = {m.id for m in history if m.pinned}
    assert pinned <= set(result.sent_ids)
    assert not pinned & set(result.dropped_ids)
    assert not pinned & {m.id for m in result.to_summarize}
    assert result.tokens <= budget.available
    order = [m["content"] for m in result.messages[1:]]
    by_content = {m.content: i for i, m in enumerate(history)}
    assert [by_content[c] for c in order] == sorted(by_content[c] for c in order)


# --- summaries fit by construction ----------------------------------------------------------

def test_summary_requests_fit_a_sizer_that_counts_double() -> None:
    """Sized with the calibrated counts, each summary request fits with room for its reply."""
    calibration = Calibration()
    calibration.learn(100, 230)
    calibration.learn(400, 830)
    sizer = Sizer(exact_counter(), calibration)
    budget = summary_budget(1024)
    messages = chat(12, 80) + [make(99, Role.USER, words(1500))]
    chunks = plan_summary_chunks(messages, budget, exact_counter(), sizer=sizer)
    for chunk in chunks:
        prompt = summary_prompt(chunk, None, window=1024)
        local = 3 + sum(exact_counter().count_message(m["role"], m["content"]) for m in prompt)
        assert calibration.predict(local) + budget.reserved_output <= budget.window


def test_a_piece_of_a_message_is_split_by_its_own_size() -> None:
    """A piece has its message's id, and the sizer knows the whole message's count by id:
    a piece measured so was cut a few dozen characters shorter at each split, thousands of
    splits (minutes at full CPU) before a summary request was sent."""
    counter = exact_counter()
    message = make(1, Role.USER, words(1500))
    sizer = Sizer(counter)
    whole = sizer.units(message)  # as the planner has it
    halves = _split([message], sizer, counter)
    assert halves is not None
    piece = halves[0][0]
    size = sizer.text_units("user", piece.content)
    assert size < whole * 0.6
    smaller = _split([piece], sizer, counter)
    assert smaller is not None and len(smaller) >= 2
    assert all(sizer.text_units("user", part.content) <= size * 0.6 for (part,) in smaller)


# --- finish notes ---------------------------------------------------------------------------

def _reply(finish: str, prompt: int | None, completion: int | None) -> Message:
    return Message(id="m", conversation_id="c", role=Role.ASSISTANT, content="x",
                   finish_reason=finish, prompt_tokens=prompt, completion_tokens=completion)


def test_finish_note_tells_the_output_limit_from_the_end_of_the_window() -> None:
    assert "output token limit" in finish_note(_reply("length", 100, 256),
                                               max_output_tokens=256, window=8192)
    assert "context window" in finish_note(_reply("length", 300, 212),
                                           max_output_tokens=None, window=512)
    assert "context window" in finish_note(_reply("length", 300, 212),
                                           max_output_tokens=1000, window=512)
    assert finish_note(_reply("stop", 1, 1), max_output_tokens=None, window=512) is None
