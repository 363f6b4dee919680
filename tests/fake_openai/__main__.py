"""Run the fake server by hand: ``python -m tests.fake_openai --port 8765 --tps 200``.

Point the app at the printed base URL to try it without a real model, or use
``--reply markdown --tokens 4000`` for a long Markdown answer (rendering benchmark).
``--tokenizer foreign --flavor llamacpp --context-window 512`` plays a small llama.cpp box:
a tokenizer that counts about twice what tiktoken does, root /tokenize, /apply-template and
/props, and llama.cpp's overflow error; ``--summary-replies short,long,cut`` makes summary
requests misbehave in turn.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from tests.fake_openai.flavors import FLAVORS, OVERFLOW_ERRORS
from tests.fake_openai.replies import markdown_reply
from tests.fake_openai.server import FakeOpenAI
from tests.fake_openai.summaries import SUMMARY_MODES
from tests.fake_openai.tokens import TOKENIZERS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_openai", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--tps", type=float, default=None,
                        help="tokens per second (default: no pacing)")
    parser.add_argument("--context-window", type=int, default=None,
                        help="enforce this window (400 context_length_exceeded beyond it)")
    parser.add_argument("--reply", choices=["echo", "markdown"], default="echo")
    parser.add_argument("--tokens", type=int, default=1500, help="length of the markdown reply")
    parser.add_argument("--reply-file", type=Path, default=None,
                        help="answer with this file's text")
    parser.add_argument("--model", action="append", default=None, dest="models",
                        help="model id to list (repeatable)")
    parser.add_argument("--n-ctx", type=int, default=None,
                        help="serve llama.cpp-style /props n_ctx")
    parser.add_argument("--api-key", default=None, help="require this key (401 otherwise)")
    parser.add_argument("--tokenizer", choices=sorted(TOKENIZERS), default="tiktoken",
                        help="how prompts are counted (foreign: a llama.cpp-like model's count)")
    parser.add_argument("--flavor", choices=FLAVORS, default="openai",
                        help="which server to play (llamacpp, vllm: their extra endpoints)")
    parser.add_argument("--overflow-error", choices=OVERFLOW_ERRORS, default=None,
                        help="the error a prompt too long gets (default: the flavor's own)")
    parser.add_argument("--window-field", default=None, metavar="NAME",
                        help="list the window in /v1/models under NAME, as a hosted API does "
                             "(context_length, context_window, max_context_length)")
    parser.add_argument("--summary-replies", default=None, metavar="MODES",
                        help=f"comma-separated, cycled over summary requests: "
                             f"{', '.join(SUMMARY_MODES)}")
    parser.add_argument("--cached-tokens", type=int, default=0, metavar="N",
                        help="prompt tokens each usage report says came from the cache")
    parser.add_argument("--no-usage", dest="sends_usage", action="store_false",
                        help="never report usage (like servers that ignore stream_options)")
    args = parser.parse_args(argv)

    reply: str | None = None
    if args.reply_file is not None:
        reply = args.reply_file.read_text(encoding="utf-8")
    elif args.reply == "markdown":
        reply = markdown_reply(args.tokens)
    server = FakeOpenAI(args.host, args.port, args.tps, models=args.models,
                        context_window=args.context_window, props_n_ctx=args.n_ctx,
                        require_api_key=args.api_key, reply=reply, tokenizer=args.tokenizer,
                        flavor=args.flavor, overflow_error=args.overflow_error,
                        summary_replies=(args.summary_replies.split(",")
                                         if args.summary_replies else None),
                        cached_tokens=args.cached_tokens, sends_usage=args.sends_usage,
                        window_field=args.window_field)
    server.start()
    print(f"fake OpenAI server listening: {server.base_url}  (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
