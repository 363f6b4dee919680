"""The conversation store: one SQLite file through sqlite-utils.

CONTRACT (implemented by the store work; other layers code against exactly this):

    class StoreError(Exception)               -- base; str(e) is one clear line for the user
    class DatabaseCorrupt(StoreError)         -- not a database / malformed; file left untouched
    class DatabaseTooNew(StoreError)          -- schema newer than this program; file untouched
    class DatabaseLocked(StoreError)          -- busy timeout ran out
    class NotFound(StoreError, KeyError)      -- unknown conversation/message id or prefix
    class AmbiguousId(StoreError)             -- prefix matches several conversations

    class Store:
        def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None
            Opens (creating parent dirs and the file if missing), WAL, foreign keys on,
            busy timeout, migrates in place. Raises the errors above.
        path: Path
        schema_version: int
        def close(self) -> None

        # conversations
        def create_conversation(self, *, model: str, title: str = "", system_prompt: str = "",
                                strategy: Strategy | str = Strategy.SUMMARIZE,
                                temperature=None, top_p=None, max_output_tokens=None,
                                context_window=None) -> Conversation
        def get_conversation(self, conversation_id: str) -> Conversation      # NotFound
        def resolve_conversation(self, id_or_prefix: str) -> Conversation     # NotFound/AmbiguousId
        def latest_conversation(self, *, include_archived: bool = False) -> Conversation | None
        def list_conversations(self, *, limit: int = 50, offset: int = 0,
                               archived: bool | None = False) -> list[Conversation]
            pinned first, then most recently updated. archived=False hides archived,
            True lists only archived, None lists all.
        def count_conversations(self, *, archived: bool | None = False) -> int
        def update_conversation(self, conversation_id: str, **fields) -> Conversation
            any Conversation field but id/created; does not bump `updated`.
        def rename_conversation(self, conversation_id: str, title: str) -> Conversation
        def set_pinned(self, conversation_id: str, pinned: bool) -> Conversation
        def set_archived(self, conversation_id: str, archived: bool) -> Conversation
        def delete_conversation(self, conversation_id: str) -> None           # cascades
        def touch_conversation(self, conversation_id: str) -> None            # updated = now

        # messages (ordered by id: ULIDs, monotonic within the process)
        def append_message(self, conversation_id: str, role: Role | str, content: str, *,
                           status: MessageStatus | str = MessageStatus.COMPLETE,
                           model: str | None = None, token_count: int | None = None,
                           token_encoding: str | None = None) -> Message
            also bumps the conversation's `updated`.
        def update_message(self, message_id: str, **fields) -> None
            content, status, token_count, token_encoding, prompt_tokens,
            completion_tokens, finish_reason, error, model. Cheap: one UPDATE.
        def get_message(self, message_id: str) -> Message                     # NotFound
        def load_messages(self, conversation_id: str, *, limit: int | None = None,
                          before_id: str | None = None) -> list[Message]
            oldest first; with limit, the newest `limit` messages (older than before_id).
        def count_messages(self, conversation_id: str) -> int
        def delete_message(self, message_id: str) -> None

        # summaries
        def add_summary(self, conversation_id: str, content: str, *, first_message_id: str,
                        last_message_id: str, covered_count: int,
                        token_count: int | None = None, model: str | None = None,
                        previous_summary_id: str | None = None) -> Summary
        def latest_summary(self, conversation_id: str) -> Summary | None
        def list_summaries(self, conversation_id: str) -> list[Summary]       # oldest first

        # learned model limits (from server errors or /props)
        def set_model_window(self, model: str, context_window: int, *, source: str) -> None
        def get_model_window(self, model: str) -> int | None

        # full-text search over titles and message content (FTS5, trigger-synced)
        def search(self, query: str, *, limit: int = 50,
                   include_archived: bool = True) -> list[SearchHit]
            best first; user text is quoted so FTS syntax in it is not an error.
"""
