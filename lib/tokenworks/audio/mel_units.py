"""``audio/mel-units``: one discrete unit per 20 ms frame, by k-means on normalised log-mel frames.

    tok = tw.load("audio/mel-units")
    seq = tok.encode((wave, sr))        # ids (1, T): K=1 codebook, 50 frames/s, V=500 units
    wave16k, sr = tok.decode(seq)       # each unit -> its centroid log-mel -> Griffin-Lim (lossy)
    tok.render_token(7)                 # (wave, 16000): unit 7 held for half a second

The simplest audio tokenizer with a learned vocabulary, in the spirit of the "acoustic units"
of HuBERT-style speech LMs, but on log-mel features instead of a network's: each frame's 80
log-mel values are standardised per band (the training set's mean and standard deviation) and
replaced by the nearest of V centroids, fitted by k-means (k-means++ seeding, then Lloyd
iterations; deterministic for a seed). Decoding cannot recover the phase or detail finer than
a mel band: it undoes the standardisation, inverts the mel filterbank (least squares) and runs
fast Griffin-Lim (``audio/mel.py``). So ``meta["lossless"]`` is False, and there is one
codebook: ``keep=1`` (or None) decodes, any other ``keep`` is an error.

Fit the shipped checkpoint (the TRAIN split of ``tokenworks.audio.data``; held-out clips never
seen) with::

    PYTHONPATH=lib python -m tokenworks.audio.mel_units fit --out data/checkpoints/audio/mel-units --minutes 10

``--minutes`` is how much training speech to fit on (10 minutes = 30,000 frames).

Symbols: N samples, T frames, M mel bands, V units.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from ..checkpoint import Checkpoint, config_from_dict, load_checkpoint, save_checkpoint
from ..core import SpanTable, TokenSeq, check_ids, ids_of
from ..errors import CheckpointNotFound, CorruptCheckpoint, InvalidIds, InvalidInput
from .io import SAMPLE_RATE, AudioClip, prepare
from .mel import GriffinLimConfig, MelConfig, log_mel, log_mel_to_wave

KIND = "audio/mel-units"
DEFAULT_CHECKPOINT = "audio/mel-units"
FIT_COMMAND = ("PYTHONPATH=lib python -m tokenworks.audio.mel_units fit "
               "--out data/checkpoints/audio/mel-units --minutes 10")


@dataclass
class MelUnitsConfig:
    units: int = 500  # V: k-means centroids = vocabulary size
    sample_rate: int = 16000  # Hz, the working rate
    n_fft: int = 1024  # FFT size of the log-mel features
    hop_length: int = 320  # samples per frame: 320 at 16 kHz = 50 frames (tokens) per second
    win_length: int = 1024  # Hann window length
    n_mels: int = 80  # M mel bands per frame (the k-means dimension)
    f_max: float = 8000.0  # Hz, top of the mel bands
    mel_scale: str = "slaney"  # "slaney" or "htk"
    seed: int = 0  # k-means++ seeding and frame sampling: the same data and seed give the same units
    kmeans_iters: int = 40  # Lloyd iterations at most (stops early when no frame changes unit)
    max_frames: int = 120_000  # frames used for fitting at most (an even sample of the training frames)
    griffin_lim_iters: int = 48  # fast Griffin-Lim iterations when decoding
    griffin_lim_momentum: float = 0.99  # its momentum (Perraudin et al. 2013)
    render_seconds: float = 0.4  # length of render_token's sound

    def mel(self) -> MelConfig:
        return MelConfig(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
                         win_length=self.win_length, n_mels=self.n_mels, f_max=self.f_max,
                         mel_scale=self.mel_scale).check()

    def griffin_lim(self) -> GriffinLimConfig:
        return GriffinLimConfig(n_iter=self.griffin_lim_iters, momentum=self.griffin_lim_momentum, seed=self.seed)


@dataclass
class KMeansResult:
    centroids: torch.Tensor  # (V, D) float32
    assignments: torch.Tensor  # (N,) int64 unit of each fitted point
    inertia: list[float]  # mean squared distance to the nearest centroid, after seeding and each iteration
    iterations: int  # Lloyd iterations run
    reseeded: int  # empty clusters given a new centroid (the worst-served point) along the way


@dataclass
class FitReport:
    frames: int  # frames the k-means saw
    seconds_of_audio: float  # training audio they came from
    clips: int
    kmeans: KMeansResult
    fit_seconds: float  # wall time of feature extraction + k-means
    data_hash: str | None = None
    notes: list[str] = field(default_factory=list)


# ---- k-means (k-means++ seeding, Lloyd iterations) ------------------------------------------


def _nearest(x: torch.Tensor, c: torch.Tensor, chunk: int = 16384) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D), (V, D) -> index (N,) int64 of the nearest centroid and its squared distance (N,)."""
    c2 = (c * c).sum(1)  # (V,)
    idx, dist = [], []
    for i in range(0, x.shape[0], chunk):
        xb = x[i:i + chunk]  # (n, D)
        d = (xb * xb).sum(1, keepdim=True) - 2 * xb @ c.T + c2  # (n, V) squared distances
        m, j = d.min(1)  # (n,), (n,)
        idx.append(j)
        dist.append(m.clamp_min(0))
    return torch.cat(idx), torch.cat(dist)


