"""A draft counted by the server while the user pauses (ServerTokenizer.count_draft): kept in
memory only, a few at a time, and handed to the store by the send without asking again."""

from __future__ import annotations

from tests.fake_openai import FakeOpenAI
from tests.test_app_support import make_services
from tui.core import server_tokens
from tui.core.server_tokens import digest

MODEL = "tiny-llama"


def tokenize_calls(server: FakeOpenAI, text: str) -> int:
    return len([r for r in server.requests
                if r.path == "/tokenize" and (r.body or {}).get("content") == text])


async def test_drafts_are_counted_once_kept_in_memory_and_stored_with_the_send(tmp_path):
    with FakeOpenAI(tokenizer="foreign", flavor="llamacpp", context_window=512,
                    models=[MODEL]) as server:
        services = make_services(tmp_path, server.base_url, model=MODEL)
        try:
            tokenizer = services.flow.knowledge.tokenizer(MODEL)
            assert await tokenizer.probe()
            draft = "rivers flow to the sea " * 10
            assert await tokenizer.count_draft(draft)
            assert not await tokenizer.count_draft(draft)  # known: not asked again
            assert tokenize_calls(server, draft) == 1
            assert tokenizer.known(draft) == server.tokenizer.count_text(draft)
            assert services.store.cached_token_counts(tokenizer.key, [digest(draft)]) == {}
            # The send's counting takes it as it is and stores it.
            await tokenizer.count_texts([draft, "and one more"])
            assert tokenize_calls(server, draft) == 1
            assert tokenize_calls(server, "and one more") == 1
            stored = services.store.cached_token_counts(tokenizer.key, [digest(draft)])
            assert stored == {digest(draft): server.tokenizer.count_text(draft)}
            # Only the newest few drafts are kept.
            for i in range(server_tokens.DRAFTS_KEPT + 2):
                await tokenizer.count_draft(f"draft number {i}")
            assert tokenizer.known("draft number 0") is None
            assert tokenizer.known(f"draft number {server_tokens.DRAFTS_KEPT + 1}") is not None
        finally:
            await services.aclose()
