"""The planning half of the chat flow: the next request, sized as the server will count it.

FlowPlanner decides what a send will send (plan_next: the server's counts fetched first where
it tokenizes for us, the whole request counted exactly), summarizes first when the strategy
says so (prepare), refuses a message that can never fit before it is stored (too_long) and
learns from an overflow (learn_overflow). ChatFlow streams what it plans; the preview and the
meter plan through the same functions, so what they show is what is sent.
"""

from __future__ import annotations

import asyncio
import logging

from typing import AsyncIterator

from tui.core.accepted_window import NUMBERLESS_SHRINK, probe_size, window_holding
from tui.core.client import ClientError, ContextLengthExceeded
from tui.core.config import Settings
from tui.core.context import (
    ContextOverflow,
    RequestPlan,
    budget_for,
    is_sendable,
    plan_request,
    summary_message,
)
from tui.core.counting import ServerKnowledge
from tui.core.flow_events import ContextNotice, FlowEvent, FlowFailed
from tui.core.models import Conversation, Message, Strategy, Summary
from tui.core.server_tokens import SURELY_FITS
from tui.core.sizing import Sizer
from tui.core.store import Store
from tui.core.summarize import summarize_into
from tui.core.summary_plan import summary_budget
from tui.core.tokens import TokenCounter, counts_may_matter, text_bytes
from tui.core.windows import FALLBACK_WINDOW, WindowInfo, format_window

log = logging.getLogger(__name__)


def fingerprint(messages: list[dict[str, str]]) -> int:
    return hash(tuple((m["role"], m["content"]) for m in messages))


def _sent_texts(conversation: Conversation, history: list[Message],
                summary: Summary | None) -> list[str]:
    """Every text a request for ``conversation`` may send (for the server to count)."""
    texts = [m.content for m in history if is_sendable(m)]
    if conversation.system_prompt:
        texts.append(conversation.system_prompt)
    if summary is not None:
        texts.append(summary_message(summary)["content"])
    return texts


