"""The model client: Chat Completions over the official ``openai`` SDK's ``AsyncOpenAI``.

CONTRACT (implemented by the client work; other layers code against exactly this):

    # events yielded by ChatClient.stream_chat, in order
    @dataclass class TextDelta:  text: str
    @dataclass class Finished:   reason: str | None        # "stop", "length", "content_filter", ...
    @dataclass class UsageReport: prompt_tokens: int; completion_tokens: int
    @dataclass class Retrying:   attempt: int; delay: float; reason: str   # "rate limited (429)", ...
    StreamEvent = TextDelta | Finished | UsageReport | Retrying

    # errors: all subclass ClientError; str(e) is a clear, specific one-line message
    class ClientError(Exception):     message: str; exit_code: int = 1
    class AuthError(ClientError)                        # 401 / 403
    class ModelNotFound(ClientError): model: str; available: list[str]   # 404
    class RateLimited(ClientError): retry_after: float | None            # 429 after retries
    class ServerError(ClientError): status: int                          # 5xx after retries
    class ConnectFailed(ClientError): base_url: str     # "cannot reach http://...: is the server running?"
    class RequestTimeout(ClientError)
    class StreamCut(ClientError)                        # connection lost mid-stream
    class ContextLengthExceeded(ClientError): limit: int | None; requested: int | None
    class BadRequest(ClientError): status: int

    @dataclass class ModelInfo: id: str; context_window: int | None = None; owned_by: str | None = None

    @dataclass class RequestParams:
        temperature: float | None = None
        top_p: float | None = None
        max_output_tokens: int | None = None

    def is_reasoning_model(model: str) -> bool          # o1/o3/o4*, gpt-5*

    class ChatClient:
        def __init__(self, *, base_url: str | None, api_key: str | None,
                     timeout: float = 60.0, max_retries: int = 3,
                     backoff_base: float = 0.5, backoff_max: float = 20.0) -> None
            base_url None -> https://api.openai.com/v1. No key for a non-OpenAI host: sends a
            placeholder. The SDK's own retries are off (max_retries=0 on AsyncOpenAI); this
            class does its own so it can report Retrying events.
        base_url: str
        async def stream_chat(self, model: str, messages: list[dict[str, str]],
                              params: RequestParams | None = None) -> AsyncIterator[StreamEvent]
            stream=True, stream_options={"include_usage": True}. Reasoning models get
            max_completion_tokens and no temperature/top_p. A 400 naming an unsupported
            parameter: retry once without it and remember for this client. Retries 429
            (Retry-After, jitter) and 5xx with bounded backoff before the first delta only.
            Cancelling the consuming task closes the HTTP stream promptly.
        async def complete(self, model: str, messages: list[dict[str, str]],
                           params: RequestParams | None = None) -> str
            non-streaming; used for summaries and titles. Same errors.
        async def list_models(self) -> list[ModelInfo]
        async def server_context_window(self, model: str) -> int | None
            vLLM /v1/models max_model_len, llama.cpp /props n_ctx; None when unknown.
        async def aclose(self) -> None
"""
