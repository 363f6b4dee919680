"""Replies being streamed, one per conversation, each in its own Textual worker.

A stream belongs to its conversation, not to the pane: switching chats leaves the worker
iterating the flow (the core keeps storing it) and the text received so far lives in its
:class:`LiveStream`, so the pane can show it again, still growing, on return.

The worker turns every core event into a Textual message (``tui.ui.flow_messages``) and posts
it to the chat view; it renders nothing itself. What the status line shows about each stream
is published as an immutable :class:`ReplyState` map through ``on_change``, which the screen
keeps in a reactive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial, singledispatchmethod

from textual.dom import DOMNode
from textual.widget import Widget
from textual.worker import Worker

from tui.core.flow_events import AssistantDelta
from tui.core.models import Message
from tui.ui import flow_messages as fm

log = logging.getLogger(__name__)

FINAL_FRAME_WAIT = 0.25
"""Longest a reply's storing waits for the frame that shows its last words (seconds)."""


@dataclass(frozen=True)
class ReplyState:
    """What the status line says about one conversation's reply."""

    state: str = "sending…"
    kind: str = "streaming"  # "streaming" or "retrying"
    # While the client waits before a retry: when it will try again, and why.
    retry_at: float | None = None
    retry_reason: str = ""

    def status_text(self) -> str:
        """A retry wait counts down to the next attempt."""
        if self.retry_at is None:
            return self.state
        left = max(0, round(self.retry_at - time.monotonic()))
        return f"{self.retry_reason}: retrying in {left}s"


@dataclass
class LiveStream:
    conversation_id: str
    # The composer text this flow sends (None for regenerate / retry): cleared once stored.
    sent_text: str | None = None
    # Sent from an unsaved chat: ``conversation_id`` is a provisional key until the core
    # stores the conversation (ConversationCreated), then the real id.
    new_chat: bool = False
    # Regenerate and retry delete stored replies first: the view reloads on the first event.
    reload_first: bool = False
    worker: Worker | None = None
    user_message: Message | None = None
    message_id: str | None = None
    parts: list[str] = field(default_factory=list)
    # Deltas not yet handed to the view (see ReplyStreams._gather): their text, the message
    # they belong to, the callback that hands them over.
    pending: list[str] = field(default_factory=list)
    pending_id: str = ""
    handover: asyncio.Handle | None = None
    reply: ReplyState = field(default_factory=ReplyState)
    # The reply is stored: the stream no longer counts, though the worker may still be
    # asking the model for a title.
    finished: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def reply_begun(self) -> bool:
        """The reply's message is stored (its request is on its way): stopped now, it stays,
        marked interrupted. Before, the app is still preparing the request (counting,
        summarizing older messages): stopped then, the user's message stands alone."""
        return self.message_id is not None

    @singledispatchmethod
    def observe(self, message: fm.FlowMessage) -> None:
        """Keep the bookkeeping current; most events change nothing here."""

    @observe.register
    def _(self, message: fm.UserMessageStored) -> None:
        self.user_message = message.message
        message.sent_text, message.new_chat = self.sent_text, self.new_chat
        self.reply = ReplyState("waiting for the model…")

    @observe.register
    def _(self, message: fm.ReplyStarted) -> None:
        self.message_id, self.parts = message.message.id, []
        self.reply = ReplyState("streaming…")

    @observe.register
    def _(self, message: fm.ReplyRetrying) -> None:
        self.reply = ReplyState(self.reply.state, "retrying",
                                time.monotonic() + message.delay, message.reason)

    @observe.register
    def _(self, message: fm.StoreWaiting) -> None:
        # Short: the status line shares its row with the model and the meter.
        self.reply = ReplyState("database locked…")

    @observe.register
    def _(self, message: fm.ReplyFinished) -> None:
        self.finished = True

    @observe.register
    def _(self, message: fm.ReplyFailed) -> None:
        self.finished = True

    @observe.register
    def _(self, message: fm.ContextNoted) -> None:
        if message.kind in ("window_learned", "overflow_retry"):
            # The core deleted the reply that hit the limit: the view drops it too.
            message.replaced_message_id, self.message_id = self.message_id, None

    def cancel(self) -> None:
        if self.worker is not None and not self.worker.is_finished:
            self.worker.cancel()