def kmeans(x: torch.Tensor, k: int, iters: int = 40, seed: int = 0) -> KMeansResult:
    """k-means++ seeding then Lloyd iterations on x (N, D); deterministic for a seed.

    An empty cluster gets the point farthest from its centroid (the worst served), so all k
    centroids stay in use.
    """
    x = x.float()
    n = x.shape[0]
    if not 1 <= k <= n:
        raise InvalidInput(f"k-means needs 1 <= k <= the number of points; got k={k} with {n} points")
    g = torch.Generator().manual_seed(seed)
    # k-means++: each new centroid is a point drawn with probability proportional to its squared
    # distance to the nearest centroid chosen so far
    first = int(torch.randint(n, (1,), generator=g))
    cent = torch.empty(k, x.shape[1])  # (V, D)
    cent[0] = x[first]
    d2 = ((x - cent[0]) ** 2).sum(1)  # (N,)
    for j in range(1, k):
        total = float(d2.sum())
        if total <= 0:  # fewer distinct points than k: repeat points (they will be reseeded or stay duplicates)
            pick = int(torch.randint(n, (1,), generator=g))
        else:
            pick = int(torch.multinomial(d2 / total, 1, generator=g))
        cent[j] = x[pick]
        d2 = torch.minimum(d2, ((x - cent[j]) ** 2).sum(1))  # (N,)
    assign, dist = _nearest(x, cent)  # (N,), (N,)
    inertia = [float(dist.mean())]
    reseeded, it = 0, 0
    for it in range(1, iters + 1):
        sums = torch.zeros_like(cent).index_add_(0, assign, x)  # (V, D)
        counts = torch.bincount(assign, minlength=k)  # (V,)
        empty = torch.nonzero(counts == 0).flatten()  # (E,)
        cent = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], cent)  # (V, D)
        if len(empty):
            worst = torch.argsort(dist, descending=True, stable=True)[:len(empty)]  # (E,) worst-served points
            cent[empty] = x[worst]
            reseeded += len(empty)
        new_assign, dist = _nearest(x, cent)
        inertia.append(float(dist.mean()))
        changed = int((new_assign != assign).sum())
        assign = new_assign
        if changed == 0 and not len(empty):
            break
    return KMeansResult(cent, assign, inertia, it, reseeded)


# ---- the tokenizer ------------------------------------------------------------------------


