"""A chat flow on a test server, for the tests of what a kind of server does (Ollama, LM
Studio): the real client over HTTP, a store in the test's folder, tiktoken loaded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.fake_openai import FakeOpenAI
from tui.core.chat import ChatFlow
from tui.core.client import ChatClient
from tui.core.config import Settings
from tui.core.store import Store
from tui.core.tokens import TokenCounter

SEND_TIMEOUT = 60.0  # a send that loops (splitting a summary forever, say) fails, not hangs


@asynccontextmanager
async def flow_on(server: FakeOpenAI, tmp_path: Path, model: str) -> AsyncIterator[ChatFlow]:
    counter = TokenCounter("gpt-4o")
    assert counter.load_blocking()
    store = Store(tmp_path / "chat.db")
    client = ChatClient(base_url=server.base_url, api_key=None, timeout=5)
    try:
        yield ChatFlow(store, client, counter, Settings(model=model, base_url=server.base_url))
    finally:
        await client.aclose()
        store.close()


async def send(flow: ChatFlow, conversation_id: str, text: str) -> list[object]:
    """Every event of one send."""
    async def collect() -> list[object]:
        return [event async for event in flow.send(conversation_id, text)]
    return await asyncio.wait_for(collect(), SEND_TIMEOUT)