class ReplyStreams:
    """conversation id -> its running stream; workers run on ``owner``, messages go to
    ``target()``; ``on_change`` gets the new state map whenever a stream's state changes."""

    def __init__(self, owner: DOMNode, target: Callable[[], Widget],
                 on_change: Callable[[dict[str, ReplyState]], None]) -> None:
        self._owner = owner
        self._target = target
        self._on_change = on_change
        self._live: dict[str, LiveStream] = {}
        self._workers: dict[str, Worker] = {}

    # -- a read-only mapping view (tests and callers ask "is cid streaming?") -------------

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._live

    def __iter__(self) -> Iterator[str]:
        return iter(self._live)

    def __len__(self) -> int:
        return len(self._live)

    def get(self, conversation_id: str | None) -> LiveStream | None:
        return self._live.get(conversation_id) if conversation_id else None

    def values(self) -> list[LiveStream]:
        return list(self._live.values())

    def states(self) -> dict[str, ReplyState]:
        return {cid: live.reply for cid, live in self._live.items()}

    # -- running -----------------------------------------------------------------------

    def start(self, conversation_id: str, events: AsyncIterator[object], *,
              sent_text: str | None = None, reload_first: bool = False,
              new_chat: bool = False) -> LiveStream:
        """``new_chat``: ``conversation_id`` is a provisional key (see :meth:`_rekey`)."""
        live = LiveStream(conversation_id, sent_text=sent_text, reload_first=reload_first,
                          new_chat=new_chat)
        self._live[conversation_id] = live
        live.worker = self._owner.run_worker(partial(self._run, live, events),
                                             group=f"flow-{conversation_id}",
                                             exit_on_error=False)
        self._workers[conversation_id] = live.worker
        self._publish()
        return live

    async def stop(self, conversation_id: str) -> None:
        """Cancel and wait until the core has stored the partial reply (before a delete)."""
        worker = self._workers.get(conversation_id)
        if worker is None:
            return
        if not worker.is_finished:
            worker.cancel()
        try:
            await worker.wait()
        except Exception:  # cancelled or failed: either way it is over
            log.debug("stream of %s ended with an error", conversation_id, exc_info=True)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(cid) for cid in list(self._workers)))

    def _rekey(self, live: LiveStream, conversation_id: str) -> None:
        """A new chat got its id: the stream is known by it from now on."""
        old = live.conversation_id
        if self._live.get(old) is live:
            del self._live[old]
            self._live[conversation_id] = live
        if self._workers.get(old) is live.worker:
            del self._workers[old]
            self._workers[conversation_id] = live.worker  # type: ignore[assignment]
        live.conversation_id = conversation_id

    def _publish(self) -> None:
        self._on_change(self.states())

    def _gather(self, live: LiveStream, delta: AssistantDelta) -> None:
        """The per-token path. A socket read brings several events (the client gathers
        them), and each comes out of the flow as a delta of its own, all in this turn of the
        event loop: the view gets their text as one, right after this turn (``call_soon``),
        not a message and an update each (at 200 tok/s ~4 a read; app CPU while streaming
        0.117 -> 0.112 cores, interleaved runs in a pty).

        Handed to the view directly, not through its queue: queued, each token waited for
        the view's message loop (measured with bench/bench_app.py: the last words showed
        hundreds of ms late). Not through observe(): a singledispatchmethod builds a bound
        wrapper per call."""
        if live.pending and live.pending_id != delta.message_id:
            self._hand_over(live)
        live.parts.append(delta.text)
        live.pending.append(delta.text)
        live.pending_id = delta.message_id
        if live.handover is None:
            live.handover = asyncio.get_running_loop().call_soon(self._hand_over, live)

    def _hand_over(self, live: LiveStream) -> None:
        """Give the view the text gathered so far; every other event waits for this."""
        if live.handover is not None:
            live.handover.cancel()
            live.handover = None
        if not live.pending:
            return
        text = live.pending[0] if len(live.pending) == 1 else "".join(live.pending)
        live.pending.clear()
        self._target().post_delta(fm.ReplyDelta(live.conversation_id, live.pending_id, text))

    def _post(self, live: LiveStream, message: fm.FlowMessage) -> None:
        self._hand_over(live)
        if isinstance(message, fm.ReplyTextEnded):  # handed over at once, as deltas are
            self._target().post_text_ended(message)
            return
        before = live.reply
        live.observe(message)
        self._target().post_message(message)
        if live.finished and self._live.get(live.conversation_id) is live:
            del self._live[live.conversation_id]
            self._publish()
        elif live.reply != before:
            self._publish()

    async def _painted(self, message: fm.ReplyTextEnded) -> None:
        """Until the screen has painted the reply's whole text (at most FINAL_FRAME_WAIT).

        The core stores the reply after its text ends (counting its tokens, indexing it for
        search: tens of ms for a long reply), on this event loop; holding it back this one
        frame lets the last words show first, so they follow the server's last byte within a
        frame however long the reply is."""
        target = self._target()
        if not target.is_attached:
            return
        try:
            await asyncio.wait_for(target.text_shown(message.message_id), FINAL_FRAME_WAIT)
        except asyncio.TimeoutError:
            log.debug("no refresh within %s s of a reply's end", FINAL_FRAME_WAIT)

    @staticmethod
    def _unfinished(live: LiveStream) -> tuple[str, str] | None:
        """(message id, text so far) of a reply the stream leaves before it was stored."""
        if live.message_id is None or live.finished:
            return None
        return live.message_id, live.text

    async def _run(self, live: LiveStream, events: AsyncIterator[object]) -> None:
        cid = live.conversation_id
        ended = fm.FlowEnded(cid)
        try:
            async for event in events:
                if type(event) is AssistantDelta:
                    self._gather(live, event)
                    continue
                message = fm.to_message(cid, event)
                if isinstance(message, fm.ConversationCreated):
                    self._rekey(live, message.conversation_id)
                    cid = message.conversation_id
                    ended = fm.FlowEnded(cid)
                self._post(live, message)
                if isinstance(message, fm.ReplyTextEnded):
                    await self._painted(message)
        except asyncio.CancelledError:
            ended = fm.FlowEnded(cid, cancelled_reply=self._unfinished(live))
            raise
        except Exception as error:  # a store or programming error: show it, keep going
            log.exception("reply stream of %s failed", cid)
            # The reply on screen is closed too: left streaming, it kept its blank rows
            # below the text (stream_runway) and its streaming look for good.
            ended = fm.FlowEnded(cid, crash=str(error) or type(error).__name__,
                                 cancelled_reply=self._unfinished(live))
        finally:
            self._hand_over(live)
            if self._live.get(cid) is live:
                del self._live[cid]
            if self._workers.get(cid) is live.worker:
                del self._workers[cid]
            self._target().post_message(ended)
            self._publish()
