"""Text rows of ``make bench``: each tokenizer timed against its anchor in the same run."""
from __future__ import annotations

import time

from ..bench import BenchContext, Row, timeit
from ..paths import data_dir


def text_corpus(quick: bool) -> str:
    sample = (data_dir() / "samples" / "multilingual.txt").read_text(encoding="utf-8")
    return sample * (4 if quick else 200)


def bench_text_baselines(ctx: BenchContext) -> None:
    """text/bytes and text/chars against the plainest Python that produces the same ids."""
    from .. import registry

    text = text_corpus(ctx.quick)
    mb = len(text.encode("utf-8")) / 1e6
    anchors = {
        "text/bytes": ("list(text.encode('utf-8'))", lambda: list(text.encode("utf-8"))),
        "text/chars": ("[ord(c) for c in text]", lambda: [ord(c) for c in text]),
    }
    for name, (anchor_name, anchor_fn) in anchors.items():
        tok = registry.load(name)
        t_anchor = timeit(anchor_fn, ctx.repeats)
        t_enc = timeit(lambda: tok.encode(text), ctx.repeats)
        ctx.rows.append(Row("text", f"{name} encode (ids + spans)", mb / t_enc, "MB/s", anchor_name, mb / t_anchor,
                            t_anchor / t_enc, f"{mb:.2f} MB multilingual sample"))
        seq = tok.encode(text)
        t_dec = timeit(lambda: tok.decode(seq), ctx.repeats)
        ctx.rows.append(Row("text", f"{name} decode", mb / t_dec, "MB/s", anchor_name, mb / t_anchor, t_anchor / t_dec))


def bench_tiktoken_fast_path(ctx: BenchContext) -> None:
    """tw.load("text/cl100k_base") (ids + exact spans) against raw tiktoken, single thread."""
    from .. import registry

    text = text_corpus(ctx.quick)
    docs = {
        "short docs (one line each)": text.splitlines(),
        "one long document": [text],
    }
    for vocab in ("cl100k_base", "o200k_base"):
        tok = registry.load_shared(f"text/{vocab}")
        raw = tok.encoding  # the same tiktoken Encoding, called directly
        for label, items in docs.items():
            mb = sum(len(d.encode("utf-8")) for d in items) / 1e6
            t_raw = timeit(lambda: [raw.encode_ordinary(d) for d in items], ctx.repeats)
            t_tw = timeit(lambda: [tok.encode(d) for d in items], ctx.repeats)
            ctx.rows.append(Row("text", f"text/{vocab} encode, {label}", mb / t_tw, "MB/s",
                                "tiktoken encode_ordinary", mb / t_raw, t_raw / t_tw, "target >= 0.8 (cl100k)"))


def bench_worst_case_runs(ctx: BenchContext) -> None:
    """'a' * n: one pretokenized chunk of n bytes; time should grow linearly as n doubles."""
    from .. import registry

    tok = registry.load_shared("text/cl100k_base")
    sizes = [25_000, 50_000, 100_000] + ([] if ctx.quick else [200_000])
    prev = None
    for n in sizes:
        text = "a" * n
        t0 = time.perf_counter()
        tok.encode(text)
        t = time.perf_counter() - t0
        t_raw = timeit(lambda: tok.encoding.encode_ordinary(text), 1)
        growth = f"x{t / prev:.2f} for 2x input" if prev else "first size"
        ctx.rows.append(Row("text", f'text/cl100k_base encode "a" * {n:,}', t, "s", "tiktoken encode_ordinary", t_raw,
                            t_raw / t, f"target < 0.1 s at 100,000; {growth}"))
        prev = t


BENCHES = [bench_text_baselines, bench_tiktoken_fast_path, bench_worst_case_runs]
