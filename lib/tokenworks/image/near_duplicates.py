"""Near-duplicate pictures: a 64-bit perceptual hash and the groups it makes.

    from tokenworks.image.near_duplicates import perceptual_hash, hamming, group_near_duplicates
    h = perceptual_hash(img)              # img: (H, W, 3) or (H, W) uint8 array, or a PIL image
    hamming(h, perceptual_hash(img2))     # 0..64 differing bits
    groups = group_near_duplicates([h1, h2, h3])   # [[0, 2], [1]]: indices, one list per picture

The hash is the classic DCT hash (pHash): the picture in grey, squeezed to 32x32 (so the
same picture at another resolution or aspect ratio gives nearly the same thumbnail), its 2-D
DCT, the 8x8 lowest frequencies, and one bit per frequency: above or below their median (the
DC term is left out of the median). Resizing, recompressing, a small shift (a stereo pair, two
frames of a still camera) or a colour variant (a wallpaper's dark version) changes few bits;
two different photos differ in about half of them (32 of 64).

Two pictures are near-duplicates when their hashes differ in at most ``NEAR_BITS`` bits; the
groups are the connected components of that relation (union-find), so a chain of close
variants ends in one group. Exact duplicates (equal bytes or pixels) have distance 0 and always
merge.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

THUMB = 32  # the grey thumbnail is THUMB x THUMB before the DCT
BITS_SIDE = 8  # the hash keeps BITS_SIDE x BITS_SIDE low frequencies: 64 bits
NEAR_BITS = 10  # at most this many differing bits (of 64): the same picture


def _dct_matrix(n: int) -> np.ndarray:
    """(n, n) DCT-II basis: row k is cos(pi (2i + 1) k / 2n) over i (unnormalised)."""
    k = np.arange(n)[:, None]  # (n, 1)
    i = np.arange(n)[None, :]  # (1, n)
    return np.cos(np.pi * (2 * i + 1) * k / (2 * n))  # (n, n)


_DCT = _dct_matrix(THUMB)  # (THUMB, THUMB)


def grey_thumbnail(img: np.ndarray | Image.Image, side: int = THUMB) -> np.ndarray:
    """(side, side) float64 grey levels 0..255 of the whole picture (aspect ratio ignored)."""
    im = img if isinstance(img, Image.Image) else Image.fromarray(np.asarray(img, dtype=np.uint8))
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    grey = im.convert("L")
    # reduce first (box filter, cheap on 5K wallpapers), then an exact Lanczos to side x side
    return np.asarray(grey.resize((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0),
                      dtype=np.float64)  # (side, side)


def perceptual_hash(img: np.ndarray | Image.Image) -> int:
    """64-bit DCT hash of a picture: (H, W, 3) or (H, W) uint8 array, or a PIL image."""
    g = grey_thumbnail(img)  # (32, 32)
    freq = (_DCT @ g @ _DCT.T)[:BITS_SIDE, :BITS_SIDE].ravel()  # (64,) lowest frequencies
    median = np.median(freq[1:])  # without the DC term (the mean brightness)
    bits = freq > median  # (64,)
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    """Number of bits in which two hashes differ."""
    return (a ^ b).bit_count()


def group_near_duplicates(hashes: Sequence[int], near_bits: int = NEAR_BITS) -> list[list[int]]:
    """Indices grouped by near-duplication (hash distance <= near_bits, chained).

    Each group is sorted; groups come in order of their first index, so the result depends
    only on the order of ``hashes``.
    """
    n = len(hashes)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if hamming(hashes[i], hashes[j]) <= near_bits:
                ri, rj = root(i), root(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])
