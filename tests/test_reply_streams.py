"""The worker's per-token path (tui/ui/reply_streams.py): the deltas of one socket read,
each its own event out of the flow, reach the view as one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from textual.app import App, ComposeResult
from textual.widgets import Static

from tui.core.flow_events import AssistantDelta
from tui.ui import flow_messages as fm
from tui.ui.reply_streams import LiveStream, ReplyStreams


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("host")


class View:
    """The chat view's side of the worker: what it was handed, in order."""

    is_attached = True

    def __init__(self) -> None:
        self.got: list[str] = []

    def post_delta(self, message: fm.ReplyDelta) -> None:
        self.got.append(f"{message.message_id}:{message.text}")

    def post_message(self, message: fm.FlowMessage) -> bool:
        self.got.append(type(message).__name__)
        return True


async def streamed(events: AsyncIterator[object],
                   stop_when: asyncio.Event | None = None) -> tuple[View, LiveStream]:
    """Run ``events`` through a worker to its end (or, once ``stop_when`` is set, stop it as
    Esc does); what the view was handed."""
    view = View()
    app = Host()
    async with app.run_test():
        streams = ReplyStreams(app.screen, lambda: view, lambda states: None)  # type: ignore
        live = streams.start("c1", events)
        if stop_when is None:
            assert live.worker is not None
            await live.worker.wait()
        else:
            await stop_when.wait()
            await streams.stop("c1")
    return view, live


async def test_the_deltas_of_one_turn_reach_the_view_as_one() -> None:
    async def events() -> AsyncIterator[object]:
        for word in ("Three ", "words ", "at once"):  # one read's events: no wait between
            yield AssistantDelta("m1", word)
        await asyncio.sleep(0.01)  # the next read
        yield AssistantDelta("m1", ", then one")
        yield AssistantDelta("m2", "another reply")  # never merged across replies
        await asyncio.sleep(0.01)

    view, live = await streamed(events())
    assert view.got == ["m1:Three words at once", "m1:, then one", "m2:another reply",
                        "FlowEnded"]
    assert live.text == "Three words at once, then oneanother reply"


async def test_text_gathered_when_the_stream_is_stopped_still_reaches_the_view() -> None:
    """Stopped (Esc) right after a read, its text is handed over before the stream's end:
    the view shows what the core stores as the interrupted reply."""
    release = asyncio.Event()

    async def events() -> AsyncIterator[object]:
        yield AssistantDelta("m1", "partial ")
        yield AssistantDelta("m1", "words")
        release.set()
        await asyncio.sleep(30)

    view, _ = await streamed(events(), stop_when=release)
    assert view.got[0] == "m1:partial words"
    assert view.got[-1] == "FlowEnded"
