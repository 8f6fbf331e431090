"""Coloured tokens as HTML: each token a chip with its text, id and a tooltip of its spans."""
from __future__ import annotations

import html

from ..core import TokenSeq
from ..text.pieces import token_pieces

# 10 light backgrounds with dark text (contrast >= 7:1), cycled so neighbours differ
PALETTE = ("#fde2e4", "#d8f3dc", "#dbeafe", "#fef3c7", "#ede9fe", "#cffafe", "#fce7f3", "#e0f2fe", "#ecfccb", "#f5f5f4")

CSS = """
.tw-tokens { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; line-height: 2.1; }
.tw-tok { display: inline-block; margin: 1px 1px; padding: 0 3px; border-radius: 4px; color: #111;
          white-space: pre; border: 1px solid rgba(0,0,0,.08); vertical-align: top; text-align: center; }
.tw-tok.tw-partial { border-style: dashed; border-color: #b45309; }
.tw-tok .tw-id { display: block; font-size: 10px; line-height: 1.1; color: #555; }
.tw-summary { font-family: system-ui, sans-serif; font-size: 13px; color: #444; margin-bottom: 4px; }
"""


def tokens_html(seq: TokenSeq, source: str | bytes, *, show_ids: bool = True, max_tokens: int = 5000) -> str:
    """HTML for a text TokenSeq: coloured chips, ids below, spans in the tooltip.

    Tokens that hold only part of a UTF-8 character show their bytes (``<0xC3>``) with a dashed
    border. At most ``max_tokens`` chips are drawn; the summary line says when it cut.
    """
    shown = token_pieces(seq, source, limit=max_tokens)
    chips = []
    for p in shown:
        cls = "tw-tok tw-partial" if p.partial else "tw-tok"
        tip = f"#{p.index} · id {p.id} · chars {p.char_start}–{p.char_end} · bytes {p.byte_start}–{p.byte_end}"
        if p.partial:
            tip += " · part of a character"
        idline = f'<span class="tw-id">{p.id}</span>' if show_ids else ""
        chips.append(
            f'<span class="{cls}" style="background:{PALETTE[p.index % len(PALETTE)]}" '
            f'data-index="{p.index}" data-id="{p.id}" title="{html.escape(tip)}">'
            f"{html.escape(p.text) or '&#8203;'}{idline}</span>"
        )
    ntok = len(seq)
    nbytes = len(source) if isinstance(source, bytes) else len(source.encode("utf-8", "surrogatepass"))
    summary = f"{ntok} tokens · {nbytes} bytes"
    if ntok:
        summary += f" · {nbytes / ntok:.2f} bytes/token"
    if len(shown) < ntok:
        summary += f" · showing the first {len(shown)}"
    if not seq.lossless:
        summary += " · lossy: " + html.escape(str(seq.meta.get("note", "decode differs from the input")))
    return (
        f"<style>{CSS}</style><div class='tw-tokens' data-tokenizer='{html.escape(seq.tokenizer)}'>"
        f"<div class='tw-summary'>{summary}</div>{''.join(chips)}</div>"
    )
