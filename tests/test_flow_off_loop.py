"""A send reads the whole history and counts it in a thread, never on the event loop
(tui/core/flow_plan.py, tui/core/summarize.py): in a 2,000-message chat those held the loop
~50 ms a send, in a 10,000-message one ~300 ms, and the app's screen with it."""

from __future__ import annotations

import asyncio
import threading

from tests import test_context_flow
from tests.test_context_flow import awkward, flow_for
from tui.core.chat import ContextNotice, FlowFailed
from tui.core.models import Role, Strategy
from tui.core.tokens import TokenCounter

# The context flow's fixtures: a store and a token counter.
counter, store = test_context_flow.counter, test_context_flow.store


def on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def test_a_send_reads_and_counts_the_history_off_the_event_loop(store, counter,
                                                                      monkeypatch) -> None:
    with awkward("llamacpp", context_window=2048) as server:
        flow = await flow_for(server, store, counter, strategy=Strategy.SUMMARIZE)
        conversation = flow.new_conversation()
        for i in range(40):
            store.append_message(conversation.id, Role.USER, f"question {i} " + "word " * 40)
            store.append_message(conversation.id, Role.ASSISTANT, f"answer {i} " + "word " * 40)
        stored = {m.content for m in store.load_messages(conversation.id)}
        on_loop: list[str] = []
        load_messages, count_text = store.load_messages, TokenCounter.count_text

        def watched_load(conversation_id: str, *args, **kwargs):
            if on_the_loop() and kwargs.get("limit") is None:
                on_loop.append("the whole history read")
            return load_messages(conversation_id, *args, **kwargs)

        def watched_count(self: TokenCounter, text: str) -> int:
            if on_the_loop() and text in stored:
                on_loop.append(f"a stored message counted: {text[:20]!r}")
            return count_text(self, text)

        monkeypatch.setattr(store, "load_messages", watched_load)
        monkeypatch.setattr(TokenCounter, "count_text", watched_count)
        events = [event async for event in flow.send(conversation.id, "and now?")]
        assert not [e for e in events if isinstance(e, FlowFailed)], events
        assert [e for e in events if isinstance(e, ContextNotice) and e.kind == "summarized"]
        assert on_loop == []
        await flow.client.aclose()


async def test_the_counts_a_first_send_makes_are_stored_in_one_go(store, counter) -> None:
    """Rows without a count (an import, an older version's) are counted on the first send
    and their counts stored: one commit for them all, not one a message."""
    with awkward("openai", context_window=128_000) as server:
        flow = await flow_for(server, store, counter)
        conversation = flow.new_conversation()
        for i in range(40):
            store.append_message(conversation.id, Role.USER, f"question {i} " + "word " * 40)
            store.append_message(conversation.id, Role.ASSISTANT, f"answer {i} " + "word " * 40)
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        try:
            events = [event async for event in flow.send(conversation.id, "and now?")]
        finally:
            store.conn.set_trace_callback(None)
        assert not [e for e in events if isinstance(e, FlowFailed)], events
        stored = store.load_messages(conversation.id)
        assert all(m.token_count == counter.count_message(m.role, m.content)
                   and m.token_encoding == counter.encoding_label for m in stored[:80])
        # Each count written inside one transaction (no BEGIN: a commit of its own).
        open_transaction, alone = False, 0
        for sql in statements:
            word = sql.split(None, 1)[0].upper() if sql.strip() else ""
            if word == "BEGIN":
                open_transaction = True
            elif word in ("COMMIT", "ROLLBACK"):
                open_transaction = False
            elif "token_count" in sql and sql.lstrip().upper().startswith("UPDATE"):
                alone += not open_transaction
        assert alone == 0, f"{alone} counts written with a commit each"
        await flow.client.aclose()


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN")


async def test_no_write_on_the_event_loop_can_wait_out_another_programs_lock(store, counter):
    """Every write the chat flow makes on the event loop gives up at once when another
    program holds the lock (and is tried again later, or from a thread); one that waits
    the busy timeout there holds the screen still for up to 5 s. Found this way: a new
    chat's title, the server's token counts, a regenerate's or a retry's clearing of the
    old answer, an overflow's empty reply."""
    from tests.fake_openai import Script

    with awkward("llamacpp", context_window=2048) as server:
        flow = await flow_for(server, store, counter, strategy=Strategy.SUMMARIZE)
        flow.settings.auto_title = True
        conversation = flow.new_conversation()
        short = threading.local()
        found: list[str] = []

        def traced(sql: str) -> None:
            words = sql.split(None, 3)
            if words[:2] == ["PRAGMA", "busy_timeout"]:
                short.on = words[-1] == "0"
            elif words and words[0].upper() in WRITES and on_the_loop() and not getattr(
                    short, "on", False):
                found.append(sql[:60])

        store.conn.set_trace_callback(traced)
        try:
            for turn in range(3):
                events = [e async for e in flow.send(conversation.id, f"question {turn}")]
                assert not [e for e in events if isinstance(e, FlowFailed)], events
            events = [e async for e in flow.regenerate(conversation.id)]
            server.script(Script.cut("a reply cut short " * 5, after=3))
            events = [e async for e in flow.send(conversation.id, "one more")]
            events = [e async for e in flow.retry(conversation.id)]
            assert not [e for e in events if isinstance(e, FlowFailed)], events
        finally:
            store.conn.set_trace_callback(None)
            await flow.client.aclose()
        assert found == []
