"""Drafts: the unsent text (table ``drafts``) and images (``draft_images``) of each
conversation's composer, so nothing typed is lost when the app closes or the user moves on.

Keyed by conversation id; the new chat, which has no row yet, by NEW_CHAT_DRAFT.
"""

from __future__ import annotations

from tui.core.attachments import ImageFile
from tui.core.models import utc_now
from tui.core.store_attachments import draft_images, set_draft_images
from tui.core.store_base import StoreBase, _guarded, _reading

# The drafts key of the new chat that has no row yet.
NEW_CHAT_DRAFT = ""


class DraftStore(StoreBase):
    """The Store's drafts (see the module docstring)."""

    @staticmethod
    def _draft_key(conversation_id: str | None) -> str:
        return conversation_id or NEW_CHAT_DRAFT

    @_reading
    def get_draft(self, conversation_id: str | None) -> str:
        """The unsent text of a conversation (None: of the new chat), "" when there is none."""
        row = self.conn.execute("SELECT text FROM drafts WHERE conversation_id = ?",
                                (self._draft_key(conversation_id),)).fetchone()
        return "" if row is None else str(row[0])

    @_guarded
    def set_draft(self, conversation_id: str | None, text: str) -> None:
        """Keep ``text`` as the draft; blank text clears it (nothing worth keeping), with
        its images."""
        key = self._draft_key(conversation_id)
        if not text.strip():
            with self._write() as conn:
                conn.execute("DELETE FROM drafts WHERE conversation_id = ?", (key,))
                conn.execute("DELETE FROM draft_images WHERE conversation_id = ?", (key,))
            return
        self.conn.execute(
            "INSERT INTO drafts (conversation_id, text, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text, "
            "updated = excluded.updated", (key, text, utc_now()))

    def clear_draft(self, conversation_id: str | None) -> None:
        self.set_draft(conversation_id, "")

    @_reading
    def get_draft_images(self, conversation_id: str | None) -> dict[str, ImageFile]:
        """The images attached to the draft, by chip label."""
        return draft_images(self.conn, self._draft_key(conversation_id))

    @_guarded
    def set_draft_images(self, conversation_id: str | None,
                         images: dict[str, ImageFile]) -> None:
        """The draft's images become ``images`` (chip label -> image)."""
        with self._write() as conn:
            set_draft_images(conn, self._draft_key(conversation_id), images)
