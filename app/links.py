"""Every tab's settings in the page URL, so a view can be shared as a link (no Gradio, no library).

    ?tokenizers=text/o200k_base,text/r50k_base&mode=compare&text=Hello%20world     (the Text tab)
    ?tab=image&model=image/flex1d-emoji64&sample=emoji-fox.png&k=12
    ?tab=audio&model=audio/rvq-speech16k&sample=flite-slt.wav&metric=stoi&k=2
    ?tab=languages&tokenizers=text/o200k_base,text/r50k_base&script=Cyrl&family=Uralic&map=text/r50k_base
    ?tab=metrics&tokenizers=text/o200k_base&corpus=udhr&languages=eng,fra&split=whole&limit=200000
    ?tab=learn&corpus=aaabdaaabac&merges=3&text=aaab&vocab=trained&order=chunk
    ?tab=lm&text=The%20cat%20sat.&chat=on&token=2&prefix=Once%20upon%20a%20ti&length=24
    ?tab=transfer&tokenizer=text/cl100k_base&method=fvt&domains=english,python,udhr-deu_1996
    ?tab=tournament&board=cpu%20(shipped)&text=It%20is%20a%20truth

``tab`` names the open tab; a link without it is a Text tab link (so the first links ever shared
stay valid), and Text links are written without it. A tab's link is a ``TabSpec``: its id, its
typed parameters (``Choice``, ``Names``, ``Int``, ``Text``) in link order, the dataclass they fill,
and an optional rule between parameters. The tab fills in the allowed values at request time (the
tokenizers that load now, the samples on disk).

``parse_link`` never raises: a bad value falls back to its default and comes back as a note
naming what was ignored and what is allowed. ``build_link`` writes every setting, leaving out the
long texts that would make a link over ``MAX_QUERY_CHARS`` (servers refuse request lines over
about 16 KB; ``left_out`` names them). Uploaded files cannot travel in a link.

    spec = image_spec(models=("image/flex1d-emoji64",), samples=("emoji-fox.png",))
    parsed = parse_link({"tab": "image", "k": "9000"}, spec)
    parsed.state, parsed.notes          # ImageLink(...), ['Ignored k=9000; k is a whole number from 1 to 4096.']
    build_link(spec, parsed.state)      # 'tab=image&model=image/flex1d-emoji64&sample=emoji-fox.png'
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .link_params import (  # noqa: F401  (the machinery, re-exported: tabs use links.X)
    MAX_LISTED, MAX_QUERY_CHARS, MAX_SHOWN, NAME_SAFE, TAB, Choice, Int, Names, Params, ParsedLink, TabSpec, Text,
    _shown, _values, allowed, as_dict, build_link, left_out, parse_link,
)

TAB_IDS = ("text", "learn", "languages", "metrics", "image", "audio", "train", "library", "attention",
           "lm", "undertrained", "transfer", "tournament")  # gr.Tab ids
PLAIN_TABS = ("train", "library", "undertrained")  # tabs a link can open, with no settings to restore
MAX_K = 4096  # largest k an image link may ask for (the tab then keeps it within the tokenizer's own range)


# ---- the open tab ------------------------------------------------------------------------------

@dataclass
class TabChoice:
    tab: str  # one of TAB_IDS
    notes: list[str] = field(default_factory=list)  # what was ignored, and what is allowed


def parse_tab(params: Params) -> TabChoice:
    """The tab a link opens: its ``tab`` parameter (case-insensitive), or "text" when there is none
    or it names no tab (with a note)."""
    raw = _values(params, TAB)
    if raw is None:
        return TabChoice("text")
    value = (raw[-1] if raw else "").strip().lower()
    if value in TAB_IDS:
        return TabChoice(value)
    return TabChoice("text", [f"Ignored tab {_shown(value)}; use tab= one of {', '.join(TAB_IDS)}."])


# ---- the tabs ------------------------------------------------------------------------------------

@dataclass
class TextLink:
    tokenizers: tuple[str, ...]  # in the order shown
    text: str | None = None
    mode: str | None = None  # "tokens" (one under another) or "compare" (2 to 4 side by side)


@dataclass
class ImageLink:
    model: str | None  # image tokenizer ref
    sample: str | None = None  # None: an upload, which a link cannot carry (opens the default sample)
    k: int | None = None  # tokens kept; None: all of them


@dataclass
class AudioLink:
    model: str | None  # audio tokenizer ref
    sample: str | None = None  # None: an upload or a recording (opens the default sample)
    metric: str | None = None  # the quality metric of the rate chart
    k: int | None = None  # codebooks kept; None: all of them


@dataclass
class LanguagesLink:
    tokenizers: tuple[str, ...]
    script: str | None = None  # ISO 15924 code (Latn); None: all scripts
    family: str | None = None  # top-level family (Uralic); None: all families
    map: str | None = None  # the tokenizer the map shows; None: the first


@dataclass
class MetricsLink:
    tokenizers: tuple[str, ...]
    corpus: str | None = None  # a corpus id (sample, shakespeare, udhr, ...); None: an upload (the default corpus)
    languages: str | None = None  # UDHR codes, comma-separated (corpus=udhr)
    split: str | None = None  # how an upload is cut into slices
    limit: int | None = None  # bytes per slice


@dataclass
class LearnLink:
    corpus: str | None  # the training corpus
    merges: int | None = None
    text: str | None = None  # the text the encoding replay encodes
    vocab: str | None = None  # "trained" or "cl100k"
    order: str | None = None  # "chunk" or "rank"


@dataclass
class AttentionLink:  # layer, head: "average" or an index (the tab checks it against the model)
    model: str | None
    text: str | None = None
    layer: str | None = None
    head: str | None = None
    flow: str | None = None  # "rollout" or "value-norm"
    merge: str | None = None  # "tome", "pitome" or "random"; r: merges per layer
    r: int | None = None


@dataclass
class LMLink:
    text: str | None  # the text scored (left out of a link when too long)
    chat: str | None = None  # "on": scored inside the model's chat template; None or "off": as it is
    token: int | None = None  # the token whose next tokens are shown; None: the last
    prefix: str | None = None  # the mid-word panel's prefix (given: the panel is computed too)
    length: int | None = None  # bytes the mid-word panel's continuations add


@dataclass
class TransferLink:
    tokenizer: str | None  # the target tokenizer (a registry name or run:<folder>)
    method: str | None = None  # how new tokens get vectors (tokenworks.lm.new_embeddings.METHODS)
    domains: tuple[str, ...] | None = None  # the held-out domains scored (None: the defaults)


def _compare_rule(least: int, most: int) -> Callable[[TextLink, list[str]], TextLink]:
    """Compare shows ``least`` to ``most`` tokenizers: fewer shows the tokens, more keeps the first."""
    def check(s: TextLink, notes: list[str]) -> TextLink:
        n = len(s.tokenizers)
        if s.mode == "compare" and n < least:
            notes.append(f"Compare shows {least} to {most} tokenizers; the link names {n}, so the tokens are "
                         "shown instead.")
            return dataclasses.replace(s, mode="tokens")
        if s.mode == "compare" and n > most:
            notes.append(f"Compare shows at most {most} tokenizers; ignored {', '.join(s.tokenizers[most:])}.")
            return dataclasses.replace(s, tokenizers=s.tokenizers[:most])
        return s
    return check


def text_spec(tokenizers: Sequence[str], default: Sequence[str] = (), most: int = 6, text: str | None = None,
              max_chars: int = 100_000, compare: tuple[int, int] = (2, 4)) -> TabSpec:
    return TabSpec("text", (Names("tokenizers", tuple(tokenizers), tuple(default), most, prefix="text/"),
                            Choice("mode", ("tokens", "compare"), "tokens", aliases=(("single", "tokens"),)),
                            Text("text", max_chars, text)), TextLink, _compare_rule(*compare))


def image_spec(models: Sequence[str], samples: Sequence[str], model: str | None = None,
               sample: str | None = None) -> TabSpec:
    return TabSpec("image", (Choice("model", tuple(models), model, "image tokenizer"),
                             Choice("sample", tuple(samples), sample),
                             Int("k", 1, MAX_K, None)), ImageLink)


def audio_spec(models: Sequence[str], samples: Sequence[str], metrics: Sequence[str], model: str | None = None,
               sample: str | None = None, metric: str | None = None) -> TabSpec:
    return TabSpec("audio", (Choice("model", tuple(models), model, "audio tokenizer"),
                             Choice("sample", tuple(samples), sample),
                             Choice("metric", tuple(metrics), metric),
                             Int("k", 1, 64, None)), AudioLink)


def languages_spec(tokenizers: Sequence[str], default: Sequence[str], most: int) -> TabSpec:
    # script and family are checked against the measured table by the tab (they depend on it)
    return TabSpec("languages", (Names("tokenizers", tuple(tokenizers), tuple(default), most, prefix="text/"),
                                 Text("script", 40, None), Text("family", 80, None),
                                 Choice("map", tuple(tokenizers), None, "map tokenizer")), LanguagesLink)


def metrics_spec(tokenizers: Sequence[str], default: Sequence[str], most: int, corpora: Sequence[str],
                 splits: Sequence[str], corpus: str, languages: str, split: str, limit: int) -> TabSpec:
    return TabSpec("metrics", (Names("tokenizers", tuple(tokenizers), tuple(default), most, prefix="text/"),
                               Choice("corpus", tuple(corpora), corpus),
                               Text("languages", 400, languages),
                               Choice("split", tuple(splits), split),
                               Int("limit", 1_000, 50_000_000, limit)), MetricsLink)


def learn_spec(corpus: str, max_corpus: int, merges: int, max_merges: int, text: str, max_text: int,
               vocabs: Sequence[str], orders: Sequence[str]) -> TabSpec:
    return TabSpec("learn", (Text("corpus", max_corpus, corpus), Int("merges", 1, max_merges, merges),
                             Text("text", max_text, text), Choice("vocab", tuple(vocabs), vocabs[0], "vocabulary"),
                             Choice("order", tuple(orders), orders[0])), LearnLink)


def attention_spec(models: Sequence[str] = (), flows: Sequence[str] = (), merges: Sequence[str] = (), text: str = "",
                   max_chars: int = 1, max_r: int = 64, r: int = 2, check: Callable | None = None) -> TabSpec:
    at = ("average",) + tuple(str(i) for i in range(64))  # the tab's check keeps them within the model
    return TabSpec("attention", (Choice("model", tuple(models), models[0] if models else None),
                                 Text("text", max_chars, text), Choice("layer", at, "average"), Choice("head", at, "average"),
                                 Choice("flow", tuple(flows), flows[0] if flows else None),
                                 Choice("merge", tuple(merges), merges[0] if merges else None, "merging method"),
                                 Int("r", 0, max_r, r)), AttentionLink, check)


def lm_spec(text: str | None, max_text: int, prefix: str | None, max_prefix: int, max_length: int) -> TabSpec:
    return TabSpec("lm", (Text("text", max_text, text), Choice("chat", ("on", "off"), None),
                          Int("token", 0, 10 * max_text, None), Text("prefix", max_prefix, prefix),
                          Int("length", 1, max_length, None)), LMLink)


def transfer_spec(tokenizers: Sequence[str] = (), methods: Sequence[str] = (), domains: Sequence[str] = (),
                  tokenizer: str | None = None, method: str | None = None,
                  default_domains: Sequence[str] = ()) -> TabSpec:
    return TabSpec("transfer", (Choice("tokenizer", tuple(tokenizers), tokenizer, "target tokenizer"),
                                Choice("method", tuple(methods), method),
                                Names("domains", tuple(domains), tuple(default_domains), max(1, len(domains)),
                                      what="domain")), TransferLink)


@dataclass
class TournamentLink:
    board: str | None  # the leaderboard shown (its label in the picker)
    text: str | None = None  # the text the deletion view reads


def tournament_spec(boards: Sequence[str] = (), board: str | None = None, text: str | None = None,
                    max_text: int = 1) -> TabSpec:
    return TabSpec("tournament", (Choice("board", tuple(boards), board, "leaderboard"),
                                  Text("text", max_text, text)), TournamentLink)


def all_keys() -> list[str]:
    """Every parameter a link of any tab may set (what the address bar replaces; the allowed values
    do not matter here)."""
    specs = [text_spec(()), image_spec((), ()), audio_spec((), (), ()), languages_spec((), (), 1),
             metrics_spec((), (), 1, (), (), "", "", "", 1), learn_spec("", 1, 1, 1, "", 1, ("",), ("",)),
             attention_spec(), lm_spec("", 1, "", 1, 1), transfer_spec(), tournament_spec()]
    return list(dict.fromkeys([TAB] + [p.name for s in specs for p in s.params]))
