"""``tokenworks lm``: language models from the command line.

    tokenworks lm score [--model lm/smollm2-135m] TEXT            bits per byte, tokens, the costliest tokens
    tokenworks lm transplant --tokenizer text/cl100k_base --method fvt --out runs/lm/smollm2-cl100k-fvt
                                                                  the pre-flight report, then the checkpoint
    tokenworks lm tournament --preset cpu --out runs/tournament   tiny models trained with every tokenizer at
                                                                  equal FLOPs: leaderboard.csv / .json / .png

The transplant's options are the fields of ``TransplantConfig`` (a field is declared once).
"""
from __future__ import annotations

import argparse

from ..errors import TokenworksError


def _score(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="tokenworks lm score", description="Score a text with a language model.")
    ap.add_argument("text", help="the text to score")
    ap.add_argument("--model", default="lm/smollm2-135m", help="a model name, .gguf file or transplant checkpoint")
    a = ap.parse_args(argv)
    from .load import load_lm

    lm = load_lm(a.model)
    r = lm.score(a.text)
    print(f"{lm.name}: {len(r.logprobs)} tokens, {r.n_bytes} bytes, {r.total_bits:.1f} bits, "
          f"{r.bits_per_byte:.4f} bits per byte")
    for i in r.surprisal.argsort()[::-1][:5]:
        print(f"  {lm.tokenizer.render_token(int(r.tokens.ids[i]))!r:>20}  {r.surprisal[i]:6.2f} bits")
    return 0


def _transplant(argv: list[str]) -> int:
    from ..train.config_cli import add_config_options, given_options
    from .new_embeddings import METHODS
    from .transplant import TransplantConfig, save, transplant

    ap = argparse.ArgumentParser(prog="tokenworks lm transplant",
                                 description="Give a model a new tokenizer and save it as a checkpoint.")
    fields = add_config_options(ap, TransplantConfig, choices={"method": METHODS})
    ap.add_argument("--out", required=True, help="the checkpoint folder to write (runs/lm/<name> is loadable by name)")
    a = ap.parse_args(argv)
    cfg = TransplantConfig(**given_options(a, fields))
    from .load import load_lm

    t = transplant(load_lm(cfg.model), cfg.tokenizer, cfg.method, cfg.seed)
    p = t.preflight
    print(f"pre-flight: {p.new_tokenizer} on {cfg.model}: {p.shared:,} tokens shared, {p.new:,} new "
          f"({p.new_share:.1%}); new tokens cover {p.heldout_new_share:.1%} of held-out bytes; "
          f"{p.heldout_tokens_base:,} -> {p.heldout_tokens_new:,} tokens on held-out prose; ids out of range: "
          f"{p.out_of_range}; bytes no base token holds: {p.unrepresented_bytes}")
    for name, what in p.special.items():
        print(f"  special {name}: {what}")
    for n, a_cut, b_cut in p.numbers:
        print(f"  {n!r}: {' '.join(a_cut)}  ->  {' '.join(b_cut)}")
    folder = save(t, a.out)
    print(f"wrote {folder} ({t.seconds:.1f} s)")
    return 0


def _tournament(argv: list[str]) -> int:
    from ..train.config_cli import add_config_options, given_options
    from .tiny.contestants import CONTESTANTS
    from .tiny.train_config import PRESETS
    from .tiny.tournament import TournamentConfig, run_tournament

    ap = argparse.ArgumentParser(prog="tokenworks lm tournament",
                                 description="Train a tiny model with every tokenizer at equal FLOPs; write the leaderboard.")
    fields = add_config_options(ap, TournamentConfig, choices={"preset": sorted(PRESETS)},
                                more_help={"contestants": f"({', '.join(CONTESTANTS)})"}, metavars={"out": "FOLDER"})
    a = ap.parse_args(argv)
    board = run_tournament(TournamentConfig(**given_options(a, fields)))
    for r in board.rows:
        print(f"{r.corpus:13s} {r.rank:2d}. {r.contestant:12s} {r.bits_per_byte:.4f} ± {r.spread:.4f} bits/byte, "
              f"{1 / r.tokens_per_byte:.2f} bytes/token, {r.train_flops:.3g} FLOPs")
    return 0


COMMANDS = {"score": _score, "transplant": _transplant, "tournament": _tournament}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        raise TokenworksError(f"tokenworks lm takes one of: {', '.join(COMMANDS)} (see tokenworks lm <command> --help)")
    return COMMANDS[argv[0]](argv[1:])
