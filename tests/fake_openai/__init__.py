"""An OpenAI-compatible test server (real HTTP, background thread) and its scripting helpers."""

from tests.fake_openai.replies import echo_reply, markdown_reply
from tests.fake_openai.scripts import Script, error_body
from tests.fake_openai.server import FakeOpenAI, RecordedRequest

__all__ = ["FakeOpenAI", "RecordedRequest", "Script", "echo_reply", "error_body",
           "markdown_reply"]
