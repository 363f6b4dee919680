"""A tokenizer that is not tiktoken's, and the ChatML chat template llama.cpp models use.

Real local servers count with their model's own vocabulary: a small Llama or Qwen model
counts English at about twice what o200k_base does, and not in proportion (digits, long
words and punctuation cost more than short common words). A client that plans with tiktoken
and a fixed ratio is then wrong in both directions. This rule reproduces that, cheaply and
deterministically:

- a word (letters, with at most one leading space or newline) costs one token per 3
  characters, that character included (" the" = 2, " a" = 1, " conversation" = 5, "the" = 1,
  "\nthe" = 2), so, as with a real BPE vocabulary, a text costs more or less than its parts
  do apart: the tokens of each message plus a fixed overhead are not the prompt's count;
- every digit is a token; every other character (punctuation, symbols) is a token;
- any other run of whitespace is one token;
- the special tokens ``<|endoftext|>``, ``<|im_start|>`` and ``<|im_end|>`` are one token each
  (ids 0, 1, 2) when special tokens are parsed.

A chat request costs exactly the tokens of its ChatML rendering: per message
``<|im_start|>{role}\\n{content}<|im_end|>\\n``, then ``<|im_start|>assistant\\n``. So tokenizing
what ``/apply-template`` returns gives the prompt count the server bills, as on llama.cpp.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

SPECIAL_TOKENS = {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2}
VOCAB_SIZE = 32000
WORD_CHARS_PER_TOKEN = 3
GENERATION_PROMPT = "<|im_start|>assistant\n"

_SPECIALS = re.compile("(" + "|".join(re.escape(s) for s in SPECIAL_TOKENS) + ")")
# Order matters: a word takes one leading space or newline; a lone digit; a whitespace run;
# any other character.
_PIECE = re.compile(r"[ \n]?[^\W\d_]+|\d|\s+|.", re.S)


def _word_chunks(piece: str) -> list[str]:
    if len(piece) <= WORD_CHARS_PER_TOKEN or not piece.strip().isalpha():
        return [piece]
    step = WORD_CHARS_PER_TOKEN
    return [piece[i:i + step] for i in range(0, len(piece), step)]


def _plain_pieces(text: str) -> list[str]:
    out: list[str] = []
    for match in _PIECE.finditer(text):
        out.extend(_word_chunks(match.group()))
    return out


def pieces(text: str, *, parse_special: bool = False) -> list[str]:
    """``text`` as token strings that concatenate back to it exactly."""
    if not text:
        return []
    if not parse_special:
        return _plain_pieces(text)
    out: list[str] = []
    for part in _SPECIALS.split(text):
        if part in SPECIAL_TOKENS:
            out.append(part)
        elif part:
            out.extend(_plain_pieces(part))
    return out


def piece_id(piece: str, *, special: bool = False) -> int:
    """A stable id for a piece; the specials keep their fixed ids."""
    if special and piece in SPECIAL_TOKENS:
        return SPECIAL_TOKENS[piece]
    return len(SPECIAL_TOKENS) + zlib.crc32(piece.encode("utf-8")) % VOCAB_SIZE


def encode(text: str, *, parse_special: bool = True) -> list[tuple[int, str]]:
    """(id, piece) for each token of ``text``."""
    return [(piece_id(p, special=parse_special), p)
            for p in pieces(text, parse_special=parse_special)]


def count_text(text: str) -> int:
    return len(pieces(text))


def content_text(value: Any) -> str:
    """A message's content as the template sees it: text parts joined, None as empty."""
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value
                       if isinstance(p, dict) and p.get("type", "text") == "text")
    return "" if value is None else str(value)


def render_chatml(messages: list[dict[str, Any]], *, add_generation_prompt: bool = True) -> str:
    """The prompt text the server builds from chat messages."""
    out = [f"<|im_start|>{m.get('role', '')}\n{content_text(m.get('content'))}<|im_end|>\n"
           for m in messages]
    if add_generation_prompt:
        out.append(GENERATION_PROMPT)
    return "".join(out)


def count_messages(messages: list[dict[str, Any]]) -> int:
    """Prompt tokens of a chat request: the tokens of its ChatML rendering."""
    return len(pieces(render_chatml(messages), parse_special=True))
