"""Regenerate the Audio tab's sample clips (16 kHz mono 16-bit WAV, at most 4 s each).

    PYTHONPATH=lib python3 data/samples/audio/make_samples.py

Needs the Debian packages espeak-ng and flite. Each clip is synthesised to a temporary WAV,
read and resampled to 16 kHz mono with ``tokenworks.audio.io.read_audio``, cut to
``MAX_SECONDS`` with a 20 ms fade-out, peak-normalised to -3 dBFS and written with
``tokenworks.audio.io.write_wav``.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tokenworks.audio.io import SAMPLE_RATE, read_audio, write_wav

HERE = Path(__file__).resolve().parent
MAX_SECONDS = 4.0
PEAK = 10 ** (-3 / 20)  # -3 dBFS
SAMPLES = {  # file -> (command with {out} for the temporary wav, what is said)
    "espeak-en.wav": (["espeak-ng", "-v", "en-us", "-s", "165", "-w", "{out}"],
                      "Tokenizers turn sound into numbers, and back again."),
    "flite-slt.wav": (["flite", "-voice", "slt", "-o", "{out}", "-t"],
                      "The quick brown fox jumps over the lazy dog."),
    "espeak-de-heldout.wav": (["espeak-ng", "-v", "de+m7", "-s", "150", "-w", "{out}"],
                              "Jeder hat das Recht auf Bildung."),
}


def make(name: str, cmd: list[str], text: str, tmp: Path) -> Path:
    out = tmp / name
    subprocess.run([c.replace("{out}", str(out)) for c in cmd] + [text], check=True, capture_output=True)
    wave = read_audio(out).wave[: int(MAX_SECONDS * SAMPLE_RATE)]  # (N,) 16 kHz mono
    fade = int(0.02 * SAMPLE_RATE)
    wave[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    wave = wave * (PEAK / max(float(np.abs(wave).max()), 1e-9))
    return write_wav(HERE / name, wave)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, (cmd, text) in SAMPLES.items():
            path = make(name, cmd, text, Path(tmp))
            clip = read_audio(path)
            print(f"{name}: {clip.duration_s:.2f} s, {path.stat().st_size} bytes: {text}")


if __name__ == "__main__":
    main()
