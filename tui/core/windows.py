"""Context window sizes: which figure applies to a model, and what servers say when it's exceeded.

The built-in table only covers OpenAI's own models; every other server (Ollama, llama.cpp,
vLLM...) runs whatever the user loaded, with a window only its configuration knows. So a
figure from the conversation, the user's config or the server itself beats the table, and an
unknown model falls back to a small window: summarizing a little early is cheaper than a
request the server refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_RESERVED_OUTPUT = 4096

# Used when nothing else is known: the smallest window any current chat model ships with
# (gpt-4, Llama 3 8B); Ollama's own default context (num_ctx) is smaller still, 2048-4096
# depending on version, so users of local servers will want an override.
FALLBACK_WINDOW = 8192

# Total context window (input + output) in tokens, from the model pages of OpenAI's docs,
# https://platform.openai.com/docs/models/<name>. Matched by longest prefix at a "-" boundary,
# so dated snapshots (gpt-4o-2024-08-06) take their family's figure.
DEFAULT_WINDOWS: dict[str, int] = {
    # platform.openai.com/docs/models/gpt-5, /gpt-5-mini, /gpt-5-nano: 400,000
    "gpt-5": 400_000,
    "gpt-5-mini": 400_000,
    "gpt-5-nano": 400_000,
    # platform.openai.com/docs/models/gpt-4.1, /gpt-4.1-mini, /gpt-4.1-nano: 1,047,576
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    # platform.openai.com/docs/models/gpt-4o, /gpt-4o-mini, /chatgpt-4o-latest: 128,000
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "chatgpt-4o-latest": 128_000,
    # platform.openai.com/docs/models/o1: 200,000; /o1-mini and /o1-preview: 128,000
    "o1": 200_000,
    "o1-mini": 128_000,
    "o1-preview": 128_000,
    # platform.openai.com/docs/models/o3, /o3-mini, /o4-mini: 200,000
    "o3": 200_000,
    "o3-mini": 200_000,
    "o4-mini": 200_000,
    # platform.openai.com/docs/models/gpt-4-turbo: 128,000 (and its -preview snapshots)
    "gpt-4-turbo": 128_000,
    "gpt-4-1106-preview": 128_000,
    "gpt-4-0125-preview": 128_000,
    # platform.openai.com/docs/models/gpt-4: 8,192; gpt-4-32k: 32,768
    "gpt-4": 8_192,
    "gpt-4-32k": 32_768,
    # platform.openai.com/docs/models/gpt-3.5-turbo: 16,385
    "gpt-3.5-turbo": 16_385,
}

_SEPARATORS = ("-", ":", "@")


def normalize_model_name(model: str) -> str:
    """Case-fold and strip what providers add around a model name.

    ``openai/gpt-4o`` (OpenRouter) -> ``gpt-4o``; ``ft:gpt-4o-mini-2024-07-18:org::id``
    (fine-tune) -> ``gpt-4o-mini-2024-07-18:org::id``.
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    if name.startswith("ft:"):
        name = name[3:]
    return name


def lookup_prefix(model: str, table: dict[str, int]) -> int | None:
    """The value for ``model``'s longest matching key: exact, or key followed by a separator."""
    name = normalize_model_name(model)
    best: tuple[int, int] | None = None
    for key, value in table.items():
        key_n = normalize_model_name(key)
        if name == key_n or (name.startswith(key_n) and name[len(key_n)] in _SEPARATORS):
            if best is None or len(key_n) > best[0]:
                best = (len(key_n), value)
    return None if best is None else best[1]


def _positive(value: int | None) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


@dataclass(frozen=True)
class WindowInfo:
    """A window and where it came from, so the user can tell a fact from a guess.

    ``source``: "conversation" (set on the chat), "config" ([context_windows]), "server"
    (the server said so: /props, max_model_len), "error" (learned from an overflow error),
    "accepted" (what the server took after refusing more without saying its window: the
    real one may be larger), "table" (OpenAI's published figure) or "guess" (nothing known:
    FALLBACK_WINDOW).
    """

    size: int
    source: str

    @property
    def trusted(self) -> bool:
        """Known to be the window: enough to refuse a message that can never fit. A guess is
        not, nor a size merely known to work ("accepted")."""
        return self.source not in ("guess", "accepted")


