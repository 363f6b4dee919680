"""Wiring: build the store, client, token counter and chat flow from settings.

CONTRACT (the lead implements it once the store, client and context modules land):

    @dataclass class Services:
        settings: Settings; store: Store; client: ChatClient; counter: TokenCounter
        flow: ChatFlow
        def meter_for(self, conversation: Conversation) -> ContextMeter   # ready to read
        async def aclose(self) -> None
        def close(self) -> None                                           # store only

    def open_services(*, db_path: str | Path | None = None,
                      flags: Mapping[str, Any] | None = None,
                      load_encoding: bool = True) -> Services
        flags: model, base_url, api_key (None = not given). Raises ConfigError / StoreError.
        Starts loading the tiktoken encoding in the background.

    def needs_setup(settings: Settings) -> bool
        True when there is no API key and no base URL: the app shows the set-up panel.
"""
