"""Text rows of ``make bench``: each tokenizer timed against its anchor in the same run."""
from __future__ import annotations

import time

from ..bench.harness import BenchContext, Row, timeit
from ..paths import data_dir
from .corpora import code_corpus


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


def bench_hot_path(ctx: BenchContext) -> None:
    """tw.load("text/cl100k_base") and o200k_base against raw tiktoken on held-out text: ids only
    and with spans read, long and 100-byte documents (rows named "hot path: ...")."""
    from .hot_path_bench import hot_path_rows

    ctx.rows.extend(hot_path_rows(ctx.quick, ctx.repeats))


def bench_large_input(ctx: BenchContext) -> None:
    """10 MB in one call: the fast path and the teaching encoder finish, and how fast."""
    from .. import registry
    from .bpe import ByteBPE

    size = (1 if ctx.quick else 10) * 1024 * 1024
    base = text_corpus(False)
    text = (base * (size // len(base.encode("utf-8")) + 1))[:size]
    mb = len(text.encode("utf-8")) / 1e6
    tok = registry.load_shared("text/cl100k_base")
    t_raw = timeit(lambda: tok.encoding.encode_ordinary(text), 1)
    t_tw = timeit(lambda: tok.encode(text).spans[0], 1)  # spans included
    ctx.rows.append(Row("text", f"text/cl100k_base encode {mb:.1f} MB in one call, spans read", mb / t_tw, "MB/s",
                        "tiktoken encode_ordinary", mb / t_raw, t_raw / t_tw, "a 10 MB input (bad-input case)"))
    bpe = ByteBPE.from_pretrained("cl100k_base")
    t0 = time.perf_counter()
    bpe.encode(text)
    t_bpe = time.perf_counter() - t0
    ctx.rows.append(Row("text", f"ByteBPE (teaching) encode {mb:.1f} MB in one call", mb / t_bpe, "MB/s",
                        "tiktoken encode_ordinary", mb / t_raw, t_raw / t_bpe, "a 10 MB input (bad-input case)"))


def bench_reference_libraries(ctx: BenchContext) -> None:
    """Tokenizers backed by HF tokenizers and sentencepiece against the library called directly."""
    from .. import registry
    from ..errors import AssetMissing

    text = text_corpus(ctx.quick)
    mb = len(text.encode("utf-8")) / 1e6
    cases = {
        "text/llama3": ("HF tokenizers Tokenizer.encode", lambda tok: tok.hf.encode(text, add_special_tokens=False)),
        "text/bert-base-uncased": ("HF tokenizers Tokenizer.encode", lambda tok: tok.hf.encode(text, add_special_tokens=False)),
        "text/mistral-7b": ("sentencepiece encode (ids)", lambda tok: tok.sp.encode(text)),
        "text/xlm-roberta": ("sentencepiece encode (ids)", lambda tok: tok.sp.encode(text)),
    }
    for name, (anchor, raw) in cases.items():
        try:
            tok = registry.load_shared(name)
        except AssetMissing as e:
            ctx.rows.append(Row("text", f"{name} encode", float("nan"), "MB/s", anchor, float("nan"), float("nan"), str(e)))
            continue
        t_raw = timeit(lambda: raw(tok), ctx.repeats)
        t_tw = timeit(lambda: tok.encode(text).spans[0], ctx.repeats)
        ctx.rows.append(Row("text", f"{name} encode (ids + spans)", mb / t_tw, "MB/s", anchor, mb / t_raw, t_raw / t_tw,
                            f"{mb:.2f} MB multilingual sample"))


def bench_hf_training(ctx: BenchContext) -> None:
    """tokenworks' HF training path (progress, exact size, checks) against HF tokenizers called directly."""
    from .hf_train import HFTrainConfig, _build, train_hf

    corpus = code_corpus(100_000 if ctx.quick else 1_000_000)
    cmb = len(corpus.encode("utf-8")) / 1e6
    for algo, vocab in (("bpe", 1024 if ctx.quick else 4096), ("wordpiece", 1024 if ctx.quick else 4096),
                        ("unigram", 1024 if ctx.quick else 4096)):
        config = HFTrainConfig(algo=algo, vocab_size=vocab)

        def direct() -> None:
            tok, trainer = _build(config)  # the same HF model, pretokenizer and trainer, no tokenworks around it
            tok.train_from_iterator([corpus], trainer)

        t_direct = timeit(direct, 1)
        t_tw = timeit(lambda: train_hf([corpus], config), 1)
        ctx.rows.append(Row("text", f"train_hf {algo}, {cmb:.2f} MB stdlib code, vocab {vocab}", t_tw, "s",
                            "HF tokenizers trainer called directly", t_direct, t_direct / t_tw, "same corpus and vocab"))


def bench_superbpe(ctx: BenchContext) -> None:
    from .superbpe_bench import superbpe_rows

    ctx.rows.extend(superbpe_rows(ctx.quick))


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


def bench_teaching_bpe(ctx: BenchContext) -> None:
    """The teaching ByteBPE: encoding against tiktoken; training against HF tokenizers' BPE trainer."""
    from .bpe import ByteBPE

    text = text_corpus(ctx.quick)
    mb = len(text.encode("utf-8")) / 1e6
    bpe = ByteBPE.from_pretrained("cl100k_base")
    raw = bpe.to_tiktoken()
    t_raw = timeit(lambda: raw.encode_ordinary(text), ctx.repeats)
    t_bpe = timeit(lambda: bpe.encode(text), max(1, ctx.repeats // 2))
    ctx.rows.append(Row("text", "ByteBPE (teaching) encode, cl100k_base", mb / t_bpe, "MB/s", "tiktoken encode_ordinary",
                        mb / t_raw, t_raw / t_bpe, "target: within 100x of tiktoken (ratio >= 0.01)"))

    corpus = code_corpus(100_000 if ctx.quick else 1_000_000)
    cmb = len(corpus.encode("utf-8")) / 1e6
    vocab = 1024 if ctx.quick else 4096
    t0 = time.perf_counter()
    ByteBPE.train(corpus, vocab)
    t_train = time.perf_counter() - t0
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    def hf_train() -> None:
        hf = Tokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = trainers.BpeTrainer(vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        hf.train_from_iterator([corpus], trainer=trainer)

    t0 = time.perf_counter()
    hf_train()
    t_hf = time.perf_counter() - t0
    ctx.rows.append(Row("text", f"ByteBPE.train, {cmb:.2f} MB stdlib code, vocab {vocab}", t_train, "s",
                        "HF tokenizers BpeTrainer, same corpus and vocab", t_hf, t_hf / t_train, "target: seconds, not minutes"))


def bench_udhr_metrics(ctx: BenchContext) -> None:
    """The full metric table (tokenworks.metrics.text) of one tokenizer over every complete UDHR
    language, against encoding the same texts alone."""
    from .. import registry
    from ..metrics.text import metrics_table
    from .udhr import load_udhr

    try:
        langs = load_udhr().complete()
    except Exception as e:  # noqa: BLE001 - a missing asset skips the row
        print(f"bench: skipped the UDHR metric table: {type(e).__name__}: {e}")
        return
    if ctx.quick:
        langs = langs[:20]
    slices = {lang.code: [lang.text()] for lang in langs}
    texts = [d for docs in slices.values() for d in docs]
    tok = registry.load_shared("text/o200k_base")
    metrics_table([tok], slices)  # warm-up: the once-per-tokenizer vocabulary scan is cached
    reps = max(1, ctx.repeats // 3)
    t_table = timeit(lambda: metrics_table([tok], slices), reps)
    t_enc = timeit(lambda: [tok.encode(t) for t in texts], reps)
    ctx.rows.append(Row("text", f"text/o200k_base full metric table over {len(slices)} UDHR languages",
                        t_table, "s", "encode the same texts", t_enc, t_enc / t_table,
                        "after the once-per-tokenizer unreachable-token scan (cached)"))


BENCHES = [bench_text_baselines, bench_hot_path, bench_worst_case_runs, bench_large_input,
           bench_reference_libraries, bench_teaching_bpe, bench_hf_training, bench_superbpe,
           bench_udhr_metrics]  # the Text tab's own rows: tools/app_bench.py (it drives the checkout's app/)

