"""Render every glyph Noto Color Emoji really has (no tofu boxes) as small RGB images.

The glyphs are found in the font itself: the single code points of its cmap, plus every
sequence its GSUB ligature tables turn into one glyph (skin tones, ZWJ families and
professions, flags, keycaps). Each string is drawn with Pillow (size 109, the size of the
font's CBDT bitmaps, ``embedded_color=True``), composited on white, cut as a fixed 136x136
square centred on the glyph (so every emoji keeps the font's scale) and resized with Lanczos.

Dropped: blank renders (fewer than ``MIN_INK`` non-transparent pixels), strings that did not
become one glyph (ink wider than one glyph cell, so two glyphs side by side), and renders
identical to an earlier one.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_SIZE = 109  # the size of the font's embedded bitmaps (136x128 pixels)
CELL = 136  # the square cut around each glyph, in font pixels
MIN_INK = 40  # fewer non-transparent pixels than this: a blank glyph
SKIN_TONES = range(0x1F3FB, 0x1F400)  # Fitzpatrick modifiers
VS16 = 0xFE0F


@dataclass
class EmojiGlyph:
    codepoints: tuple[int, ...]  # the string drawn
    group: str  # split key: the sequence without skin tones and VS16 (variants share a group)

    @property
    def name(self) -> str:
        return "u" + "_".join(f"{c:04x}" for c in self.codepoints)


def enumerate_glyphs(font_path: Path) -> list[EmojiGlyph]:
    """Every single code point and ligature sequence the font maps to a glyph, sorted."""
    from fontTools.ttLib import TTFont  # fontTools comes with matplotlib

    font = TTFont(str(font_path), lazy=True)
    cmap = font.getBestCmap()  # code point -> glyph name
    glyph_cp = {}
    for cp, g in sorted(cmap.items()):
        glyph_cp.setdefault(g, cp)
    seqs = {(cp,) for cp in cmap if cp > 0x20}
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for st in lookup.SubTable:
            st = getattr(st, "ExtSubTable", st)  # extension lookups wrap the real one
            if getattr(st, "LookupType", None) != 4:  # 4: ligature substitution
                continue
            for first, ligs in st.ligatures.items():
                for lig in ligs:
                    comps = [first, *lig.Component]
                    if all(c in glyph_cp for c in comps):
                        seqs.add(tuple(glyph_cp[c] for c in comps))
    out = []
    for seq in sorted(seqs):
        group = tuple(c for c in seq if c not in SKIN_TONES and c != VS16) or seq
        out.append(EmojiGlyph(seq, "u" + "_".join(f"{c:04x}" for c in group)))
    return out


def render(glyphs: list[EmojiGlyph], font_path: Path, sizes: tuple[int, ...]
           ) -> tuple[list[EmojiGlyph], dict[int, np.ndarray]]:
    """(the glyphs kept, {size: (N, size, size, 3) uint8}) in the order of ``glyphs``."""
    font = ImageFont.truetype(str(font_path), FONT_SIZE)
    side = 3 * CELL
    kept, out, seen = [], {s: [] for s in sizes}, set()
    for g in glyphs:
        canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((CELL, CELL), "".join(map(chr, g.codepoints)), font=font,
                                    embedded_color=True)
        alpha = np.asarray(canvas.getchannel("A"))  # (side, side)
        ys, xs = np.nonzero(alpha)
        if len(xs) < MIN_INK:
            continue  # blank glyph
        if xs.max() - xs.min() >= CELL + 4 or ys.max() - ys.min() >= CELL + 4:
            continue  # the sequence did not ligate into one glyph
        cx, cy = (xs.min() + xs.max() + 1) // 2, (ys.min() + ys.max() + 1) // 2
        box = (cx - CELL // 2, cy - CELL // 2, cx + CELL // 2, cy + CELL // 2)
        white = Image.new("RGBA", (CELL, CELL), (255, 255, 255, 255))
        rgb = Image.alpha_composite(white, canvas.crop(box)).convert("RGB")
        key = hashlib.sha256(rgb.tobytes()).digest()
        if key in seen:
            continue  # renders the same as an earlier glyph
        seen.add(key)
        kept.append(g)
        for s in sizes:
            small = rgb.resize((s, s), Image.Resampling.LANCZOS, reducing_gap=3.0)
            out[s].append(np.asarray(small, dtype=np.uint8))  # (s, s, 3)
    return kept, {s: np.stack(v) for s, v in out.items()}
