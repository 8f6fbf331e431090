"""The ``tokenworks`` command.

    tokenworks app [--host H] [--port P]          serve the Gradio app (127.0.0.1:7860)
    tokenworks assets list|fetch|verify|path      offline vocabularies, models and data
    tokenworks tokenize NAME TEXT [--json]        print the tokens of TEXT (or --file F)
    tokenworks list [--modality M]                registered tokenizers
    tokenworks bench [--out reports] [--only audio]   write reports/bench.json and bench.md (text, image, audio)
    tokenworks train text --algo A --vocab V --corpus C   train a text tokenizer (or --preset P)
    tokenworks train image|audio [options]        a registered training run (python -m tokenworks.train)
    tokenworks train list|show|stop|resume|delete the run registry
    tokenworks eval parity --tokenizers A,B --out parity.csv   token premium across UDHR languages
    tokenworks lm score TEXT | lm transplant --tokenizer T --method M --out DIR   language models

Errors print one clear line on stderr and exit 1 (2 for usage errors); never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import TokenworksError


def _cmd_app(argv: list[str]) -> int:
    from .paths import project_root

    root = project_root()
    if root is None or not (root / "app" / "main.py").is_file():
        raise TokenworksError("the app lives in the app/ folder of a tokenworks checkout; run `make app` from a clone")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from app.main import main as app_main

    return app_main(argv)


def _cmd_lm(argv: list[str]) -> int:
    from .lm.cli import main as lm_main

    return lm_main(argv)


def _cmd_assets(argv: list[str]) -> int:
    from . import assets

    return assets.main(argv)


def _cmd_tokenize(argv: list[str]) -> int:
    from . import registry
    from .text.pieces import token_pieces

    ap = argparse.ArgumentParser(prog="tokenworks tokenize", description="Print the tokens of a text.")
    ap.add_argument("name", help="tokenizer name, e.g. text/bytes (tokenworks list shows them all), or a checkpoint folder")
    ap.add_argument("text", nargs="?", help="the text to tokenize (or use --file)")
    ap.add_argument("--file", type=Path, help="read the input from this file (as bytes)")
    ap.add_argument("--json", action="store_true", help="print the TokenSeq as JSON")
    args = ap.parse_args(argv)
    if (args.text is None) == (args.file is None):
        ap.error("give either TEXT or --file FILE")
    if Path(args.name).is_dir():  # a checkpoint folder the user typed (a trained run)
        tok = registry.load_checkpoint_tokenizer(args.name, allow_outside=True)
    else:
        tok = registry.load(args.name)
    if tok.modality != "text":
        raise TokenworksError(f"{tok.name} is a {tok.modality} tokenizer; `tokenworks tokenize` prints text tokens")
    if args.file is not None:
        try:
            source: str | bytes = args.file.read_bytes()
        except OSError as e:
            raise TokenworksError(f"cannot read {args.file}: {e.strerror}") from e
    else:
        source = args.text
    seq = tok.encode(source)
    if args.json:
        print(seq.to_json())
        return 0
    print(f"{tok.name}: {len(seq)} tokens" + ("" if seq.lossless else " (lossy: " + str(seq.meta.get("note")) + ")"))
    print(f"{'#':>5}  {'id':>8}  {'chars':>11}  {'bytes':>11}  token")
    for p in token_pieces(seq, source):
        print(f"{p.index:>5}  {p.id:>8}  {f'{p.char_start}-{p.char_end}':>11}  {f'{p.byte_start}-{p.byte_end}':>11}  {p.text}")
    return 0


def _cmd_list(argv: list[str]) -> int:
    from . import registry

    ap = argparse.ArgumentParser(prog="tokenworks list", description="List registered tokenizers.")
    ap.add_argument("--modality", choices=["text", "image", "audio"])
    args = ap.parse_args(argv)
    for name in registry.available(args.modality):
        print(f"{name:<28} {registry.describe(name).description}")
    return 0


def _cmd_bench(argv: list[str]) -> int:
    from .bench.runner import main as bench_main

    return bench_main(argv)


def _cmd_train(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: tokenworks train text|image|audio [options]   (tokenworks train image --help)\n"
              "       tokenworks train list|show|stop|resume|delete ...")
        return 0 if argv else 2
    if argv[0] == "text":
        return _train_text(argv[1:])
    from .train.__main__ import main as train_main  # image | audio runs, and the run registry

    return train_main(argv)


def _train_text(argv: list[str]) -> int:
    from .text.train import add_arguments, request_from_args, train_text

    ap = add_arguments(argparse.ArgumentParser(
        prog="tokenworks train text", description="Train a text tokenizer on an offline corpus; save it as a run."))
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    req = request_from_args(args)
    res = train_text(req, progress=None if args.quiet else (lambda m: print(m, flush=True)))
    h = res.heldout
    print(f"{res.tokenizer.name}: vocab {res.tokenizer.vocab_size:,}, trained on {res.train_bytes:,} bytes in "
          f"{res.seconds:.1f} s; held out: {h.tokens:,} tokens for {h.bytes:,} bytes = {h.bytes_per_token:.3f} "
          f"bytes/token, {h.lossless_docs:.0%} of documents round-trip exactly")
    print(f"load it with tw.load_checkpoint({str(res.folder)!r}) or `tokenworks tokenize {res.folder} TEXT`")
    return 0


def _cmd_eval(argv: list[str]) -> int:
    subs = {"parity": _eval_parity}
    if not argv or argv[0] in ("-h", "--help"):
        if argv:
            print("usage: tokenworks eval parity [options]   (tokenworks eval parity --help)")
            return 0
        raise TokenworksError("`tokenworks eval` needs a subcommand: parity (token premium across UDHR languages); "
                              "the metrics table is not available yet: it arrives with the text analysis work")
    if argv[0] not in subs:
        raise TokenworksError(f"unknown eval subcommand {argv[0]!r}; choose one of {', '.join(subs)}")
    return subs[argv[0]](argv[1:])


def _eval_parity(argv: list[str]) -> int:
    from .text.parity import parity_table

    ap = argparse.ArgumentParser(
        prog="tokenworks eval parity",
        description="Token premium relative to English on the Universal Declaration of Human Rights "
                    "(asset udhr): one CSV row per language and tokenizer.")
    ap.add_argument("--tokenizers", required=True, help="comma-separated names, e.g. text/o200k_base,text/r50k_base")
    ap.add_argument("--out", type=Path, required=True, help="CSV file to write")
    ap.add_argument("--languages", help="comma-separated UDHR codes, e.g. eng,fra,cmn_hans (default: all complete)")
    ap.add_argument("--scripts", help="keep languages in these scripts (ISO 15924 code or name), e.g. Cyrl,Arabic")
    ap.add_argument("--families", help="keep languages of these top-level families (Glottolog via URIEL), "
                                       "e.g. Uralic,Austronesian")
    ap.add_argument("--articles", help="articles to measure, e.g. 1-5,30 (default: all 30)")
    ap.add_argument("--include-incomplete", action="store_true",
                    help="also measure the 11 incomplete declarations (on the articles they have)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    articles = None
    if args.articles:
        try:
            articles = _number_ranges(args.articles)
        except ValueError:
            ap.error(f"--articles takes numbers and ranges such as 1-5,30, not {args.articles!r}")
    table = parity_table(args.tokenizers, languages=args.languages, articles=articles, scripts=args.scripts,
                         families=args.families, include_incomplete=args.include_incomplete,
                         progress=None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True)))
    table.to_csv(args.out)
    print(f"wrote {args.out}: {len(table)} rows = {len(table.languages)} languages x {len(table.tokenizers)} "
          f"tokenizer(s), {len(table.articles)} articles, in {table.seconds:.1f} s")
    if table.excluded:
        print(f"left out {len(table.excluded)} incomplete declarations ({', '.join(table.excluded)}); "
              "--include-incomplete measures them")
    for name in table.tokenizers:
        rows = table.filter(tokenizer=name)
        ok = [r for r in rows if not r.lossy]
        lossy = len(rows) - len(ok)
        line = f"{name}: "
        if ok:
            ps = sorted(r.premium for r in ok)
            hi = max(ok, key=lambda r: r.premium)
            line += f"median premium {ps[len(ps) // 2]:.2f}, highest {hi.premium:.2f} ({hi.name})"
        if lossy:
            line += f"{'; ' if ok else ''}{lossy} lossy row(s) flagged (UNK or failed round trip)"
        print(line)
    return 0


def _number_ranges(spec: str) -> list[int]:
    """ "1-5,30" -> [1, 2, 3, 4, 5, 30]; ValueError on anything else."""
    out: list[int] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    return out


COMMANDS = {
    "app": _cmd_app,
    "assets": _cmd_assets,
    "tokenize": _cmd_tokenize,
    "list": _cmd_list,
    "bench": _cmd_bench,
    "train": _cmd_train,
    "eval": _cmd_eval,
    "lm": _cmd_lm,
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        print(f"tokenworks: unknown command {cmd!r}; choose one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[cmd](rest)
    except TokenworksError as e:
        print(f"tokenworks {cmd}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head & co.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
