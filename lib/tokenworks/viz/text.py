"""Coloured tokens as HTML: each token a chip with its text, id and a tooltip of its spans.

``tokens_html`` draws one tokenization, ``compare_html`` draws 2 to 4 side by side with the
boundaries that differ marked, and ``merge_tree_html`` draws how one BPE token was built.
Every chip's colour is a function of its id alone (``token_colour``), so the same token has the
same colour in every view and every tokenizer.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from ..core import LazySpans, SpanTable, TokenSeq
from ..text._common import as_text_input, bytes_label, printable_piece

if TYPE_CHECKING:
    from ..text.bpe import MergeNode
    from ..text.compare import Comparison

CSS = """
.tw-tokens { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; line-height: 2.1; }
.tw-tok { display: inline-block; margin: 1px 1px; padding: 0 3px; border-radius: 4px; color: #111;
          white-space: pre; border: 1px solid rgba(0,0,0,.08); vertical-align: top; text-align: center; }
.tw-tok.tw-partial { border-style: dashed; border-color: #b45309; }
.tw-tok .tw-id { display: block; font-size: 10px; line-height: 1.1; color: #555; }
.tw-summary { font-family: system-ui, sans-serif; font-size: 13px; color: #444; margin-bottom: 4px; }
"""

COMPARE_CSS = """
.tw-compare { display: grid; gap: 10px; align-items: start; }
.tw-compare .tw-col { min-width: 0; max-height: 70vh; overflow: auto; border: 1px solid #e5e7eb;
                      border-radius: 6px; padding: 4px 6px; }
.tw-compare h4 { margin: 2px 0; font-family: system-ui, sans-serif; font-size: 14px; }
.tw-compare h4 small { color: #666; font-weight: normal; }
.tw-tok.tw-diff-l { border-left: 3px solid #dc2626 !important; }  /* !important: app-level .tw-tok rules are more specific */
.tw-tok.tw-diff-r { border-right: 3px solid #dc2626 !important; }
.tw-spread { font-family: system-ui, sans-serif; font-size: 13px; border-collapse: collapse; margin: 4px 0 8px 0; }
.tw-spread td, .tw-spread th { padding: 2px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; }
.tw-spread td:first-child, .tw-spread th:first-child { text-align: left; }
.tw-legend { font-family: system-ui, sans-serif; font-size: 12px; color: #444; }
.tw-legend .tw-swatch { display: inline-block; width: 10px; height: 12px; border-left: 3px solid #dc2626;
                        background: #eee; vertical-align: middle; margin-right: 3px; }
.tw-mtree { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-x: auto; padding: 4px 0; }
.tw-mnode { display: inline-flex; flex-direction: column; align-items: center; vertical-align: top; }
.tw-mkids { display: flex; gap: 6px; margin-top: 3px; padding-top: 4px; border-top: 2px solid #9ca3af; }
.tw-mcaption { font-family: system-ui, sans-serif; font-size: 13px; color: #333; margin-bottom: 4px; }
"""


def token_colour(token_id: int) -> str:
    """A light background for ``token_id``: hues step by the golden angle, so neighbouring ids
    look different, and the same id always gets the same colour (dark text stays readable)."""
    return f"hsl({(int(token_id) * 137.508) % 360:.0f} 75% 87%)"


def _columns(seq: TokenSeq, n: int) -> tuple[list[int], list[int], list[int], list[int], list[int], list[bool]]:
    """The first ``n`` tokens' ids, char starts/ends, byte starts/ends and partial flags, as lists."""
    ids = seq.ids[:n].tolist()
    spans = seq.spans
    if isinstance(spans, LazySpans):
        spans = spans.spans
    if isinstance(spans, SpanTable) and spans.byte_start is not None and spans.byte_end is not None:
        partial = spans.partial[:n].tolist() if spans.partial is not None else [False] * n
        return (ids, spans.start[:n].tolist(), spans.end[:n].tolist(), spans.byte_start[:n].tolist(),
                spans.byte_end[:n].tolist(), partial)
    rows = spans[:n]
    return (ids, [s.start for s in rows], [s.end for s in rows], [s.byte_start or 0 for s in rows],
            [s.byte_end or 0 for s in rows], [s.partial for s in rows])


def _chips(seq: TokenSeq, data: bytes, n: int, show_ids: bool = True,
           diff_start: np.ndarray | None = None, diff_end: np.ndarray | None = None, text: str | None = None) -> list[str]:
    """One HTML chip per token for the first ``n`` tokens (labels and colours cached per call).

    ``text`` (the str input) lets a partial token's tooltip name the character it is part of."""
    ids, c0s, c1s, b0s, b1s, partials = _columns(seq, n)
    hexed = seq.meta.get("display") == "hex"
    dl = diff_start[:n].tolist() if diff_start is not None else None
    dr = diff_end[:n].tolist() if diff_end is not None else None
    labels: dict[bytes, str] = {}
    colours: dict[int, str] = {}
    out = []
    for i in range(n):
        tid, b0, b1 = ids[i], b0s[i], b1s[i]
        raw = data[b0:b1]
        label = labels.get(raw)
        if label is None:
            label = labels[raw] = html.escape(raw.hex(" ") if hexed else bytes_label(raw)) or "&#8203;"
        colour = colours.get(tid)
        if colour is None:
            colour = colours[tid] = token_colour(tid)
        cls = "tw-tok"
        tip = f"#{i} · id {tid} · chars {c0s[i]}–{c1s[i]} · bytes {b0}–{b1}"
        if partials[i]:
            cls += " tw-partial"
            tip += " · part of a character"
            ch = text[c0s[i]:c1s[i]] if text is not None else ""
            if len(ch) == 1:
                tip += (f" ({html.escape(printable_piece(ch))}, U+{ord(ch):04X}, whose UTF-8 bytes are "
                        f"{ch.encode('utf-8', 'surrogatepass').hex(' ').upper()}: the tokens beside it hold the rest)")
        if dl is not None and (dl[i] or dr[i]):
            # one red line per boundary: the left edge of the token that starts there; the right
            # edge only where no token starts at that offset (a tokenizer that drops text)
            right = dr[i] and not (i + 1 < n and b0s[i + 1] == b1 and dl[i + 1])
            cls += " tw-diff" + (" tw-diff-l" if dl[i] else "") + (" tw-diff-r" if right else "")
            tip += " · a boundary here differs"
        idline = f'<span class="tw-id">{tid}</span>' if show_ids else ""
        out.append(f'<span class="{cls}" style="background:{colour}" data-index="{i}" data-id="{tid}" '
                   f'title="{tip}">{label}{idline}</span>')
    return out


def _summary(seq: TokenSeq, nbytes: int, shown: int) -> str:
    ntok = len(seq)
    summary = f"{ntok:,} tokens · {nbytes:,} bytes"
    if ntok:
        summary += f" · {nbytes / ntok:.2f} bytes/token"
    if shown < ntok:
        summary += f" · showing the first {shown:,}"
    if not seq.lossless:
        summary += " · lossy: " + html.escape(str(seq.meta.get("note", "decode differs from the input")))
    return summary


def tokens_html(seq: TokenSeq, source: str | bytes, *, show_ids: bool = True, max_tokens: int = 5000,
                ref: str | None = None) -> str:
    """HTML for a text TokenSeq: coloured chips, ids below, spans in the tooltip.

    Tokens that hold only part of a UTF-8 character show their bytes (``<0xC3>``) with a dashed
    border. At most ``max_tokens`` chips are drawn; the summary line says when it cut. ``ref``
    (how the tokenizer is loaded, e.g. "run:text/x") goes in ``data-ref`` for click handlers.
    """
    inp = as_text_input(source, seq.tokenizer)
    data = inp.data
    n = min(max_tokens, len(seq))
    chips = _chips(seq, data, n, show_ids, text=inp.text if inp.input_type == "str" else None)
    summary = _summary(seq, len(data), n)
    return (
        f"<style>{CSS}</style><div class='tw-tokens' data-tokenizer='{html.escape(seq.tokenizer)}' "
        f"data-ref='{html.escape(ref or seq.tokenizer)}'><div class='tw-summary'>{summary}</div>{''.join(chips)}</div>"
    )


def compare_html(cmp: "Comparison", *, show_ids: bool = True, max_tokens: int = 5000) -> str:
    """2 to 4 tokenizations side by side: a table of counts and the spread, then one column of
    chips per tokenizer; a red edge (class ``tw-diff``) marks a boundary that not every tokenizer has.

    When a tokenizer has more than ``max_tokens`` tokens, every column stops at the same byte
    offset (where the longest one reaches ``max_tokens``), so the columns show the same text.
    """
    segs = cmp.segmentations
    text = cmp.text if len(cmp.text.encode("utf-8", "surrogatepass")) == cmp.n_bytes else None  # str input
    cut = cmp.n_bytes
    for s in segs:
        if s.n_tokens > max_tokens:
            cut = min(cut, int(s.byte_end[max_tokens - 1]))
    rows = []
    for s in segs:
        bpt = f"{cmp.n_bytes / s.n_tokens:.2f}" if s.n_tokens else "–"
        mark = " (fewest)" if s.tokenizer == cmp.spread.fewest else " (most)" if s.tokenizer == cmp.spread.most else ""
        lossy = "" if s.lossless else " · lossy"
        rows.append(f"<tr><td>{html.escape(s.tokenizer)}{mark}{lossy}</td><td>{s.n_tokens:,}</td><td>{bpt}</td>"
                    f"<td>{s.differing.size:,}</td></tr>")
    sp = cmp.spread
    ratio = f"{sp.ratio:.2f}×" if sp.ratio is not None else "– (no tokens)"
    spread = (f"<div class='tw-summary'>{cmp.n_bytes:,} bytes · count spread: min {sp.min:,}, max {sp.max:,}, "
              f"max/min {ratio} · {cmp.shared.size:,} boundaries shared by all, {cmp.n_differing:,} not</div>")
    table = ("<table class='tw-spread'><tr><th>tokenizer</th><th>tokens</th><th>bytes/token</th>"
             f"<th>boundaries others lack</th></tr>{''.join(rows)}</table>")
    legend = ("<div class='tw-legend'><span class='tw-swatch'></span>a red edge: this tokenizer cuts here and "
              "another does not (compared on byte offsets). Click a token to see its merge tree.</div>")
    cols = []
    for s in segs:
        n = int(np.searchsorted(s.byte_start, cut, side="left")) if cut < cmp.n_bytes else s.n_tokens
        n = min(n, s.n_tokens)
        chips = _chips(s.seq, cmp.data, n, show_ids, s.diff_start, s.diff_end, text)
        more = f" · showing the first {n:,}" if n < s.n_tokens else ""
        vocab = f", vocabulary {s.vocab_size:,}" if s.vocab_size else ""
        cols.append(
            f"<div class='tw-col'><h4>{html.escape(s.tokenizer)} <small>({s.n_tokens:,} tokens{vocab}{more})</small></h4>"
            f"<div class='tw-tokens' data-tokenizer='{html.escape(s.tokenizer)}' data-ref='{html.escape(s.ref)}'>"
            f"{''.join(chips)}</div></div>"
        )
    return (f"<style>{CSS}{COMPARE_CSS}</style>{spread}{table}{legend}"
            f"<div class='tw-compare' style='grid-template-columns: repeat({len(segs)}, minmax(0, 1fr))'>"
            f"{''.join(cols)}</div>")


def merge_tree_html(node: "MergeNode", caption: str = "") -> str:
    """How a BPE token was built, drawn top-down: the token, then the two tokens it merges, down
    to single bytes. Each node is a chip coloured by its id."""

    def draw(nd: "MergeNode") -> str:
        label = html.escape(bytes_label(nd.data)) or "&#8203;"
        chip = (f'<span class="tw-tok" style="background:{token_colour(nd.id)}" data-id="{nd.id}" '
                f'title="id {nd.id} · {len(nd.data)} byte{"s" if len(nd.data) != 1 else ""}: {nd.data.hex(" ")}">{label}'
                f'<span class="tw-id">{nd.id}</span></span>')
        if nd.left is None or nd.right is None:
            return f"<div class='tw-mnode'>{chip}</div>"
        return f"<div class='tw-mnode'>{chip}<div class='tw-mkids'>{draw(nd.left)}{draw(nd.right)}</div></div>"

    merges = len(node.leaves()) - 1
    info = (f"{html.escape(bytes_label(node.data))} (id {node.id}): {len(node.data)} bytes, "
            f"built by {merges} merge{'s' if merges != 1 else ''}, depth {node.depth()}")
    if node.special:
        info += " · a special token (added whole, not merged)"
    elif merges == 0 and len(node.data) > 1:
        info += " · no merge makes this token (it is in the vocabulary but never produced by merging)"
    head = f"<div class='tw-mcaption'>{caption}{' · ' if caption else ''}{info}</div>"
    return f"<style>{CSS}{COMPARE_CSS}</style><div class='tw-mtree'>{head}{draw(node)}</div>"

