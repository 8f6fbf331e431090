"""Speed perturbation of training speech: more speakers from the same clips.

    waves = speed_copies(waves, factors=(0.9, 1.1))   # the clips, then each one 0.9x and 1.1x as fast

Playing a clip ``f`` times as fast scales its pitch, its formants and its tempo by ``f`` at once:
a shorter or longer vocal tract and a higher or lower voice. It is the "speed perturbation" that
speech recognisers train with (Ko, Peddinti, Povey and Khudanpur, "Audio augmentation for speech
recognition", Interspeech 2015, factors 0.9 / 1.0 / 1.1). Here it widens the range of voices a
codec hears in training, so that it holds up on voices it never heard. The copies are made once,
before training, with a polyphase resampler (``scipy.signal.resample_poly``: the anti-aliasing
filter is built in), so the training loop and its random draws stay as they are.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

from ..errors import InvalidInput

MIN_FACTOR, MAX_FACTOR = 0.5, 2.0
MAX_DENOMINATOR = 40  # the resampling ratio is approximated by p/q with q at most this


def check_factors(factors: Sequence[float]) -> tuple[float, ...]:
    """The factors as floats; each one in [0.5, 2] and not 1 (the clips themselves are kept)."""
    out = []
    for f in factors:
        try:
            f = float(f)
        except (TypeError, ValueError):
            raise InvalidInput(f"a speed factor is a number such as 0.9 or 1.1, got {f!r}") from None
        if not (MIN_FACTOR <= f <= MAX_FACTOR) or f == 1.0:
            raise InvalidInput(f"speed factors must lie in [{MIN_FACTOR}, {MAX_FACTOR}] and not be 1 "
                               f"(the clips themselves are always kept), got {f}")
        out.append(f)
    if len(set(out)) != len(out):
        raise InvalidInput(f"speed factors must differ from each other, got {list(out)}")
    return tuple(out)


def play_faster(wave: np.ndarray, factor: float) -> np.ndarray:
    """``wave`` (N,) played ``factor`` times as fast at the same sample rate: about N / factor samples."""
    from scipy.signal import resample_poly

    ratio = Fraction(1 / factor).limit_denominator(MAX_DENOMINATOR)  # new length / old length
    y = resample_poly(np.asarray(wave, np.float64), ratio.numerator, ratio.denominator)  # (~N / factor,)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def speed_copies(waves: Sequence[np.ndarray], factors: Sequence[float]) -> list[np.ndarray]:
    """The clips themselves, then for each factor every clip played that many times as fast."""
    factors = check_factors(factors)
    out = list(waves)
    for f in factors:
        out += [play_faster(w, f) for w in waves]
    return out
