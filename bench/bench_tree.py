"""Benchmark of the conversation tree: opening a branched chat, and importing a big export.

* ``open``    ms to open a conversation and paint it in the real app (headless
              ``run_test``, the test server in a thread), for a flat 1,000-message chat
              (today's ``bench_app.py open``) and a branched one: the same 1,000 messages on
              its active path plus 200 regenerated answers (200 branch points, 1,200
              messages, every branched answer drawn with its ‹ 2/2 ›). The two are measured
              alternately, run after run, so they share the machine's load.
* ``store``   ms for the store reads opening does (the newest page of the path, the
              summaries that hold on it, the branch map) on the branched chat.
* ``import``  seconds to import a ChatGPT export of N conversations (default 1,000), each a
              realistic tree (a hidden system root, 4 turns, one regenerated answer and one
              edited question), into a fresh database; and to import it again (nothing new).

    python bench/bench_tree.py [--runs 5] [--messages 1000] [--branches 200]
                               [--conversations 1000] [--skip open store import]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_app import SIZE, isolate, screen_text  # noqa: E402


def spread(values: list[float], fmt: str = ".0f") -> str:
    return (f"median {statistics.median(values):{fmt}} (min {min(values):{fmt}}, max "
            f"{max(values):{fmt}}; runs: {', '.join(format(v, fmt) for v in values)})")


def build_chats(store: Any, messages: int, branches: int) -> tuple[str, str, str]:
    """A small chat (opened first), a flat one and a branched one with the same path."""
    from tests.fake_openai.replies import markdown_reply
    from tui.core.models import Role

    body = markdown_reply(120)
    flat = store.create_conversation(model="gpt-4o-mini", title="flat").id
    branched = store.create_conversation(model="gpt-4o-mini", title="branched").id
    turns = messages // 2
    every = max(1, turns // branches) if branches else 0
    made = 0
    for i in range(turns):
        question = f"question {i}: how does this work?"
        store.append_message(flat, Role.USER, question)
        store.append_message(flat, Role.ASSISTANT, body, model="gpt-4o-mini")
        asked = store.append_message(branched, Role.USER, question)
        if every and i % every == 0 and made < branches:
            # An older answer, left as a sibling when the question was regenerated.
            store.append_message(branched, Role.ASSISTANT, "an earlier answer " + body,
                                 model="gpt-4o-mini")
            made += 1
        store.append_message(branched, Role.ASSISTANT, body, model="gpt-4o-mini",
                             parent_id=asked.id)
    small = store.create_conversation(model="gpt-4o-mini", title="small").id
    store.append_message(small, Role.USER, "hi")
    return small, flat, branched


async def open_once(services: Any, small: str, target: str) -> float:
    from tui.ui.app import GptTuiApp

    app = GptTuiApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.main.conversation.id == small
        painted = asyncio.get_running_loop().create_future()
        start = time.perf_counter()
        await app.main.open_conversation(target)
        app.call_after_refresh(lambda: painted.set_result(time.perf_counter()))
        end = await painted
        assert "question" in screen_text(app)
    return (end - start) * 1000


async def bench_open(tmp: Path, runs: int, messages: int, branches: int) -> None:
    from tui.core import tree
    from tui.core.services import open_services

    from tests.fake_openai.server import FakeOpenAI

    server = FakeOpenAI()
    server.start()
    try:
        services = open_services(db_path=tmp / "open.db", flags={"base_url": server.base_url})
        small, flat, branched = build_chats(services.store, messages, branches)
        store = services.store
        shown = len(store.load_messages(branched))
        points = sum(1 for b in tree.branches(store, branched).values() if b.position == 1)
        print(f"branched chat: {store.count_messages(branched):,} messages, {shown:,} on the "
              f"active path, {points} branch points", flush=True)
        flat_ms: list[float] = []
        tree_ms: list[float] = []
        for _ in range(runs):
            # The app would reopen the last chat: make the small one the latest each time.
            store.touch_conversation(small)
            flat_ms.append(await open_once(services, small, flat))
            store.touch_conversation(small)
            tree_ms.append(await open_once(services, small, branched))
        await services.aclose()
    finally:
        server.stop()
    print(f"open the flat {messages:,}-message chat: {spread(flat_ms)} ms", flush=True)
    print(f"open the branched chat: {spread(tree_ms)} ms", flush=True)


def bench_store(tmp: Path, runs: int, messages: int, branches: int) -> None:
    from tui.core import tree
    from tui.core.store import Store

    with Store(tmp / "store.db") as store:
        _, flat, branched = build_chats(store, messages, branches)
        for name, call in [
            ("newest page of 50 (flat)", lambda: store.load_messages(flat, limit=50)),
            ("newest page of 50 (branched)", lambda: store.load_messages(branched, limit=50)),
            ("whole active path (branched)", lambda: store.load_messages(branched)),
            ("summaries on the path (branched)", lambda: store.list_summaries(branched)),
            ("branch map (branched)", lambda: tree.branches(store, branched)),
        ]:
            times = []
            for _ in range(max(runs, 5)):
                start = time.perf_counter()
                call()
                times.append((time.perf_counter() - start) * 1000)
            print(f"store: {name}: {spread(times, '.2f')} ms", flush=True)


def chatgpt_conversation(index: int, start: float) -> dict[str, Any]:
    """One realistic exported conversation: hidden root, 4 turns, a regenerated answer and
    an edited question."""
    mapping: dict[str, Any] = {}

    def node(parent: str | None, role: str | None, text: str, t: float,
             hidden: bool = False) -> str:
        node_id = str(uuid.uuid4())
        message = None if role is None else {
            "id": node_id, "author": {"role": role, "name": None, "metadata": {}},
            "create_time": t, "update_time": None,
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "end_turn": role == "assistant", "weight": 1.0,
            "metadata": ({"is_visually_hidden_from_conversation": True} if hidden else
                         {"model_slug": "gpt-4o", "finish_details": {"type": "stop"}}
                         if role == "assistant" else {}),
            "recipient": "all", "channel": None}
        mapping[node_id] = {"id": node_id, "message": message, "parent": parent,
                            "children": []}
        if parent is not None:
            mapping[parent]["children"].append(node_id)
        return node_id

    t = start
    root = node(None, None, "", t)
    last = node(root, "system", "", t, hidden=True)
    edited_from = last
    for turn in range(4):
        t += 60
        asked = node(last, "user", f"Question {turn} of chat {index}: how do I do it?", t)
        if turn == 2:
            node(edited_from, "user", f"An earlier wording of question {turn}", t - 30)
        if turn == 1:
            node(asked, "assistant", "An answer that was regenerated. " * 20, t + 5)
        last = node(asked, "assistant", f"Answer {turn}: here is how. " * 40, t + 10)
        edited_from = last
    return {"title": f"Chat {index}", "create_time": start, "update_time": t,
            "mapping": mapping, "moderation_results": [], "current_node": last,
            "plugin_ids": None, "conversation_id": str(uuid.uuid4()), "gizmo_id": None,
            "is_archived": False, "safe_urls": [], "default_model_slug": "gpt-4o",
            "id": str(uuid.uuid4())}


def bench_import(tmp: Path, runs: int, conversations: int) -> None:
    from tui.core.importing import import_file
    from tui.core.store import Store

    export = tmp / "conversations.json"
    export.write_text(json.dumps([chatgpt_conversation(i, 1.7e9 + i * 3600)
                                  for i in range(conversations)]), encoding="utf-8")
    size = export.stat().st_size / 1e6
    first: list[float] = []
    again: list[float] = []
    for run in range(runs):
        with Store(tmp / f"import-{run}.db") as store:
            start = time.perf_counter()
            report = import_file(store, export)
            first.append(time.perf_counter() - start)
            assert report.count("imported") == conversations
            start = time.perf_counter()
            report = import_file(store, export)
            again.append(time.perf_counter() - start)
            assert report.count("present") == conversations
            messages = store.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    print(f"import a {conversations:,}-conversation ChatGPT export ({size:.1f} MB, "
          f"{messages:,} messages): {spread(first, '.2f')} s; again (nothing new): "
          f"{spread(again, '.2f')} s", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--branches", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["open", "store", "import"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        isolate(tmp)
        if "store" not in args.skip:
            bench_store(tmp, args.runs, args.messages, args.branches)
        if "open" not in args.skip:
            await bench_open(tmp, args.runs, args.messages, args.branches)
        if "import" not in args.skip:
            bench_import(tmp, args.runs, args.conversations)


if __name__ == "__main__":
    asyncio.run(main())
