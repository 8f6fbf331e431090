"""The LM tab's state and formatting: the model it loads, the analysis a page keeps in the session
cache (``LMState``: the text, the chat flag and a key), and the Markdown, HTML and tables it shows.
The library computes (``tokenworks.lm.inspect``); this module only formats.

    view = score_text("The capital of France is Paris.", chat=False)   # -> LMView
    status_markdown(view.analysis), chat_markdown(view.analysis), token_rows(view.analysis)
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from secrets import token_hex
from typing import Any

import numpy as np

from tokenworks.errors import InvalidInput

from .session_cache import CACHE
from .widgets import warnings_markdown

MODEL = "lm/smollm2-135m"
DEFAULT_TEXT = ("The capital of France is Paris. A language model pays for every token in bits: the tokens it "
                "expects cost little, the surprising ones cost a lot.")
DEFAULT_PREFIX = "Once upon a ti"  # cut inside a word: naive prediction goes wrong here
INTRO = (
    "### What the tokens cost a language model\n"
    "SmolLM2-135M-Instruct (LLaMA, 30 layers, a 49,152-token byte-level BPE; run offline on this machine) "
    "reads your text. Each token is coloured by its **surprisal**, −log₂ p in bits, given everything before it; "
    "**bits per byte** is the total over the text's UTF-8 bytes, the one score that compares models with "
    "different tokenizers. Click a token to see the 10 tokens the model expected next. **Chat mode** wraps the "
    "text in the model's own chat template and counts the special tokens it adds."
)
METHOD_HOW = {
    "naive": "encode the prefix as it is; each next token votes for its first byte",
    "healing": "token healing: back up one token; the next token must start with its bytes",
    "exact": "every tokenization whose bytes extend the prefix, summed (Phan et al. 2024)",
}


def load_model():
    """The shared language model (AssetMissing names `tokenworks assets fetch smollm2-135m`)."""
    import tokenworks as tw

    return tw.load_lm(MODEL)


@dataclass(frozen=True)
class LMState:
    """What the page's gr.State holds: the settings and a key into the session cache."""

    key: str  # session_cache.CACHE key of the LMAnalysis
    text: str
    chat: bool
    n_tokens: int  # T


def score_text(text: Any, chat: Any, replaces: str | None = None, key: str | None = None):
    """Score ``text`` (chat: in the chat template) and keep the analysis: (state, analysis)."""
    from tokenworks.lm.inspect import analyze, check_text

    text, chat = check_text(text), bool(chat)
    a = analyze(load_model(), text, chat=chat)
    state = LMState(key or token_hex(8), text, chat, a.n_tokens)
    CACHE.put(a, replaces=replaces, key=state.key)
    return state, a


def analysis_of(state: Any):
    """The analysis of a state: cached, or scored again (under the key the page holds) when let go."""
    if not isinstance(state, LMState):
        raise InvalidInput("score a text first (press Score)")
    a = CACHE.get(state.key)
    return a if a is not None else score_text(state.text, state.chat, key=state.key)[1]


# ---- formatting ------------------------------------------------------------------------------------

def problem(e: Exception) -> str:
    """A library error as Markdown, after a warning sign."""
    return warnings_markdown([str(e)])


def shown(s: str) -> str:
    """Text for Markdown/HTML: escaped, newlines as ↵."""
    return html.escape(s, quote=False).replace("\n", "↵")


def code(s: str, cell: bool = False) -> str:
    """``s`` as inline code (``cell``: inside a Markdown table, whose cells a | would end)."""
    return f"<code>{shown(s).replace('|', '&#124;') if cell else shown(s)}</code>"


def percent(p: float) -> str:
    return f"{p:.1%}" if p >= 0.001 else "<0.1%"


def _timings(t: dict[str, float]) -> str:
    return " · ".join(f"{k} {v:.2f} s" for k, v in t.items())


def status_markdown(a) -> str:
    """Bits per byte, total bits, token count, and the notes."""
    what = "the templated text (chat mode)" if a.chat is not None else "the text"
    lines = [f"**{a.bits_per_byte:.3f} bits per byte** · {a.total_bits:,.1f} bits in all · **{a.n_tokens:,} tokens** "
             f"· {a.score.n_bytes:,} bytes of {what} · {a.total_bits / max(a.n_tokens, 1):.2f} bits per token"]
    msg = a.message_bits()
    if msg is not None:
        bits, nbytes = msg
        lines.append(f"The message alone, inside the template: {bits:,.1f} bits over {nbytes:,} bytes = "
                     f"**{bits / max(nbytes, 1):.3f} bits per byte**.")
    own = set(a.chat.notes) if a.chat is not None else set()  # the chat panel shows those
    lines += [f"⚠️ {html.escape(n, quote=False)}" for n in a.notes if n not in own]
    lines.append(f"<small>{a.model} · {_timings(a.timings)} · the first token is conditioned on the "
                 "document-start token &lt;|endoftext|&gt;</small>")
    return "\n\n".join(lines)


