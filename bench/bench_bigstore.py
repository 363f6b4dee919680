"""Big-store benchmark: the installed ``gpt-tui`` in a real pseudo-terminal on a
10,000-conversation / 1,000,000-message database, as a user feels it.

The database is bench_store.py's cached one (bench/out/), with a 2,000-message conversation
as the newest: the app opens it at launch. Per run (a fresh process each time) it times:

* ``launch``  spawn until the main screen is usable: the sidebar shows the newest chats, the
              chat its last message, and a key typed into the composer has echoed;
* ``search``  Ctrl+F, a word typed key by key (``--typing`` s apart), then from its last key
              until the sidebar shows that word's hits (the first three hits' titles, in
              order, as ``Store.search`` finds them; a prefix's hits do not count);
* ``switch``  Alt+Down / Alt+Up (next / previous chat) until the other chat's last message
              is on screen, down the list and back to the long chat; and the app's CPU time
              per switch (/proc, with what each open leaves to do after its frame);
* ``first``   in the 2,000-message chat, Ctrl+O (focus the messages) then ``g`` until its
              first message is on screen; where one press does not get there (the app pages
              back 50 messages a press), ``g`` is pressed again, up to ``--first-cap`` s.

Then the median and the spread (min-max) of each over the runs. Nothing is sent to a
server (the test server only answers the model probes).

    python bench/bench_bigstore.py [--runs 5] [--size 120x40] [--rows launch,search,switch,first]
    GPT_TUI_TERMINAL_BIN=/other/venv/bin/gpt-tui python bench/bench_bigstore.py   # another build

On a shared machine, compare two builds in alternated rounds of one run each (``--start N``
keeps each round's search word): for i in 0 1 2 3 4; do A --runs 1 --start $i; B ...; done.
The first run builds the store (bench_store.py's generator, ~2 GB, a few minutes).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_store import BIG_TITLE, OUT, generate, vocabulary  # noqa: E402
from bench.bench_terminal import child_env, process_cpu, spread  # noqa: E402
from tests.fake_openai.server import FakeOpenAI  # noqa: E402
from tests.terminal.harness import Terminal, installed_gpt_tui, plain  # noqa: E402

CTRL_F, CTRL_O, CTRL_Q = b"\x06", b"\x0f", b"\x11"
ALT_DOWN, ALT_UP = b"\x1b[1;3B", b"\x1b[1;3A"
ESCAPE, BACKSPACE = b"\x1b", b"\x7f"
PLACEHOLDER = "Message…"
SIDEBAR = 33  # the sidebar's columns (32 and its border): the chat is right of them
CONVERSATIONS, MESSAGES, BIG, SEED = 10_000, 1_000_000, 2_000, 1
ROWS = ("launch", "search", "switch", "first")


def default_db() -> Path:
    """bench_store's cache of the 1M-message store with a 2,000-message chat. Named without
    the schema version: an older build must open the same file (a newer one migrates it)."""
    return OUT / f"bigstore-{CONVERSATIONS}c-{MESSAGES}m-{BIG}b-s{SEED}.db"


class Facts:
    """What the screen should show, read from the database before the app runs."""

    def __init__(self, db: Path, switches: int) -> None:
        from tui.core.store import Store

        with Store(db) as store:
            chats = store.list_conversations(limit=switches + 1)
            assert chats[0].title == BIG_TITLE, "the long chat should be the newest"
            self.titles = [c.title for c in chats]
            self.last_words = [last_words(store.load_messages(c.id, limit=1)[-1].content)
                               for c in chats]
            self.big_id = chats[0].id
            path = store.load_messages(self.big_id)
            self.big_count = len(path)
            self.first_words = " ".join(path[0].content.split()[:3])
            words = vocabulary(random.Random(SEED), 5000)
            self.searches: list[tuple[str, list[str]]] = []
            for index in (0, 3, 40, 300, 900, 2000, 4000):
                word = words[index]
                hits = store.search(word, limit=100, include_archived=True)
                self.searches.append((word, [h.conversation.title for h in hits[:3]]))


def last_words(text: str, count: int = 3) -> str:
    return " ".join(text.split()[-count:])


def chat_text(term: Terminal) -> str:
    """The chat column's text, rows joined by spaces (a wrapped line reads on)."""
    return " ".join(plain(row[SIDEBAR - 2:]) for row in term.rows())


