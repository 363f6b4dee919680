"""Context window management: what the next request sends, and whether it must shrink.

CONTRACT (implemented by the context work; other layers code against exactly this).

tui/core/tokens.py:
    MESSAGE_OVERHEAD = 3; NAME_OVERHEAD = 1; REPLY_PRIMING = 3
    def encoding_name_for_model(model: str) -> str   # tiktoken.encoding_for_model, o200k_base fallback
    class TokenCounter:
        def __init__(self, model: str = "gpt-4o") -> None   # does NOT load the encoding
        def start_loading(self) -> None      # background thread; safe to call twice
        def load_blocking(self) -> bool      # load now; False when it cannot be loaded
        exact: bool                          # True once the encoding is loaded
        encoding_label: str                  # encoding name, or "estimate"
        def count_text(self, text: str) -> int          # exact, or an estimate when not loaded
        def count_message(self, role: str, content: str, name: str | None = None) -> int
            content tokens + MESSAGE_OVERHEAD (+ NAME_OVERHEAD); role tokens per OpenAI's rule
    class DraftCounter:                       # incremental count of the text being typed
        def __init__(self, counter: TokenCounter) -> None
        def update(self, text: str) -> int    # cost ~ proportional to the edited part

tui/core/windows.py:
    DEFAULT_WINDOWS: dict[str, int]           # built-in table, prefix matched, figures cited
    DEFAULT_RESERVED_OUTPUT = 4096
    def context_window_for(model: str, *, overrides: dict[str, int] | None = None,
                           learned: int | None = None, conversation: int | None = None) -> int
        conversation > overrides (config) > learned (server) > table > 8192 fallback
    def parse_context_error(message: str) -> tuple[int | None, int | None]
        (limit, requested) from OpenAI / vLLM / llama.cpp "context length" messages

tui/core/context.py (this module):
    @dataclass class Budget:
        window: int; reserved_output: int; safety_margin: int
        @property available -> int       # window - reserved_output - safety_margin
    def budget_for(window: int, max_output_tokens: int | None) -> Budget

    @dataclass class RequestPlan:
        messages: list[dict[str, str]]   # what to send, system first
        tokens: int                      # local count of it (+ REPLY_PRIMING), corrected
        sent_ids: list[str]              # stored message ids included verbatim
        dropped_ids: list[str]           # older message ids not sent (covered by summary or truncated)
        summary: Summary | None          # summary used, if any
        truncated: bool                  # some messages dropped without a summary covering them
        to_summarize: list[Message]      # non-empty: strategy=summarize wants these folded in first

    class ContextOverflow(Exception)     # newest message alone can't fit, or strategy=off overflows;
                                         # str(e) gives the numbers (tokens, window)

    def plan_request(*, system_prompt: str, history: list[Message], summary: Summary | None,
                     budget: Budget, strategy: Strategy, counter: TokenCounter,
                     correction: float = 0.0, trigger: float = 0.8, target: float = 0.5
                     ) -> RequestPlan
        `history` = every stored message of the conversation, oldest first, the newest user
        message last; error messages are never sent. Uses each Message.token_count when its
        token_encoding matches counter.encoding_label, else counts it. Keeps the system
        prompt and the newest user message; preserves order; whole turns only.

    def summary_prompt(messages: list[Message], previous: Summary | None) -> list[dict[str, str]]
    def plan_summary_chunks(messages: list[Message], budget: Budget, counter) -> list[list[Message]]

tui/core/meter.py:
    @dataclass class MeterReading:
        tokens: int; window: int; reserved_output: int; estimated: bool
        action: Literal["none", "summarize", "truncate", "refuse"]
        @property fraction -> float
    class ContextMeter:
        def __init__(self, counter: TokenCounter) -> None
        def set_conversation(self, *, system_prompt, history, summary, budget, strategy,
                             correction=0.0) -> None    # counts history once
        def append(self, message: Message) -> None      # incremental
        def reading(self, draft: str = "") -> MeterReading   # cheap per keystroke
"""
