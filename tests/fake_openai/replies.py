"""Canned replies: the deterministic default echo and a long Markdown demo answer.

The Markdown answer exercises everything the chat view renders (headings, nested lists, a
table, fenced code in several languages, quotes, inline code) and is sized in tokens, so it
doubles as a rendering benchmark: ``python -m tests.fake_openai --reply markdown --tokens 4000``.
"""

from __future__ import annotations

from typing import Any

from tests.fake_openai.tokens import count_text, split_tokens


def echo_reply(messages: list[dict[str, Any]]) -> str:
    """The default answer: predictable from the request, so tests can assert it."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            text = content if isinstance(content, str) else str(content)
            return f"You said: {text}"
    return "Hello! How can I help?"


def _section(n: int) -> str:
    kind = n % 5
    if kind == 0:
        return (
            f"## {n + 1}. Setting up the workspace\n\n"
            "Before anything else, make sure the **environment** is reproducible. A few points:\n\n"
            "- Pin the interpreter version in `pyproject.toml`\n"
            "- Keep secrets out of the repository\n"
            "  - use environment variables\n"
            "  - or a local `.env` file that is *ignored* by git\n"
            "- Run the test suite before every commit\n\n"
        )
    if kind == 1:
        return (
            f"## {n + 1}. A worked example\n\n"
            "Here is a small function that streams lines from a file lazily:\n\n"
            "```python\n"
            "from pathlib import Path\n"
            "from typing import Iterator\n\n\n"
            "def read_lines(path: Path) -> Iterator[str]:\n"
            '    """Yield each line without its newline."""\n'
            "    with path.open(encoding=\"utf-8\") as handle:\n"
            "        for line in handle:\n"
            "            yield line.rstrip(\"\\n\")\n"
            "```\n\n"
            "Because it is a generator, memory use stays flat however large the file is.\n\n"
        )
    if kind == 2:
        return (
            f"## {n + 1}. Comparing the options\n\n"
            "| Approach | Latency | Memory | Notes |\n"
            "| --- | ---: | ---: | --- |\n"
            "| In-process cache | 0.1 ms | high | lost on restart |\n"
            "| SQLite | 0.4 ms | low | durable, single writer |\n"
            "| Remote store | 3 ms | low | needs the network |\n\n"
            "> **Tip:** measure with production-sized data before choosing.\n\n"
        )
    if kind == 3:
        return (
            f"### {n + 1}. Shell steps\n\n"
            "1. Create the virtual environment\n"
            "2. Install the dependencies\n"
            "3. Run the checks:\n\n"
            "```bash\n"
            "python -m venv .venv\n"
            ". .venv/bin/activate\n"
            "pip install -e '.[test]'\n"
            "pytest -q\n"
            "```\n\n"
        )
    return (
        f"### {n + 1}. Discussion\n\n"
        "In practice the *simplest* design that meets the requirements tends to win: it is "
        "easier to test, easier to explain and easier to change later. When a trade-off is "
        "unavoidable, write down why, so the next reader does not have to guess. See the "
        "`README` for the conventions this project follows, and prefer small, focused "
        "functions over large ones.\n\n"
    )


def markdown_reply(tokens: int) -> str:
    """A Markdown answer of about ``tokens`` tokens (o200k_base), never cutting a code fence."""
    parts = ["# Overview\n\nThis answer walks through the topic step by step.\n\n"]
    total = count_text(parts[0])
    n = 0
    while total < tokens:
        section = _section(n)
        cost = count_text(section)
        if total + cost > tokens:
            parts.append(_trim(section, tokens - total))
            break
        parts.append(section)
        total += cost
        n += 1
    return "".join(parts).rstrip() + "\n"


def _trim(section: str, budget: int) -> str:
    """The first ``budget`` tokens of ``section``, closing a code fence left open."""
    text = "".join(split_tokens(section)[:max(budget, 0)])
    if text.count("```") % 2:
        text += "\n```\n"
    return text