def window_info(model: str, *, overrides: dict[str, int] | None = None,
                learned: int | None = None, learned_source: str = "server",
                conversation: int | None = None) -> WindowInfo:
    """The window to plan for: conversation > overrides (config) > learned (server) > table.

    ``overrides`` keys match like the table (``"llama3.1"`` covers ``"llama3.1:8b"``).
    Non-positive figures are ignored. Unknown models get FALLBACK_WINDOW.
    """
    if (value := _positive(conversation)) is not None:
        return WindowInfo(value, "conversation")
    if overrides and (value := _positive(lookup_prefix(model, overrides))) is not None:
        return WindowInfo(value, "config")
    if (value := _positive(learned)) is not None:
        return WindowInfo(value, learned_source if learned_source == "accepted"
                          else "error" if "error" in learned_source else "server")
    if (value := lookup_prefix(model, DEFAULT_WINDOWS)) is not None:
        return WindowInfo(value, "table")
    return WindowInfo(FALLBACK_WINDOW, "guess")


def context_window_for(model: str, *, overrides: dict[str, int] | None = None,
                       learned: int | None = None, conversation: int | None = None) -> int:
    """window_info's size alone."""
    return window_info(model, overrides=overrides, learned=learned,
                       conversation=conversation).size


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_window_size(value: int | str) -> int | None:
    """A window as people write it: 8192, "8192", "8k" (8,192), "128k" (131,072), "1m".

    ``k`` is 1,024 and ``m`` 1,048,576 (models' windows are powers of two: Llama's "8k" is
    8,192). None for anything else, zero or negative.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    match = _SIZE.match(str(value).replace(",", "").replace("_", ""))
    if not match:
        return None
    number = float(match.group(1))
    scale = {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]
    size = int(number * scale)
    return size if size > 0 else None


def format_window(size: int) -> str:
    """A window as people say it: 4096 -> "4k", 128000 -> "128k", 1047576 -> "1M"."""
    for suffix, units in (("M", (1_000_000, 1_048_576)), ("k", (1000, 1024))):
        if size < units[0]:
            continue
        for unit in units:
            if size % unit == 0:
                return f"{size // unit}{suffix}"
        for unit in units:
            amount = size / unit
            if abs(amount - round(amount)) <= 0.01 * amount:
                return f"{round(amount)}{suffix}"
        return f"{size / units[0]:.1f}{suffix}"
    return str(size)


_NUMBER = r"(\d[\d,_]*)"
_LIMIT_PATTERNS = [
    # OpenAI and vLLM: "This model's maximum context length is 128000 tokens."
    re.compile(r"maximum context length is " + _NUMBER + r" tokens", re.I),
    # OpenAI (newer): "Input tokens exceed the configured limit of 272000 tokens."
    re.compile(r"limit of " + _NUMBER + r" tokens", re.I),
    # llama.cpp: "request (5000 tokens) exceeds the available context size (4096 tokens)"
    re.compile(r"available context size \(" + _NUMBER + r" tokens\)", re.I),
    # llama.cpp JSON error body: "n_ctx": 4096
    re.compile(r"\"?n_ctx\"?\s*[:=]\s*" + _NUMBER, re.I),
    # generic: "context window of 4096 tokens", "context length of 4096", "the configured
    # context size is 131,072 tokens"
    re.compile(r"context (?:window|length|size) (?:is |of )" + _NUMBER, re.I),
    # Anthropic: "prompt is too long: 213462 tokens > 200000 maximum"
    re.compile(r"> ?" + _NUMBER + r" maximum", re.I),
    # Gemini: "The input token count (1300000) exceeds the maximum number of tokens allowed
    # (1048575)." (also without the parentheses)
    re.compile(r"maximum number of tokens allowed \(?" + _NUMBER, re.I),
    # xAI: "This model's maximum prompt length is 131072 but the request contains 537812 tokens."
    re.compile(r"maximum prompt length is " + _NUMBER, re.I),
    # Mistral: "Prompt contains 40000 tokens and 0 draft tokens, too large for model with
    # 32768 maximum context length"
    re.compile(r"model with " + _NUMBER + r" maximum context length", re.I),
    # Moonshot (Kimi): "Your request exceeded model token limit: 262144 (requested: 300000)"
    re.compile(r"model token limit: " + _NUMBER, re.I),
    # Text Generation Inference (Hugging Face, Together): "Input validation error: `inputs`
    # tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 500
    # `max_new_tokens`", or "`inputs` must have less than 4096 tokens. Given: 5000"
    re.compile(r"max_new_tokens`? must be <= " + _NUMBER, re.I),
    re.compile(r"must have less than " + _NUMBER + r" tokens", re.I),
    # "Input length (265330) exceeds model's maximum context length (262144)."; SGLang: "The
    # input (5000 tokens) is longer than the model's context length (4096 tokens)."
    re.compile(r"maximum context length \(" + _NUMBER, re.I),
    re.compile(r"context length \(" + _NUMBER + r" tokens\)", re.I),
]
_REQUESTED_PATTERNS = [
    # vLLM: "... you requested 5000 tokens (4000 in the messages, 1000 in the completion)":
    # the prompt's part is what the window check is about.
    re.compile(_NUMBER + r" in the messages", re.I),
    # OpenRouter: "...you requested about 10234 tokens (234 of text input, 10000 in the
    # output)": the prompt's part, as with vLLM.
    re.compile(_NUMBER + r" of text input", re.I),
    # OpenAI: "However, your messages resulted in 130000 tokens."
    re.compile(r"resulted in " + _NUMBER + r" tokens", re.I),
    # vLLM: "However, you requested 5000 tokens (4000 in the messages, 1000 in the completion)."
    re.compile(r"you requested " + _NUMBER + r" tokens", re.I),
    # vLLM (newer): "However, your request has 5000 input tokens."
    re.compile(r"request has " + _NUMBER + r" (?:input )?tokens", re.I),
    # llama.cpp: "request (5000 tokens) exceeds ..."
    re.compile(r"request \(" + _NUMBER + r" tokens\)", re.I),
    # llama.cpp JSON error body: "n_prompt_tokens": 5000
    re.compile(r"\"?n_prompt_tokens\"?\s*[:=]\s*" + _NUMBER, re.I),
    # LM Studio: "... greater than the context length (n_keep: 10247 >= n_ctx: 4096)"
    re.compile(r"n_keep:\s*" + _NUMBER, re.I),
    # Anthropic: "prompt is too long: 213462 tokens > 200000 maximum"
    re.compile(r"prompt is too long: " + _NUMBER, re.I),
    # Gemini: "The input token count (1300000) exceeds ..."
    re.compile(r"input token count \(" + _NUMBER, re.I),
    # xAI: "... but the request contains 537812 tokens."; Mistral: "Prompt contains 40000
    # tokens and 0 draft tokens, ..."; "Prompt has 300,000 tokens, but the configured ..."
    re.compile(r"(?:request|prompt) (?:contains|has) " + _NUMBER + r" tokens", re.I),
    # Moonshot (Kimi): "(requested: 300000)"
    re.compile(r"\(requested: " + _NUMBER, re.I),
    # Text Generation Inference: "Given: 4000 `inputs` tokens ...", "Given: 5000"
    re.compile(r"Given: " + _NUMBER, re.I),
    # "Input length (265330) exceeds ..."; SGLang: "The input (5000 tokens) is longer ..."
    re.compile(r"input length \(" + _NUMBER, re.I),
    re.compile(r"input \(" + _NUMBER + r" tokens\)", re.I),
    # OpenRouter without the split: the whole request, output reserve included
    re.compile(r"you requested about " + _NUMBER + r" tokens", re.I),
]


def _first_number(patterns: list[re.Pattern[str]], text: str) -> int | None:
    for pattern in patterns:
        if match := pattern.search(text):
            return int(re.sub(r"[,_]", "", match.group(1)))
    return None


def parse_context_error(message: str) -> tuple[int | None, int | None]:
    """(limit, requested) from a server's "context too long" error; None for what's missing.

    ``requested`` is what the server counted for the prompt (vLLM's messages part when it
    gives one, else its total).
    """
    return _first_number(_LIMIT_PATTERNS, message), _first_number(_REQUESTED_PATTERNS, message)

