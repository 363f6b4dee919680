"""``gpt-tui list``: --limit, output written page by page, and a reader that goes away."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from tui import cli, listing_commands
from tui.core.store import Store

ROOT = Path(__file__).resolve().parents[1]


def gpt(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GPT_TUI_DB": str(db), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)


def fill(db: Path, count: int) -> tuple[list[str], list[str]]:
    """``count`` conversations (one archived, one with a message); the ids as listed
    without and with --all."""
    with Store(db) as store:
        ids = [store.create_conversation(model=f"model-{i % 3}", title=f"chat {i}").id
               for i in range(count)]
        store.append_message(ids[0], "user", "hello")
        store.set_archived(ids[-1], True)
        return ([c.id for c in store.list_conversations(limit=count)],
                [c.id for c in store.list_conversations(limit=count, archived=None)])


def test_limit_keeps_the_first_n_in_listing_order(tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    active, everything = fill(db, 6)
    rows = gpt(db, "list", "--limit", "2").stdout.splitlines()
    assert rows[0].startswith("ID") and len(rows) == 3
    shown = [row.split()[0] for row in rows[1:]]
    assert [cid[:len(short)] for cid, short in zip(active[:2], shown)] == shown
    records = json.loads(gpt(db, "list", "--json", "--all", "--limit", "3").stdout)
    assert [r["id"] for r in records] == everything[:3]


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_bad_limit_is_one_line_and_exit_2(tmp_path: Path, value: str) -> None:
    db = tmp_path / "chats.db"
    fill(db, 2)
    result = gpt(db, "list", "--limit", value)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--limit" in result.stderr


def test_json_written_in_pieces_is_what_json_dumps_writes(tmp_path: Path,
                                                          monkeypatch) -> None:
    db = tmp_path / "chats.db"
    fill(db, 7)
    monkeypatch.setattr(listing_commands, "LIST_PAGE", 3)  # several pages
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["list", "--json", "--all", "--db", str(db)]) == 0
    records = json.loads(out.getvalue())
    assert len(records) == 7 and sum(r["message_count"] for r in records) == 1
    assert out.getvalue() == json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    with redirect_stdout(out):
        cli.main(["list", "--json", "--db", str(tmp_path / "none.db")])
    assert out.getvalue() == "[]\n"


class ClosedAfter(io.StringIO):
    """A stdout whose reader leaves after ``lines`` lines (as ``head`` does)."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if self.left <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.left -= text.count("\n")
        return super().write(text)


@pytest.mark.parametrize("as_json", [False, True])
def test_a_closed_output_stops_the_listing_at_the_first_page(tmp_path: Path, monkeypatch,
                                                             as_json: bool) -> None:
    db = tmp_path / "chats.db"
    fill(db, 25)
    monkeypatch.setattr(listing_commands, "LIST_PAGE", 5)
    pages: list[int] = []
    real = Store.list_conversations

    def counted(self, **kwargs):
        pages.append(kwargs["limit"])
        return real(self, **kwargs)

    monkeypatch.setattr(Store, "list_conversations", counted)
    out = ClosedAfter(2)
    with redirect_stdout(out):
        code = cli.main(["list", "--db", str(db), *(["--json"] if as_json else [])])
    assert code == 0
    assert len(pages) == 1  # not all 5 pages read before writing


def test_short_ids_are_the_shortest_unique_prefixes() -> None:
    import random

    rng = random.Random(7)
    alphabet = "0123456789AB"
    ids = sorted({"01J" + "".join(rng.choice(alphabet[:3] if i < 8 else alphabet)
                                  for i in range(rng.randint(9, 14))) for _ in range(400)})
    short = listing_commands._short_ids(ids)
    for cid in ids:
        length = max(listing_commands.SHORT_ID, min(len(cid), len(short[cid])))
        # Unique at that length, and (beyond SHORT_ID) not unique one shorter.
        assert short[cid] == cid[:length]
        assert [other for other in ids if other.startswith(short[cid])] == [cid] or \
            len(short[cid]) == len(cid)
        if length > listing_commands.SHORT_ID:
            assert len([o for o in ids if o.startswith(cid[:length - 1])]) > 1


def test_a_reader_that_leaves_early_ends_the_real_process_quietly(tmp_path: Path) -> None:
    """``gpt-tui list | head -1`` as a shell runs it: the process (console script's quick
    exit included) gets EPIPE, says nothing and exits 0."""
    db = tmp_path / "chats.db"
    fill(db, 3000)  # more than a pipe holds
    env = {**os.environ, "GPT_TUI_DB": str(db), "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-m", "tui", "list"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                          cwd=ROOT) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read()
        status = process.wait(timeout=60)
    assert first.strip()
    assert status == 0
    assert errors == b""
