"""The JSON shapes OpenAI's Chat Completions API answers: chunks, usage, whole completions.

Kept apart from the HTTP plumbing so the exact field layout (which clients parse strictly) is
in one readable place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CREATED = 1_700_000_000


@dataclass
class Reply:
    id: str
    model: str
    pieces: list[str]
    finish: str
    prompt_tokens: int
    cached_tokens: int = 0

    def usage(self) -> dict[str, Any]:
        completion = len(self.pieces)
        cached = min(self.cached_tokens, self.prompt_tokens)
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0,
                                              "rejected_prediction_tokens": 0}}

    def _envelope(self, obj: str) -> dict[str, Any]:
        return {"id": self.id, "object": obj, "created": CREATED, "model": self.model,
                "service_tier": "default", "system_fingerprint": "fp_fake"}

    def chunk(self, delta: dict[str, Any], finish: str | None,
              include_usage: bool) -> dict[str, Any]:
        out = self._envelope("chat.completion.chunk")
        out["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if include_usage:
            out["usage"] = None
        return out

    def usage_chunk(self) -> dict[str, Any]:
        out = self._envelope("chat.completion.chunk")
        out["choices"] = []
        out["usage"] = self.usage()
        return out

    def completion(self) -> dict[str, Any]:
        out = self._envelope("chat.completion")
        message = {"role": "assistant", "content": "".join(self.pieces), "refusal": None,
                   "annotations": []}
        out["choices"] = [{"index": 0, "message": message, "logprobs": None,
                           "finish_reason": self.finish}]
        out["usage"] = self.usage()
        return out