class FlowPlanner:
    """Plans requests for one store, token counter and server (``knowledge.client``)."""

    def __init__(self, store: Store, counter: TokenCounter, settings: Settings,
                 knowledge: ServerKnowledge) -> None:
        self.store = store
        self.counter = counter
        self.settings = settings
        self.knowledge = knowledge

    def window_info(self, conversation: Conversation) -> WindowInfo:
        """The window planned for, and where that figure came from."""
        return self.knowledge.window(conversation)

    def window_for(self, conversation: Conversation) -> int:
        return self.knowledge.window(conversation).size

    async def too_long(self, conversation: Conversation, text: str) -> FlowFailed | None:
        """A FlowFailed (kind "too_long") when ``text`` can never fit the model's window.

        Checked before anything is stored, with the system prompt and the reply's room, on
        the server's count where it gives one. Never with strategy off (the server decides)
        or when the window is only a guess.
        """
        if conversation.strategy == Strategy.OFF:
            return None
        await self.knowledge.probe_window(conversation.model)
        info = self.window_info(conversation)
        if not info.trusted and self.knowledge.runs_ollama:
            # Ollama knows its window once the model is loaded (the send loads it anyway):
            # loaded now, a message too long for it is refused before it is stored.
            await self.knowledge.settle_window(conversation.model)
            info = self.window_info(conversation)
        if not info.trusted:
            return None
        alone = ([{"role": "system", "content": conversation.system_prompt}]
                 if conversation.system_prompt else []) + [{"role": "user", "content": text}]
        budget = budget_for(info.size, conversation.max_output_tokens)
        # An estimate can read up to ~1/6 high: a message near the window is judged on
        # exact counts, the encoding loaded first if the app deferred it.
        await self._exact_if_near(conversation, [m["content"] for m in alone])
        tokenizer = await self.knowledge.exact_counts(conversation.model,
                                                      [m["content"] for m in alone])
        need = None
        if tokenizer is not None:
            quick = tokenizer.estimate_request(alone)
            if quick is not None and quick <= budget.available * SURELY_FITS:
                return None  # far from the limit: spare the server two round trips
            need = await tokenizer.count_request(alone)
        if need is None:  # the calibrated estimate, without the slack kept for planning:
            sizer = self.knowledge.sizer(conversation)  # refuse only what surely can't fit
            local = sizer.priming + sum(sizer.text_units(m["role"], m["content"])
                                        for m in alone)
            calibration = sizer.calibration
            need = (sizer.tokens(local) if sizer.exact or not calibration.learned
                    else round(calibration.fixed + calibration.ratio * local))
        if need <= budget.available:
            return None
        return FlowFailed(
            None,
            f"the message is too long: it needs about {need:,} tokens, {need - budget.available:,} "
            f"more than {conversation.model}'s {format_window(info.size)}-token window leaves "
            f"for a prompt ({budget.available:,} after {budget.reserved_output:,} for the "
            f"reply); shorten it or split it. Nothing was sent or stored.",
            "too_long", exit_code=1)

    def preview(self, conversation: Conversation, *, history: list[Message] | None = None,
                summary: Summary | None = None,
                sizer: Sizer | None = None) -> RequestPlan | None:
        """The request the next send would build, as things stand (no summarizing yet).

        Synchronous (no HTTP): counts the server gave before are reused from the store.
        None when even the newest message cannot fit (the send itself explains that). A
        caller that already loaded the history and latest summary passes them.
        """
        try:
            return self._plan(conversation, summary=summary, history=history, sizer=sizer)
        except ContextOverflow:
            return None

    # -- planning ------------------------------------------------------------------------

    def _plan(self, conversation: Conversation, strategy: Strategy | None = None,
              summary: Summary | None = None, *, use_summary: bool = True,
              history: list[Message] | None = None, margin: int = 0,
              sizer: Sizer | None = None) -> RequestPlan:
        if history is None:
            history = self.store.load_messages(conversation.id)
        if use_summary and summary is None:
            summary = self.store.latest_summary(conversation.id)
        sizer = sizer or self.knowledge.sizer(conversation)
        if sizer.tokenizer is not None:
            sizer.tokenizer.load_cached(_sent_texts(conversation, history, summary))
        info = self.window_info(conversation)
        window = info.size
        if info.source == "accepted" and not margin:
            window = self.trial_window(conversation, info) or window

        def plan_for(window: int) -> RequestPlan:
            return plan_request(
                system_prompt=conversation.system_prompt,
                history=history,
                summary=summary,
                budget=budget_for(window, conversation.max_output_tokens).with_margin(margin),
                strategy=strategy or conversation.strategy,
                counter=self.counter,
                sizer=sizer,
            )

        try:
            plan = plan_for(window)
        except ContextOverflow:
            if info.source != "accepted" or margin:
                raise
            # A size known to work, not the window: a turn too big for it alone is planned
            # as with no window known, and the server judges it.
            plan = plan_for(FALLBACK_WINDOW)
        self.store.set_token_counts(plan.recounted, self.counter.encoding_label)
        return plan

    async def plan_next(self, conversation: Conversation, *, strategy: Strategy | None = None,
                        summary: Summary | None = None, margin: int = 0,
                        history: list[Message] | None = None) -> RequestPlan:
        """The next request as it will be sent: the server's counts fetched first where it
        tokenizes for us, and the whole request counted exactly (re-planned if that shows
        it would not fit). Raises ContextOverflow like plan_request. ``history`` (the stored
        messages, oldest first) can be loaded by the caller.

        The store's reads and the counting run in a thread: a send in a 2,000-message chat
        held the event loop ~50 ms, in a 10,000-message one ~300 ms (the whole history
        read and planned three times a send), and a database another program holds locked
        could hold it for the busy timeout."""
        history, summary, texts = await asyncio.to_thread(self._stored, conversation,
                                                          history, summary)
        await self._exact_if_near(conversation, texts)
        tokenizer = await self.knowledge.exact_counts(conversation.model, texts)
        plan = await asyncio.to_thread(self._plan, conversation, strategy, summary,
                                       history=history, margin=margin)
        if tokenizer is None:
            return plan
        for _ in range(3):
            exact = await tokenizer.count_request(plan.messages)
            if exact is None:
                return plan
            self.knowledge.note_exact_total(conversation.model, plan.tokens, exact)
            plan.full_tokens += exact - plan.tokens
            plan.tokens = exact
            plan.over_budget = exact > plan.available
            if not plan.over_budget or (strategy or conversation.strategy) == Strategy.OFF:
                return plan
            plan = await asyncio.to_thread(self._plan, conversation, strategy, summary,
                                           history=history, margin=margin)
        return plan

    async def _exact_if_near(self, conversation: Conversation, texts: list[str]) -> None:
        """Load a deferred encoding before planning a request near its window. The app
        asks for it once a chat comes near (EXACT_SHARE) and typing pauses; a send right
        after a paste comes first, and waits here (~0.3 s, once a session)."""
        counter = self.counter
        if not counter.deferred:
            return
        budget = budget_for(self.window_for(conversation), conversation.max_output_tokens)
        if counts_may_matter(sum(text_bytes(text) for text in texts), budget.available):
            await counter.load_if_deferred()

    def _stored(self, conversation: Conversation, history: list[Message] | None,
                summary: Summary | None) -> tuple[list[Message], Summary | None, list[str]]:
        """The history and latest summary, each read unless the caller has it already, and
        the texts a request could send."""
        if history is None:
            history = self.store.load_messages(conversation.id)
        if summary is None:
            summary = self.store.latest_summary(conversation.id)
        return history, summary, _sent_texts(conversation, history, summary)

    async def prepare(self, conversation: Conversation,
                       margin: int) -> AsyncIterator[FlowEvent | RequestPlan]:
        """Plan the request, summarizing first when the strategy asks for it."""
        plan = await self.plan_next(conversation, margin=margin)
        if plan.to_summarize:
            model = self.settings.summary_model or conversation.model
            window = self.window_for(conversation)
            try:
                summary = await summarize_into(
                    self.store, self.knowledge.client, self.counter, conversation,
                    plan.to_summarize, plan.summary, model=model,
                    budget=summary_budget(window).with_margin(margin),
                    sizer=self.knowledge.sizer(conversation, model=model),
                    tokenizer=await self.knowledge.exact_counts(model, []),
                    # Summaries come near the window, where the encoding is in: counts
                    # are exact unless it could not load.
                    learn=lambda local, server: self.knowledge.learn_usage(
                        model, local, server, window, exact=self.counter.exact),
                )
            except ClientError as error:
                log.warning("summarizing failed; truncating instead", exc_info=True)
                yield ContextNotice(
                    "summary_failed",
                    f"could not summarize earlier messages ({error}); "
                    f"dropping the oldest ones instead",
                )
                # The request that fits without it (pieces summarized before the failure
                # are stored and used): older turns are dropped as far as needed.
                plan = await self.plan_next(conversation, margin=margin)
                plan.to_summarize = []
            else:
                yield ContextNotice(
                    "summarized",
                    f"Summarized {summary.covered_count} earlier messages into "
                    f"{summary.token_count or 0} tokens",
                    summary=summary,
                )
                plan = await self.plan_next(conversation, summary=summary, margin=margin)
        if plan.truncated:
            covered = plan.summary.covered_count if plan.summary else 0
            dropped = max(len(plan.dropped_ids) - covered, 0) or len(plan.dropped_ids)
            yield ContextNotice(
                "truncated",
                f"{dropped} earlier messages were not sent to fit the "
                f"{self.window_for(conversation):,}-token window",
                dropped_count=dropped,
            )
        yield plan

    def learn_overflow(self, conversation: Conversation, plan: RequestPlan,
                        error: ContextLengthExceeded, window: int) -> None:
        """An overflow error carries the server's count, and maybe its window: keep both."""
        if error.limit and error.limit != window:
            self.knowledge.learn_window(conversation.model, error.limit, "error")
        if error.requested:
            self.knowledge.learn_count(conversation.model, plan.local_tokens, error.requested,
                                       exact=plan.local_exact)
            sizer = self.knowledge.sizer(conversation)
            if sizer.exact:
                self.knowledge.note_exact_total(conversation.model, plan.tokens, error.requested)

    def trial_window(self, conversation: Conversation, info: WindowInfo) -> int | None:
        """A window between the size the server took and the smallest it refused,
        to try (tui.core.accepted_window); None when there is nothing to try."""
        target = probe_size(info.size, self.knowledge.refused_size(conversation.model))
        return window_holding(target, conversation.max_output_tokens) if target else None

    def margin_after_numberless(self, conversation: Conversation, plan: RequestPlan,
                                planned_margin: int, margin: int) -> int:
        """The margin to plan the retry with after ``plan`` (made with ``planned_margin``)
        was refused without a window or a count: a refused trial goes again within the
        accepted window (known to work); else well under the refused size."""
        self.knowledge.note_refused(conversation.model, plan.tokens)
        info = self.window_info(conversation)
        if info.source == "accepted" and plan.available > budget_for(
                info.size, conversation.max_output_tokens).available:
            return 1  # any margin: no trial
        return max(margin, plan.available + planned_margin
                   - int(plan.tokens * NUMBERLESS_SHRINK))

    def learn_accepted(self, conversation: Conversation, plan: RequestPlan
                       ) -> ContextNotice | None:
        """A request the server took, where the window is not known: after a refusal that
        named neither the window nor the count, or a trial above the size taken before. The
        window is at least that request ("accepted": what it refused did not fit it alone,
        so the reply's room is kept out of that as out of any window); later sends plan for it
        instead of overflowing the guess every time. The notice: when first learned."""
        info = self.window_info(conversation)
        if info.trusted:
            return None
        size = plan.tokens
        if info.source == "accepted":
            if size > info.size:
                self.knowledge.learn_window(conversation.model, size, "accepted")
            return None
        if size >= info.size:
            return None
        self.knowledge.learn_window(conversation.model, size, "accepted")
        return ContextNotice(
            "window_taken",
            f"the server did not say {conversation.model}'s window; planning for the "
            f"{format_window(size)} tokens it took, and trying more as the chat grows (to "
            f"set the window, add it under [context_windows] in the config)")

    def gave_up(self, conversation: Conversation, plan: RequestPlan) -> str:
        if len(plan.sent_ids) <= 1:
            return ("the server refuses even the newest message alone as too long for "
                    f"{conversation.model}'s window; shorten it or start a new chat")
        return ("the server refused this request as too long and it cannot be made "
                "smaller; shorten the newest message or start a new chat")
