"""Store benchmark: is the conversation store fast at the scale the issue promises?

Builds (once, cached under bench/out/) a database with many conversations and messages, one
of which holds a long conversation, then prints the median time of the operations a user
waits on: the first page of the conversation list, opening the long conversation (newest
page and all of it), full-text queries, appending a message and the in-place update a
streaming reply does every half second.

    python bench/bench_store.py                      # 10,000 conversations, 1,000,000 messages
    python bench/bench_store.py --conversations 1000 --messages 100000 --repeat 51
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui.core import ids  # noqa: E402
from tui.core.migrations import SCHEMA_VERSION  # noqa: E402
from tui.core.store import Store  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
BIG_TITLE = "The long conversation"
TARGETS_MS = {"fts": 100.0, "default": 50.0}


def vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pre", "dan", "tor", "el",
                 "qu", "ix", "bar", "zen", "ol", "py", "gra", "fu"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def generate(path: Path, conversations: int, messages: int, big: int, seed: int) -> None:
    """Bulk-load through the store's own schema (triggers included) in one transaction."""
    rng = random.Random(seed)
    words = vocabulary(rng, 5000)
    # Zipf-like word frequencies; cumulative weights spare random.choices a pass per call.
    cum = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    per_conversation = max(1, (messages - big) // max(1, conversations - 1))
    start_ms = int(time.time() * 1000) - 400 * 24 * 3600 * 1000
    step_ms = max(1, (300 * 24 * 3600 * 1000) // (messages + conversations))
    if path.exists():
        path.unlink()
    store = Store(path)
    conn = store.conn
    conn.execute("PRAGMA synchronous = OFF")
    clock = start_ms

    def stamp(ms: int) -> str:
        t = time.gmtime(ms / 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{ms % 1000:03d}Z"

    def rows() -> Iterator[tuple]:
        nonlocal clock
        for index in range(conversations):
            clock += step_ms
            cid = ids.new_ulid(ms=clock)
            count = big if index == conversations - 1 else per_conversation
            # Titles draw from the rarer half of the words, so searching a common word
            # measures the message index rather than stopping at 50 title hits.
            title = BIG_TITLE if count == big else " ".join(rng.sample(words[2500:], 4))
            conv_row = (cid, title.capitalize(), "gpt-4o-mini", stamp(clock))
            message_rows = []
            parent = None  # one path: each message follows the one before
            for n in range(count):
                clock += step_ms
                role = "user" if n % 2 == 0 else "assistant"
                length = rng.randint(8, 30) if role == "user" else rng.randint(30, 120)
                text = " ".join(rng.choices(words, cum_weights=cum, k=length))
                mid = ids.new_ulid(ms=clock)
                message_rows.append((mid, cid, role, text, stamp(clock), parent))
                parent = mid
            yield (*conv_row, parent), message_rows, stamp(clock)

    started = time.perf_counter()
    conn.execute("BEGIN")
    done = 0
    for conv_row, message_rows, updated in rows():
        conn.execute(
            "INSERT INTO conversations (id, title, model, created, active_leaf_id, updated) "
            "VALUES (?,?,?,?,?,?)", (*conv_row, updated))
        conn.executemany(
            "INSERT INTO messages (id, conversation_id, role, content, created, parent_id, "
            "status) VALUES (?,?,?,?,?,?,'complete')", message_rows)
        done += len(message_rows)
        if done and done % 100_000 < len(message_rows):
            print(f"  {done:,} messages ({time.perf_counter() - started:.0f} s)", flush=True)
    conn.execute("COMMIT")
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    print(f"generated in {time.perf_counter() - started:.1f} s: {path} "
          f"({path.stat().st_size / 1e6:.0f} MB)")


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm the page cache and statement cache
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def run(path: Path, repeat: int, seed: int) -> list[tuple[str, float, float]]:
    store = Store(path)
    words = vocabulary(random.Random(seed), 5000)
    big = store.conn.execute(
        "SELECT id FROM conversations WHERE title = ? LIMIT 1", (BIG_TITLE,)).fetchone()[0]
    big_count = store.count_messages(big)
    results: list[tuple[str, float, float]] = []

    def measure(name: str, fn: Callable[[], object], target: float) -> None:
        results.append((name, median_ms(fn, repeat), target))

    default, fts = TARGETS_MS["default"], TARGETS_MS["fts"]
    measure("list: first page (50)", lambda: store.list_conversations(limit=50), default)
    measure("list: first page + message counts",
            lambda: store.message_counts([c.id for c in store.list_conversations(limit=50)]),
            default)
    measure(f"open: newest 50 of {big_count:,} messages",
            lambda: store.load_messages(big, limit=50), default)
    measure(f"open: all {big_count:,} messages", lambda: store.load_messages(big), default)
    # Word frequencies follow rank: a common, a middling and a rare word, plus as-you-type.
    # A trailing space means "whole words": the ranked query alone. Without it the last
    # word is also a prefix (as-you-type), adding newest-first completions.
    for label, word in (("common", words[0]), ("frequent", words[3]),
                        ("middling", words[300]), ("rare", words[4000])):
        measure(f"search: {label} word ({word})", lambda w=word: store.search(w + " "), fts)
    measure(f"search: as-you-type, {words[3]}", lambda: store.search(words[3]), fts)
    measure(f"search: as-you-type, 3-letter prefix ({words[0][:3]})",
            lambda: store.search(words[0][:3]), fts)
    # Beyond the prefix index a prefix covering hundreds of words is slow to merge; the
    # completions give up after their time budget (ranked hits and titles still show).
    measure(f"search: as-you-type, wide 4-letter prefix ({words[0][:4]})",
            lambda: store.search(words[0][:4]), fts)
    measure("search: two words, prefix last",
            lambda: store.search(f"{words[40]} {words[900][:3]}"), fts)

    appended: list[str] = []
    measure("append one message",
            lambda: appended.append(store.append_message(big, "user", "benchmark ping").id),
            default)
    streaming = store.append_message(big, "assistant", "", status="streaming")
    appended.append(streaming.id)
    text = [""]

    def stream_update() -> None:
        text[0] += " ".join(random.choices(words, k=40)) + " "
        store.update_message(streaming.id, content=text[0])

    measure("update streaming message (grows ~300 B)", stream_update, default)
    # The last flushes of a 20k-token reply: the word index took the whole text at each one
    # until store step 17 (10.7 ms, against 0.12 ms without it).
    text[0] = " ".join(random.choices(words, k=12_000))[:80_000]
    measure("update streaming message at 80 KB (a 20k-token reply)", stream_update, default)
    # Keep the cached database as generated: the first appended message and the branch
    # below it (every later one) go.
    store.delete_message(appended[0])
    store.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="The generated database is cached under bench/out/ (keyed by size, seed and "
               "schema version) and reused; --regenerate rebuilds it. Timings are medians "
               "of warm runs; targets: 50 ms each, 100 ms for search.")
    parser.add_argument("--conversations", type=int, default=10_000,
                        help="number of conversations (default 10,000)")
    parser.add_argument("--messages", type=int, default=1_000_000,
                        help="total number of messages (default 1,000,000)")
    parser.add_argument("--big", type=int, default=1000,
                        help="messages in the long conversation that is opened (default 1000)")
    parser.add_argument("--repeat", type=int, default=21,
                        help="timed runs per operation; the median is reported (default 21)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--db", type=Path, help="use/generate this file instead of the cache")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the database")
    args = parser.parse_args(argv)

    path = args.db or OUT / (f"store-{args.conversations}c-{args.messages}m-{args.big}b-"
                             f"s{args.seed}-v{SCHEMA_VERSION}.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.regenerate or not path.exists():
        print(f"generating {args.conversations:,} conversations, {args.messages:,} messages...")
        generate(path, args.conversations, args.messages, args.big, args.seed)
    results = run(path, args.repeat, args.seed)
    width = max(len(name) for name, _, _ in results)
    print(f"\n{'operation':<{width}}  median ms  target")
    failed = 0
    for name, ms, target in results:
        ok = ms < target
        failed += not ok
        print(f"{name:<{width}}  {ms:9.2f}  < {target:.0f} {'ok' if ok else 'SLOW'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
