"""Snapshot of the conversation tree's pager: a regenerated answer shown as ‹ 2/3 ›."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.test_app_support import make_services, wait_until
from tests.test_ui_snapshots import ready, settle, snapshot
from tui.core import tree
from tui.core.models import Role


def test_an_answer_with_three_versions_shows_its_pager(snap_compare, tmp_path):
    services = make_services(tmp_path, "http://127.0.0.1:9/v1")
    store = services.store
    conversation = store.create_conversation(model="gpt-4o-mini", title="Three answers")
    question = store.append_message(conversation.id, Role.USER, "Name a prime number.")
    answers = [store.append_message(conversation.id, Role.ASSISTANT, text,
                                    model="gpt-4o-mini", parent_id=question.id)
               for text in ("2 is the only even prime.", "7 is prime.", "97 is prime.")]
    tree.select_message(store, answers[1].id)
    store.update_conversation(conversation.id, updated="2026-03-02T11:00:00.000Z")

    async def focus_the_answer(pilot: Pilot) -> None:
        await ready(pilot)
        pane = pilot.app.main.pane
        await wait_until(pilot, lambda: pane.block(answers[1].id) is not None,
                         what="the answer")
        pane.block(answers[1].id).focus()
        await settle(pilot)

    assert snapshot(snap_compare, services, run_before=focus_the_answer)
