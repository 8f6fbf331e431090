"""Sample texts the protocol tests run every text tokenizer on: data, not a test module
(``from tests.text_samples import SAMPLES``). Not a fixture, because tests are parametrized over
them when they are collected."""
from __future__ import annotations

import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SAMPLES = [
    "",
    "hello world",
    "héllo wörld",
    "Tokenizers turn text into numbers: 世界, 👋🏽, 👨‍👩‍👧‍👦!",
    "مرحبا بالعالم",  # right-to-left
    "e\u0301\u0302 combining marks",
    "a" * 300,
    "tabs\tand\nnewlines\r\n",
    "def f(x):\n    return x ** 2  # code\n",
]


ADVERSARIAL = [
    "a" * 5000, " " * 1000, "\n" * 500, "\t \r\n" * 100, "1234567890" * 50,
    "👨‍👩‍👧‍👦👩🏽‍💻🏳️‍🌈", "e\u0301\u0302\u0303 a\u0308", "漢字かなカナ한국어", "مرحبا بالعالم שלום עולם",
    "<|endoftext|> <|fim_prefix|>", "don't I'LL we've", "\u200b\u200d\ufeff", "x\x00y\x7f",
]


def differential_corpus() -> list[str]:
    """What every differential test compares ids on: the multilingual sample, stdlib code, adversarial strings."""
    lines = (ROOT / "data" / "samples" / "multilingual.txt").read_text(encoding="utf-8").splitlines()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    code = [(stdlib / f).read_text(encoding="utf-8")[:5000] for f in ("json/decoder.py", "textwrap.py", "heapq.py")]
    return lines + ["\n".join(lines)] + code + ADVERSARIAL
