"""The SDK's ``openai.types`` packages run their ``__init__`` on first need (sdk_import).

Each check runs in a fresh interpreter: in the test process the SDK may already be imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_client_is_built_without_the_types_it_never_uses() -> None:
    out = run("""
        import sys
        from tui.core.client import ChatClient
        client = ChatClient(base_url="http://127.0.0.1:9/v1", api_key="sk-test")
        client.warm()
        print(sum(name.startswith("openai.types") for name in sys.modules))
        print("openai.types.batch" in sys.modules, "openai.types.evals" in sys.modules,
              "openai.types.chat.chat_completion" in sys.modules)
    """)
    count, flags = out.splitlines()
    assert flags == "False False True"  # only what the chat resource imports
    assert int(count) < 300  # ~600 with every package's __init__ run


def test_names_read_from_a_deferred_package_are_all_there() -> None:
    out = run("""
        import sys
        from tui.core.client import import_sdk
        import_sdk()
        import openai
        from openai.types.chat import ChatCompletion, ChatCompletionChunk
        from openai.types import Batch, chat_model
        print(openai.types.Batch is Batch, ChatCompletion.__name__, chat_model.__name__)
        print("openai.types.batch" in sys.modules)
        try:
            openai.types.no_such_name
        except AttributeError as error:
            print("AttributeError", "no_such_name" in str(error))
        parsed = ChatCompletion.model_validate({
            "id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hi"}}]})
        print(parsed.choices[0].message.content)
    """)
    assert out.splitlines() == [
        "True ChatCompletion openai.types.chat_model", "True", "AttributeError True", "hi"]


def test_an_sdk_imported_before_is_left_alone() -> None:
    out = run("""
        import sys
        import openai
        from tui.core.sdk_import import _FINDER, defer_types_package
        defer_types_package()
        print(_FINDER in sys.meta_path, "openai.types.batch" in sys.modules)
    """)
    assert out == "False True"
