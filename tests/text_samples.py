"""Sample texts the protocol tests run every text tokenizer on (a helper module, not a test module:
``from text_samples import SAMPLES``; tests/ is on sys.path through the rootdir conftest).

Not in conftest.py: with tests/app/conftest.py beside it, ``from conftest import ...`` may find the
other conftest (pytest imports both under the name ``conftest``)."""
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