class MelUnitsTokenizer:
    """k-means units of standardised log-mel frames: ids (1, T), one unit per frame."""

    modality = "audio"
    kind = KIND

    def __init__(self, config: MelUnitsConfig | None = None, centroids: torch.Tensor | None = None,
                 mean: torch.Tensor | None = None, std: torch.Tensor | None = None, *, name: str | None = None,
                 checkpoint: str | os.PathLike | None = None, data_hash: str | None = None,
                 metrics: dict | None = None) -> None:
        """Give ``config`` with fitted ``centroids`` (V, M), ``mean`` (M,), ``std`` (M,), or a
        ``checkpoint`` name (inside data/checkpoints or the runs folder)."""
        if checkpoint is not None:
            try:
                ckpt = load_checkpoint(checkpoint)
            except CheckpointNotFound as e:
                raise CheckpointNotFound(
                    f"{name or KIND}: its checkpoint {str(checkpoint)!r} has not been fitted yet. Fit it with:\n"
                    f"  {FIT_COMMAND}\n({e})") from None
            other = MelUnitsTokenizer.from_checkpoint(ckpt)
            config, centroids, mean, std = other.config, other.centroids, other.mean, other.std
            data_hash, metrics, name = other.data_hash, other.metrics, name or other.name
        if config is None or centroids is None or mean is None or std is None:
            raise InvalidInput("give a config with fitted centroids, mean and std, or a checkpoint "
                               "(MelUnitsTokenizer.fit builds one from audio)")
        self.config = config
        self.mel_config = config.mel()
        V, M = config.units, config.n_mels
        if tuple(centroids.shape) != (V, M) or tuple(mean.shape) != (M,) or tuple(std.shape) != (M,):
            raise CorruptCheckpoint(f"{KIND}: expected centroids ({V}, {M}), mean ({M},), std ({M},); got "
                                    f"{tuple(centroids.shape)}, {tuple(mean.shape)}, {tuple(std.shape)}")
        self.centroids = centroids.float().contiguous()  # (V, M) standardised log-mel
        self.mean = mean.float().contiguous()  # (M,)
        self.std = std.float().contiguous()  # (M,)
        self.name = name or KIND
        self.data_hash = data_hash
        self.metrics = dict(metrics or {})

    def __repr__(self) -> str:
        return f"MelUnitsTokenizer({self.name!r}, V={self.vocab_size}, {self.frame_rate:g} frames/s)"

    # ---- sizes ----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return int(self.config.units)  # V

    @property
    def frame_rate(self) -> float:
        return self.mel_config.frame_rate  # frames (tokens) per second

    @property
    def bits_per_second(self) -> float:
        return self.frame_rate * math.log2(self.vocab_size)

    # ---- fitting --------------------------------------------------------------------------
    @classmethod
    def fit(cls, waves: Iterable[np.ndarray], config: MelUnitsConfig | None = None, name: str | None = None,
            data_hash: str | None = None) -> tuple["MelUnitsTokenizer", FitReport]:
        """Fit the units on 16 kHz mono waveforms (each (N,) float32): standardise the log-mel
        frames per band, take at most ``max_frames`` of them (evenly spread), run k-means."""
        config = config or MelUnitsConfig()
        cfg = config.mel()
        t0 = time.perf_counter()
        feats, seconds, clips = [], 0.0, 0
        for w in waves:
            w = np.asarray(w, dtype=np.float32)
            if w.ndim != 1 or w.size == 0:
                raise InvalidInput(f"fit takes mono 16 kHz waveforms shaped (N,), got shape {w.shape}")
            feats.append(log_mel(w, cfg).T)  # (T_i, M)
            seconds += w.size / config.sample_rate
            clips += 1
        if not feats:
            raise InvalidInput("fit needs at least one waveform")
        x = torch.cat(feats)  # (T, M)
        if x.shape[0] < config.units:
            raise InvalidInput(f"fit needs at least V={config.units} frames, got {x.shape[0]} "
                               f"({seconds:.1f} s of audio at {cfg.frame_rate:g} frames/s); give more audio or fewer units")
        mean = x.mean(0)  # (M,)
        std = x.std(0).clamp_min(1e-3)  # (M,)
        z = (x - mean) / std  # (T, M)
        notes = []
        if z.shape[0] > config.max_frames:
            keep = torch.linspace(0, z.shape[0] - 1, config.max_frames).round().long()  # (max_frames,)
            notes.append(f"k-means on {config.max_frames} of {z.shape[0]} frames (evenly spaced)")
            z = z[keep]
        km = kmeans(z, config.units, iters=config.kmeans_iters, seed=config.seed)
        tok = cls(config, km.centroids, mean, std, name=name, data_hash=data_hash)
        report = FitReport(frames=int(z.shape[0]), seconds_of_audio=seconds, clips=clips, kmeans=km,
                           fit_seconds=time.perf_counter() - t0, data_hash=data_hash, notes=notes)
        return tok, report

    # ---- input ----------------------------------------------------------------------------
    def _clip(self, x: Any) -> AudioClip:
        if isinstance(x, AudioClip):
            return x
        if isinstance(x, (tuple, list)) and len(x) == 2:
            return prepare(x[0], x[1])
        raise InvalidInput(f"{self.name} encodes audio given as (waveform, sample_rate), "
                           f"e.g. (np.zeros(16000), 16000); got {type(x).__name__}")

    def features(self, wave: np.ndarray) -> torch.Tensor:
        """(N,) 16 kHz -> (T, M) standardised log-mel frames (what the units quantise)."""
        return (log_mel(wave, self.mel_config).T - self.mean) / self.std  # (T, M)

    def spans(self, n_samples: int) -> SpanTable:
        """One sample range per frame, tiling [0, N): frame t is centred on sample t * hop."""
        hop = self.mel_config.hop_length
        T = self.mel_config.num_frames(n_samples)
        starts = np.clip(np.arange(T, dtype=np.int64) * hop - hop // 2, 0, n_samples)  # (T,)
        ends = np.append(starts[1:], n_samples)  # (T,)
        return SpanTable(starts, ends)

    # ---- the contract ---------------------------------------------------------------------
    @torch.inference_mode()
    def encode(self, x: Any) -> TokenSeq:
        clip = self._clip(x)
        ids, _ = _nearest_units(self.features(clip.wave), self.centroids)  # (T,)
        meta = clip.meta()
        meta.update({
            "frame_rate": self.frame_rate,
            "codebooks": 1,
            "units": self.vocab_size,
            "bits_per_second": round(self.bits_per_second, 3),
            "hop_samples": self.mel_config.hop_length,
            "lossless": False,
            "note": (f"k-means units of log-mel frames ({self.config.n_mels} bands, {self.frame_rate:g} frames/s); "
                     f"decode replaces each unit by its centroid log-mel and runs Griffin-Lim "
                     f"({self.config.griffin_lim_iters} iterations): the pitch detail, phase and fine spectrum "
                     f"are lost, so it sounds robotic"),
        })
        return TokenSeq(ids.numpy()[None, :], self.spans(clip.n_samples), "audio", self.name, meta)  # ids (1, T)

    def _ids(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None) -> np.ndarray:
        if keep is not None and (isinstance(keep, bool) or keep != 1):
            raise InvalidIds(f"{self.name} has one codebook (K=1): keep must be 1 or None, got {keep!r}; "
                             f"keep=k drops residual codebooks, which only multi-codebook tokenizers "
                             f"such as audio/rvq-speech16k have")
        ids = ids_of(seq)
        if ids.ndim == 2 and ids.shape[0] == 1:
            ids = ids[0]
        if ids.ndim != 1:
            raise InvalidIds(f"{self.name}: ids must be shaped (1, T) or (T,), got {ids.shape}")
        if ids.size == 0:
            raise InvalidIds(f"{self.name}: there are no ids to decode; give at least one frame")
        check_ids(ids, self.vocab_size, self.name)
        return ids

    def unit_log_mel(self, ids: np.ndarray) -> torch.Tensor:
        """ids (T,) -> (M, T) the centroids' log-mel (standardisation undone)."""
        return (self.centroids[torch.as_tensor(ids)] * self.std + self.mean).T  # (M, T)

    @torch.inference_mode()
    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> tuple[np.ndarray, int]:
        """ids (1, T) or (T,) -> (wave float32 (N,), 16000). N is the encoded input's length when
        ``seq`` is a TokenSeq from ``encode``, else (T - 1) * hop."""
        ids = self._ids(seq, keep)
        n = None
        if isinstance(seq, TokenSeq) and isinstance(seq.meta.get("n_samples"), int):
            n = int(seq.meta["n_samples"])
            if self.mel_config.num_frames(n) != ids.size:
                n = None  # ids edited to another length: fall back to what T frames span
        out = log_mel_to_wave(self.unit_log_mel(ids), self.mel_config, self.config.griffin_lim(), length=n)
        return out.wave, SAMPLE_RATE

    # ---- capabilities ---------------------------------------------------------------------
    def codebook(self) -> np.ndarray:
        """(V, M) each unit's log-mel frame (natural log of mel magnitudes)."""
        return (self.centroids * self.std + self.mean).numpy()

    @torch.inference_mode()
    def render_token(self, i: int) -> tuple[np.ndarray, int]:
        """(wave float32 (N,), 16000): unit ``i`` held for ``render_seconds``, faded in and out."""
        check_ids(np.asarray([i]), self.vocab_size, self.name)
        T = max(2, int(round(self.config.render_seconds * self.frame_rate)))
        wave, sr = self.decode(np.full(T, int(i), dtype=np.int64))  # (N,)
        fade = min(wave.size // 4, int(0.03 * sr))
        if fade > 0:
            ramp = np.sin(np.linspace(0, np.pi / 2, fade, dtype=np.float32)) ** 2  # (fade,)
            wave[:fade] *= ramp
            wave[-fade:] *= ramp[::-1]
        return wave, sr

    # ---- save / load ----------------------------------------------------------------------
    def save(self, folder: str | Path, data_hash: str | None = None, metrics: dict | None = None,
             extra: dict | None = None) -> Path:
        """model.safetensors (centroids, mean, std) + config.json + units.txt (a readable summary)."""
        lines = ["# unit\tloudest mel band\tmean log-mel"]
        cb = self.codebook()  # (V, M)
        for i, row in enumerate(cb):
            lines.append(f"{i}\t{int(row.argmax())}\t{float(row.mean()):.3f}")
        return save_checkpoint(folder, kind=KIND, name=self.name, config=self.config,
                               tensors={"centroids": self.centroids, "mean": self.mean, "std": self.std},
                               sidecars={"units.txt": "\n".join(lines) + "\n"},
                               data_hash=data_hash or self.data_hash,
                               metrics=metrics if metrics is not None else self.metrics, extra=extra)

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "MelUnitsTokenizer":
        if ckpt.kind != KIND:
            raise CorruptCheckpoint(f"{ckpt.folder} holds a {ckpt.kind!r} checkpoint, not {KIND!r}")
        missing = {"centroids", "mean", "std"} - set(ckpt.tensors)
        if missing:
            raise CorruptCheckpoint(f"{ckpt.folder}: model.safetensors lacks {sorted(missing)}")
        config = config_from_dict(MelUnitsConfig, ckpt.config)
        return cls(config, ckpt.tensors["centroids"], ckpt.tensors["mean"], ckpt.tensors["std"],
                   name=str(ckpt.info.get("name") or KIND), data_hash=ckpt.info.get("data_hash"),
                   metrics=ckpt.info.get("metrics") or {})


def _nearest_units(z: torch.Tensor, centroids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, M) standardised frames -> unit ids (T,) int64 and squared distances (T,)."""
    return _nearest(z.float(), centroids)


def load_default(**kwargs: Any) -> MelUnitsTokenizer:
    """The shipped checkpoint (data/checkpoints/audio/mel-units); the registry's constructor."""
    return MelUnitsTokenizer(checkpoint=kwargs.pop("checkpoint", DEFAULT_CHECKPOINT), **kwargs)


# ---- evaluation and the command line ---------------------------------------------------------


def evaluate(tok: MelUnitsTokenizer, waves: Sequence[np.ndarray], limit: int | None = None) -> dict[str, Any]:
    """Mean metrics of decode(encode(x)) over held-out clips (each (N,) at 16 kHz): mel distance,
    SI-SDR, and PESQ-WB / STOI when ``tokenworks.metrics.audio`` has them; unit usage."""
    try:
        from ..metrics import audio as am
    except ImportError:  # metrics/audio.py not there yet: mel distance of our own
        am = None
    waves = list(waves)[:limit] if limit else list(waves)
    scores: dict[str, list[float]] = {}
    all_ids = []
    seconds = codec_seconds = 0.0
    for w in waves:
        t0 = time.perf_counter()
        seq = tok.encode((w, SAMPLE_RATE))
        y, _ = tok.decode(seq)
        codec_seconds += time.perf_counter() - t0
        all_ids.append(seq.ids[0])
        seconds += w.size / SAMPLE_RATE
        if am is not None:
            for key, fn in (("mel_distance", "mel_distance"), ("si_sdr", "si_sdr"), ("pesq", "pesq_wb"), ("stoi", "stoi")):
                if hasattr(am, fn):
                    f = getattr(am, fn)
                    v = f(w, y) if fn == "si_sdr" else f(w, y, SAMPLE_RATE)
                    scores.setdefault(key, []).append(float(v))
        # the tokenizer's own feature distance: log-mel L1 of the reconstruction vs the input
        a, b = log_mel(w, tok.mel_config), log_mel(y, tok.mel_config)
        T = min(a.shape[1], b.shape[1])
        scores.setdefault("log_mel_l1", []).append(float((a[:, :T] - b[:, :T]).abs().mean()))
    ids = np.concatenate(all_ids) if all_ids else np.zeros(0, np.int64)
    counts = np.bincount(ids, minlength=tok.vocab_size)
    p = counts[counts > 0] / max(ids.size, 1)
    out: dict[str, Any] = {"heldout_clips": len(waves), "heldout_seconds": round(seconds, 1),
                           "bits_per_second": round(tok.bits_per_second, 1), "frame_rate": tok.frame_rate}
    out.update({k: round(float(np.nanmean(v)), 4) for k, v in scores.items()})
    out["unit_usage"] = round(float((counts > 0).mean()), 4)
    out["unit_entropy"] = round(float(-(p * np.log(p)).sum() / np.log(tok.vocab_size)), 4)
    out["realtime_factor"] = round(seconds / max(codec_seconds, 1e-9), 2)  # audio seconds per encode+decode second
    return out


CORPUS_MINUTES = 20.0  # the corpus every audio trainer shares (cached); ~11 min of it is training speech


def _speech(split: str, minutes: float | None, seed: int) -> list[Any]:
    """Speech clips of one split of tokenworks.audio.data ("train", "heldout" or "real"), at most
    ``minutes`` of them (None: all)."""
    from . import data

    train_share = 0.8 * 0.7  # speech share of the corpus (no music, no samples) x training share
    need = CORPUS_MINUTES if minutes is None else max(CORPUS_MINUTES, minutes / train_share * 1.05)
    corpus = data.build_corpus(minutes=need, seed=seed, log=lambda m: print(m, flush=True))
    sources = ("arctic", "alsa") if split == "real" else data.SPEECH_SOURCES
    clips, total = [], 0.0
    for source in sources:
        for c in corpus.clips(split=split, source=source):
            clips.append(c)
            total += c.seconds
    clips.sort(key=lambda c: c.name)
    if minutes is not None:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(clips))  # an even mix of engines and languages
        picked, got = [], 0.0
        for i in order:
            if got >= minutes * 60:
                break
            picked.append(clips[i])
            got += clips[i].seconds
        clips = sorted(picked, key=lambda c: c.name)
    return clips


def _train_waves(minutes: float, seed: int) -> tuple[list[np.ndarray], str]:
    """``minutes`` of the TRAIN split's speech, and a hash of the waveforms."""
    import hashlib

    waves = [np.asarray(c.wave, dtype=np.float32) for c in _speech("train", minutes, seed)]
    if not waves:
        raise InvalidInput("tokenworks.audio.data gave no training speech; build it with "
                           "`python -m tokenworks.audio.data --minutes 20` and check that espeak-ng and flite are installed")
    h = hashlib.sha256()
    for w in waves:
        h.update(w.tobytes())
    return waves, h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tokenworks.audio.mel_units",
                                 description="Fit the audio/mel-units tokenizer (k-means on log-mel frames).")
    sub = ap.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit on the TRAIN split of tokenworks.audio.data and save a checkpoint")
    fit.add_argument("--out", required=True, help="checkpoint folder, e.g. data/checkpoints/audio/mel-units")
    fit.add_argument("--minutes", type=float, default=10.0, help="minutes of training speech (default 10)")
    fit.add_argument("--units", type=int, default=MelUnitsConfig.units, help="V, the number of units")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--iters", type=int, default=MelUnitsConfig.kmeans_iters, help="Lloyd iterations at most")
    fit.add_argument("--eval-clips", type=int, default=20, help="held-out clips to measure (0: none)")
    a = ap.parse_args(argv)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    config = MelUnitsConfig(units=a.units, seed=a.seed, kmeans_iters=a.iters)
    waves, data_hash = _train_waves(a.minutes, a.seed)
    print(f"fitting {config.units} units on {len(waves)} training clips "
          f"({sum(w.size for w in waves) / SAMPLE_RATE / 60:.1f} min)", flush=True)
    tok, report = MelUnitsTokenizer.fit(waves, config, data_hash=data_hash)
    km = report.kmeans
    print(f"k-means: {report.frames} frames, {km.iterations} iterations, inertia {km.inertia[0]:.3f} -> "
          f"{km.inertia[-1]:.3f}, {km.reseeded} reseeded, {report.fit_seconds:.1f} s", flush=True)
    metrics: dict[str, Any] = {"fit_frames": report.frames, "fit_minutes": round(report.seconds_of_audio / 60, 2),
                               "fit_clips": report.clips, "kmeans_iterations": km.iterations,
                               "kmeans_inertia": round(km.inertia[-1], 4), "fit_seconds": round(report.fit_seconds, 1)}
    if a.eval_clips:
        for split in ("heldout", "real"):  # held-out synthetic speech; real recordings never trained on
            waves_eval = [np.asarray(c.wave, dtype=np.float32) for c in _speech(split, None, a.seed)]
            if waves_eval:
                metrics[split] = evaluate(tok, waves_eval, limit=a.eval_clips)
                print(f"{split}: {metrics[split]}", flush=True)
    args = sys.argv[1:] if argv is None else argv
    folder = tok.save(a.out, data_hash=data_hash, metrics=metrics,
                      extra={"fit_command": " ".join(["PYTHONPATH=lib python -m tokenworks.audio.mel_units", *args])})
    print(f"saved {folder}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