def sidebar_rows(term: Terminal) -> list[str]:
    return [row[:SIDEBAR - 1].strip() for row in term.rows()]


def shows_titles(term: Terminal, titles: list[str]) -> bool:
    """The titles in this order in the sidebar (each cut to what a row has room for)."""
    rows = sidebar_rows(term)
    at = 0
    for title in titles:
        want = title[:20]
        while at < len(rows) and want not in rows[at]:
            at += 1
        if at == len(rows):
            return False
        at += 1
    return True


def timed(term: Terminal, key: bytes, ready, what: str, timeout: float = 60.0) -> float:
    sent = time.monotonic()
    term.send(key)
    term.wait_until(lambda _: ready(), what=what, timeout=timeout)
    return time.monotonic() - sent


def one_run(binary: Path, db: Path, facts: Facts, base_url: str, size: tuple[int, int],
            rows: set[str], args: argparse.Namespace, run: int) -> dict[str, object]:
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-bigstore-") as tmp:
        home = Path(tmp)
        term = Terminal([str(binary), "--db", str(db)], env=child_env(home, base_url),
                        cwd=home, size=size)
        try:
            term.wait_until(
                lambda _: (shows_titles(term, facts.titles[:3])
                           and facts.last_words[0] in chat_text(term)
                           and PLACEHOLDER in term.text()),
                what="the sidebar, the chat and the composer", timeout=120)
            shown = time.monotonic()
            y, x = term.find(PLACEHOLDER)  # type: ignore[misc]
            term.send("x")
            term.wait_until(lambda _: term.rows()[y][x:x + 2] == "x ", what="the echo",
                            timeout=60)
            result["launch"] = time.monotonic() - term.started
            result["launch shown"] = shown - term.started
            term.send(BACKSPACE)
            term.wait_for(PLACEHOLDER, timeout=30)
            if "switch" in rows:
                time.sleep(1.0)  # what opening the chat left to do (the meter) is done
                cpu = process_cpu(term.process.pid)
                result["switch"] = switches(term, facts, args.switches)
                time.sleep(1.0)
                if cpu is not None:
                    used = process_cpu(term.process.pid) - cpu  # type: ignore[operator]
                    result["switch cpu"] = used / len(result["switch"])  # type: ignore[arg-type]
            if "search" in rows:
                word, titles = facts.searches[run % len(facts.searches)]
                result["search"] = search(term, word, titles, facts, args.typing)
                result["search word"] = word
            if "first" in rows:  # last: paging back page by page leaves many blocks
                result["first"], result["first presses"] = first_message(term, facts, args)
            term.send(CTRL_Q)
            term.wait_exit(60)
        finally:
            term.close()
    return result


def first_message(term: Terminal, facts: Facts, args: argparse.Namespace) -> tuple[float, int]:
    """Ctrl+O, then ``g`` (again while the first message is not there) until it shows."""
    term.send(CTRL_O)  # the messages' keys in the footer: they have the focus
    term.wait_until(lambda _: "First" in term.rows()[-1], what="the messages focused",
                    timeout=30)
    started, presses = time.monotonic(), 0
    deadline = started + args.first_cap
    while time.monotonic() < deadline:
        presses += 1
        term.send(b"g")
        try:
            term.wait_until(lambda _: facts.first_words in chat_text(term),
                            what="the first message", timeout=min(1.5, deadline - time.monotonic()))
            return time.monotonic() - started, presses
        except AssertionError:
            continue
    return float("inf"), presses


def switches(term: Terminal, facts: Facts, count: int) -> list[float]:
    """Down the list ``count`` chats and back up to the long one."""
    times = []
    order = [(ALT_DOWN, i) for i in range(1, count + 1)]
    order += [(ALT_UP, i) for i in range(count - 1, -1, -1)]
    for key, index in order:
        words = facts.last_words[index]
        times.append(timed(term, key, lambda w=words: w in chat_text(term),
                           f"chat {index}'s last message"))
    return times


