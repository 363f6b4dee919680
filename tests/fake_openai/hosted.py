"""How hosted OpenAI-compatible APIs refuse a prompt over the window (the test server's
``overflow_error`` styles beyond OpenAI's, llama.cpp's and LM Studio's), in each API's own
words and body shape, as their users report them:

- anthropic: ``prompt is too long: N tokens > M maximum`` (its OpenAI endpoint and proxies);
- gemini: ``The input token count (N) exceeds the maximum number of tokens allowed (M).``,
  the body a list of one error (its OpenAI endpoint);
- xai: ``This model's maximum prompt length is M but the request contains N tokens.``, the
  error a string beside a code;
- mistral: ``Prompt contains N tokens and 0 draft tokens, too large for model with M maximum
  context length``, the message at the top of the body;
- tgi (Text Generation Inference: Hugging Face endpoints, Together): HTTP 422, ``Input
  validation error: `inputs` tokens + `max_new_tokens` must be <= M. Given: N `inputs`
  tokens and K `max_new_tokens```;
- openrouter: ``This endpoint's maximum context length is M tokens. However, you requested
  about T tokens (N of text input, K in the output).``;
- moonshot: ``Your request exceeded model token limit: M (requested: N)``;
- bedrock (behind an OpenAI-compatible gateway): ``Input is too long for requested model.``,
  no numbers at all.
"""

from __future__ import annotations

from typing import Any

HOSTED_OVERFLOWS = ("anthropic", "gemini", "xai", "mistral", "tgi", "openrouter", "moonshot",
                    "bedrock")


def overflow_response(style: str, prompt: int, max_out: int, window: int) -> tuple[int, Any]:
    """(HTTP status, JSON body) of ``style``'s refusal of a ``prompt``-token request."""
    if style == "anthropic":
        return 400, {"type": "error", "error": {
            "type": "invalid_request_error",
            "message": f"prompt is too long: {prompt} tokens > {window} maximum"}}
    if style == "gemini":
        return 400, [{"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": (
            f"The input token count ({prompt}) exceeds the maximum number of tokens allowed "
            f"({window}).")}}]
    if style == "xai":
        return 400, {"code": "Client specified an invalid argument", "error": (
            f"This model's maximum prompt length is {window} but the request contains "
            f"{prompt} tokens.")}
    if style == "mistral":
        return 400, {"object": "error", "type": "invalid_request_message_error", "param": None,
                     "code": None, "message": (
                         f"Prompt contains {prompt} tokens and 0 draft tokens, too large for "
                         f"model with {window} maximum context length")}
    if style == "tgi":
        return 422, {"error_type": "validation", "error": (
            f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= {window}. "
            f"Given: {prompt} `inputs` tokens and {max_out} `max_new_tokens`")}
    if style == "openrouter":
        return 400, {"error": {"code": 400, "message": (
            f"This endpoint's maximum context length is {window} tokens. However, you "
            f"requested about {prompt + max_out} tokens ({prompt} of text input, {max_out} in "
            "the output). Please reduce the length of either one, or use the \"middle-out\" "
            "transform to compress your prompt automatically.")}}
    if style == "moonshot":
        return 400, {"error": {"type": "invalid_request_error", "message": (
            f"Your request exceeded model token limit: {window} (requested: {prompt})")}}
    if style == "bedrock":
        return 400, {"error": {"type": "invalid_request_error", "code": None,
                               "message": "Input is too long for requested model."}}
    raise ValueError(f"unknown hosted overflow style {style!r}")
