"""Reconstruction metrics for uint8 RGB images: PSNR and SSIM.

Both take one image (H, W, C) or a batch (N, H, W, C) of uint8 (greyscale (H, W) works too) and
return one number per image.

PSNR has one rule everywhere in tokenworks: 10 log10(255^2 / MSE), capped at ``PSNR_CAP_DB``
(100 dB). An identical image (MSE 0, a PSNR that would be infinite) reads 100 dB, so means over
images stay finite and comparable. A reconstruction that differs at all stays below the cap
unless nearly every one of more than 150,000 values (a 226x226 RGB image) is exact: one value off
by one level reads 89 dB in a 64x64 RGB image, so the cap changes no real measurement here. ``mean_psnr`` averages per-image PSNR; ``psnr_of_mean_mse`` is the
data-set-level alternative (PSNR of the mean squared error), under the same cap.

SSIM follows Wang et al. (2004): Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, L 255,
"valid" filtering (no padding), averaged over the window positions. ``channels="rgb"``
averages the SSIM of R, G and B; ``"y"`` measures luminance only (BT.601 Y = 0.299 R +
0.587 G + 0.114 B). Images smaller than the window get a smaller odd window (sigma scaled by
the same factor) down to 3 pixels; ``meta`` of ``ssim_details`` says which window was used.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

PSNR_CAP_DB = 100.0  # the highest PSNR: what an identical image reads (its PSNR would be infinite)
WINDOW, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03
MIN_WINDOW = 3
CHANNELS = ("rgb", "y")


def _pair(a, b, what: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """(a, b) as float64 (N, H, W, C) and whether a single image was given."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise InvalidInput(f"{what}: the two images must have the same shape; got "
                           f"{a.shape} and {b.shape}")
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise InvalidInput(f"{what}: images must be uint8 (0..255); got {a.dtype} and "
                           f"{b.dtype}")
    single = a.ndim in (2, 3) and not (a.ndim == 3 and a.shape[-1] not in (1, 3, 4))
    if a.ndim == 2:
        a, b = a[None, :, :, None], b[None, :, :, None]  # (1, H, W, 1)
    elif a.ndim == 3 and single:
        a, b = a[None], b[None]  # (1, H, W, C)
    elif a.ndim != 4:
        raise InvalidInput(f"{what}: give (H, W), (H, W, C) or (N, H, W, C) arrays; got "
                           f"shape {a.shape}")
    if a.size == 0:
        raise InvalidInput(f"{what}: the images are empty (shape {a.shape})")
    return a.astype(np.float64), b.astype(np.float64), single


def mse(a, b) -> np.ndarray | float:
    """Mean squared error per image on the 0..255 scale."""
    x, y, single = _pair(a, b, "mse")
    m = ((x - y) ** 2).mean(axis=(1, 2, 3))  # (N,)
    return float(m[0]) if single else m


def psnr_of_mse(m) -> np.ndarray:
    """PSNR in dB of mean squared errors on the 0..255 scale (any shape), capped at PSNR_CAP_DB (MSE 0 reads 100)."""
    m = np.asarray(m, dtype=np.float64)
    return np.minimum(10 * np.log10(255.0 ** 2 / np.maximum(m, 1e-300)), PSNR_CAP_DB)


def psnr(a, b) -> np.ndarray | float:
    """PSNR in dB per image: one image -> a float, a batch (N, H, W, C) -> (N,); identical images read 100 dB."""
    m = mse(a, b)
    p = psnr_of_mse(np.atleast_1d(m))  # (N,)
    return float(p[0]) if np.ndim(m) == 0 else p


def mean_psnr(a, b) -> float:
    """Mean of per-image PSNR (identical images count as PSNR_CAP_DB)."""
    return float(np.atleast_1d(psnr(a, b)).mean())


def psnr_of_mean_mse(a, b) -> float:
    """PSNR of the MSE averaged over all images (a data-set-level figure); 100 dB if all are exact."""
    return float(psnr_of_mse(np.atleast_1d(mse(a, b)).mean()))


@dataclass
class SSIMDetails:
    per_image: np.ndarray  # (N,) mean SSIM of each image
    window: int  # the Gaussian window used (11 unless the image is smaller)
    sigma: float  # its standard deviation in pixels
    channels: str  # "rgb" (mean over R, G, B) or "y" (luminance)


def ssim(a, b, channels: str = "rgb") -> np.ndarray | float:
    """Mean SSIM per image, in [-1, 1]; 1 for identical images."""
    single = np.asarray(a).ndim == 2 or (np.asarray(a).ndim == 3
                                         and np.asarray(a).shape[-1] in (1, 3, 4))
    d = ssim_details(a, b, channels)
    return float(d.per_image[0]) if single else d.per_image


def ssim_details(a, b, channels: str = "rgb") -> SSIMDetails:
    if channels not in CHANNELS:
        raise InvalidInput(f"channels must be one of {', '.join(CHANNELS)}, not {channels!r}")
    x, y, _ = _pair(a, b, "ssim")  # (N, H, W, C)
    if channels == "y" and x.shape[-1] >= 3:
        w = np.array([0.299, 0.587, 0.114])
        x, y = x[..., :3] @ w, y[..., :3] @ w  # (N, H, W)
        x, y = x[..., None], y[..., None]  # (N, H, W, 1)
    elif x.shape[-1] == 4:
        x, y = x[..., :3], y[..., :3]  # alpha is not compared
    h, w_ = x.shape[1:3]
    win = min(WINDOW, h - (1 - h % 2), w_ - (1 - w_ % 2))  # largest odd size that fits
    if win < MIN_WINDOW:
        raise InvalidInput(f"ssim needs images of at least {MIN_WINDOW}x{MIN_WINDOW} "
                           f"pixels; got {h}x{w_}")
    sigma = SIGMA * win / WINDOW
    g = np.exp(-0.5 * ((np.arange(win) - win // 2) / sigma) ** 2)
    g /= g.sum()  # (win,)

    def blur(z):  # (N, H, W, C) -> (N, H - win + 1, W - win + 1, C), separable, valid
        hh, ww = z.shape[1] - win + 1, z.shape[2] - win + 1
        z = sum(g[k] * z[:, k:k + hh] for k in range(win))
        return sum(g[k] * z[:, :, k:k + ww] for k in range(win))

    c1, c2 = (K1 * 255.0) ** 2, (K2 * 255.0) ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2))
    return SSIMDetails(per_image=s.mean(axis=(1, 2, 3)), window=int(win), sigma=float(sigma),
                       channels=channels)