def search(term: Terminal, word: str, titles: list[str], facts: Facts, gap: float) -> float:
    term.send(CTRL_F)
    time.sleep(0.2)
    for char in word[:-1]:
        term.send(char)
        time.sleep(gap)
    took = timed(term, word[-1].encode(), lambda: shows_titles(term, titles),
                 f"the hits of {word!r}")
    term.send(ESCAPE)  # clear the search: the list again (at the chat of the first hit)
    term.wait_until(lambda _: term.rows()[0].startswith("Search (ctrl+f)"),
                    what="the search cleared", timeout=60)
    return took


def ensure_db(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {CONVERSATIONS:,} conversations, {MESSAGES:,} messages "
          f"(a {BIG:,}-message chat) into {path}; once, a few minutes...", flush=True)
    generate(path, CONVERSATIONS, MESSAGES, BIG, SEED)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="120x40", help="terminal COLUMNSxLINES")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated: {ROWS}")
    parser.add_argument("--db", type=Path, help="this database instead of the cached one")
    parser.add_argument("--switches", type=int, default=3,
                        help="chats down the list and back per run (default 3)")
    parser.add_argument("--typing", type=float, default=0.08,
                        help="seconds between the search word's keys (default 0.08)")
    parser.add_argument("--start", type=int, default=0,
                        help="number of the first run (picks the search words; for A/B "
                             "rounds of one run each)")
    parser.add_argument("--first-cap", type=float, default=60.0,
                        help="give up on reaching the first message after this long (s)")
    args = parser.parse_args(argv)
    rows = set(args.rows.split(","))
    size = tuple(int(n) for n in args.size.lower().split("x"))
    binary = installed_gpt_tui()
    db = args.db or default_db()
    ensure_db(db)
    facts = Facts(db, args.switches)
    runs = []
    with FakeOpenAI() as server:
        for i in range(args.runs):
            run = one_run(binary, db, facts, server.base_url, size, rows, args, args.start + i)  # type: ignore[arg-type]
            runs.append(run)
            parts = [f"launch {run['launch']:.2f} s (shown {run['launch shown']:.2f})"]
            if "first" in run:
                parts.append(f"first {run['first']:.2f} s ({run['first presses']} presses)")
            if "switch" in run:
                parts.append("switch " + " ".join(f"{t * 1000:.0f}" for t in run["switch"])
                             + " ms")
                if "switch cpu" in run:
                    parts.append(f"(cpu {run['switch cpu'] * 1000:.0f} ms a switch)")
            if "search" in run:
                parts.append(f"search {run['search'] * 1000:.0f} ms ({run['search word']})")
            print(f"run {i + 1}: " + "  ".join(parts), flush=True)
    print(f"\n{args.runs} runs, {binary}, {size[0]}x{size[1]}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; {facts.big_count:,}-message chat")
    print(f"  launch -> usable   {spread([r['launch'] for r in runs])} s   (target <= 1 s)")
    if "search" in rows:
        print(f"  search -> hits     {spread([r['search'] for r in runs], 1000, '{:.0f}')} ms"
              f"   (target <= 150 ms)")
    if "switch" in rows:
        every = [t for r in runs for t in r["switch"]]  # type: ignore[union-attr]
        print(f"  switch chats       {spread(every, 1000, '{:.0f}')} ms   (target <= 100 ms, "
              f"{len(every)} switches)")
        cpus = [r["switch cpu"] for r in runs if "switch cpu" in r]
        if cpus:
            print(f"  cpu a switch       {spread(cpus, 1000, '{:.0f}')} ms   (app process, "
                  f"/proc; less moved by other load than the wall times)")
    if "first" in rows:
        firsts = [r["first"] for r in runs]
        presses = [r["first presses"] for r in runs]
        print(f"  g -> first message {spread(firsts, 1000, '{:.0f}')} ms   (target <= 200 ms; "
              f"presses {min(presses)}-{max(presses)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
