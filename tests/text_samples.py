"""Sample texts the protocol tests run every text tokenizer on: data, not a test module
(``from tests.text_samples import SAMPLES``). Not a fixture, because tests are parametrized over
them when they are collected."""
from __future__ import annotations

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