def chat_markdown(a) -> str:
    """Chat mode: the special tokens and the text the template added, counts with and without them."""
    c = a.chat
    if c is None:
        return ("Chat mode is off: the text is scored as it is. Tick **chat mode** to wrap it in the model's chat "
                "template and count what the template adds.")
    specials = ", ".join(f"{code(n)} ×{k}" for n, k in c.special.items()) or "none"
    lines = [f"**Chat mode.** The model's chat template ({html.escape(c.origin, quote=False)}) turned the message's "
             f"**{c.message_tokens:,} tokens** into **{c.n_tokens:,} tokens**: **+{c.added_tokens:,}** from the "
             f"template. Token counts differ between tools when one counts the template and another does not.",
             f"**Special tokens added** ({c.special_total}): {specials}.",
             "**Other text the template added**: " + (", ".join(code(p) for p in c.added_text) or "none") + "."]
    if c.system_prompt:
        lines.append(f"The template inserts a **default system prompt** when none is given: {code(c.system_prompt)}.")
    lines += [f"⚠️ {html.escape(n, quote=False)}" for n in c.notes if "system prompt" not in n]
    lines.append("<details><summary>The templated text</summary>"
                 f"<pre>{html.escape(c.text, quote=False)}</pre></details>")
    return "\n\n".join(lines)


def token_rows(a) -> list[list]:
    """One row per token: #, token, id, surprisal (bits), p, entropy (bits) of its prediction, special."""
    r = a.score
    special, probs = a.special, np.exp(r.logprobs)  # (T,), (T,)
    return [[i, a.labels[i], int(r.tokens.ids[i]), round(float(r.surprisal[i]), 3), float(f"{probs[i]:.4g}"),
             round(float(r.entropy[i]), 3), bool(special[i])] for i in range(a.n_tokens)]


TOKEN_COLUMNS = ["#", "token", "id", "surprisal (bits)", "p", "entropy (bits)", "special"]


def midword_markdown(m) -> str:
    """The three methods' best next bytes, and the two greedy continuations."""
    from tokenworks.lm.inspect import TOP_K

    toks = " ".join(code(t) for t in m.prefix_tokens)
    rows = ["| method | best next byte | p | top 3 | how |", "|---|---|---|---|---|"]
    for method, d in m.next.items():
        top = d.char_probs(TOP_K)
        best, p = top[0]
        three = ", ".join(f"{code(b, cell=True)} {percent(q)}" for b, q in top[:3])
        rows.append(f"| **{method}** | {code(best, cell=True)} | {percent(p)} | {three} | {METHOD_HOW.get(method, '')} |")
    g_tok, g_byte = m.by_tokens, m.by_bytes
    head = ("…" if len(m.prefix) > 30 else "") + code(m.prefix[-30:])
    lines = [f"The prefix is {len(m.prefix_tokens)} tokens: {toks}. When a prompt ends inside a word, its last "
             "token is one the tokenizer would not have chosen had the word gone on, and the model, trained on whole "
             "tokenizations, is out of distribution.", "\n".join(rows),
             f"**Greedy continuations** ({len(g_tok.data)} and {len(g_byte.data)} bytes):",
             f"- token by token (`generate(method=\"tokens\")`): {head}<b>{shown(g_tok.text)}</b> "
             f"<small>({g_tok.steps} tokens, {g_tok.seconds:.1f} s, stopped: {g_tok.stopped})</small>",
             f"- byte by byte, exact (`generate(method=\"exact\")`): {head}<b>{shown(g_byte.text)}</b> "
             f"<small>({g_byte.steps} bytes, {g_byte.seconds:.1f} s, stopped: {g_byte.stopped})</small>"]
    lines += [f"⚠️ {html.escape(n, quote=False)}" for n in m.notes]
    lines.append(f"<small>{_timings(m.timings)}</small>")
    return "\n\n".join(lines)


def export_json(a, state: LMState) -> dict:
    """The analysis as JSON: settings, numbers, and every token with its surprisal."""
    out = {"model": a.model, "text": a.text, "chat": state.chat, "scored_text": a.scored,
           "bits_per_byte": a.bits_per_byte, "total_bits": a.total_bits, "n_tokens": a.n_tokens,
           "n_bytes": a.score.n_bytes, "notes": a.notes,
           "tokens": [dict(zip(TOKEN_COLUMNS, row)) for row in token_rows(a)]}
    if a.chat is not None:
        c = a.chat
        out["chat_template"] = {"origin": c.origin, "message_tokens": c.message_tokens, "n_tokens": c.n_tokens,
                                "special_added": c.special, "text_added": c.added_text,
                                "system_prompt": c.system_prompt}
    return out
