"""The chat flow: store the user's text, build the request, stream the reply, store the reply.

CONTRACT (other layers code against exactly this; the UI renders these events):

    # events yielded by ChatFlow.send / regenerate / retry, in order
    @dataclass class UserMessageStored:  message: Message     # in the DB before the request leaves
    @dataclass class ContextNotice:      kind: Literal["summarized", "truncated", "summary_failed",
                                                        "window_learned"]
                                         text: str             # one line for the user / stderr
                                         summary: Summary | None = None
                                         dropped_count: int = 0
    @dataclass class AssistantStarted:   message: Message     # stored with status=streaming
    @dataclass class AssistantDelta:     message_id: str; text: str
    @dataclass class RetryWait:          attempt: int; delay: float; reason: str
    @dataclass class AssistantFinished:  message: Message     # final: complete / interrupted
    @dataclass class FlowFailed:         message: Message | None   # the error-status message, if any
                                         error: str; kind: str     # "auth", "model", "rate_limit",
                                         # "server", "connect", "timeout", "context", "bad_request",
                                         # "stream_cut", "empty"
                                         exit_code: int = 1
    FlowEvent = UserMessageStored | ContextNotice | AssistantStarted | AssistantDelta
              | RetryWait | AssistantFinished | FlowFailed

    class ChatFlow:
        def __init__(self, store: Store, client: ChatClient, counter: TokenCounter,
                     settings: Settings) -> None
        def new_conversation(self, *, model: str | None = None,
                             system_prompt: str | None = None) -> Conversation
        async def send(self, conversation_id: str, text: str) -> AsyncIterator[FlowEvent]
        async def regenerate(self, conversation_id: str) -> AsyncIterator[FlowEvent]
            drops the last assistant reply and streams a new one for the same user message
        async def retry(self, conversation_id: str) -> AsyncIterator[FlowEvent]
            re-sends after a failure (the stored user message is reused, not duplicated)

    Cancelling the task that iterates a flow closes the HTTP stream, stores the partial reply
    as interrupted, and re-raises CancelledError.
"""
