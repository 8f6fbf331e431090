"""Recorded background sounds for the recording augmentation (``recording_augment.add_noise``).

    bank = background_sounds()              # BackgroundSet: the training fifths of Sonic Pi's ambient sounds
    bank.waves, bank.names, bank.source     # 16 kHz float32 clips; source says where they came from, or why none

The sounds are the recorded ambient, drone, loop, guitar, vinyl-hiss, crow, door and phone samples of
Debian's ``sonic-pi-samples`` (asset ``sonic-pi-samples``, mostly CC0): what plays behind a voice
in a room, a street or a radio studio. Only the samples of the corpus's training split
(``data.sample_split``) are used, so held-out sounds stay unheard. When the asset is not fetched
(and the Debian package not installed) the set is empty and ``source`` says so; the augmentation
then uses coloured noise alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AssetMissing

# Sonic Pi sample names (prefixes) that sound like a background: ambience, drones, music loops,
# guitar, vinyl hiss, a crow, a door, phones. Drum hits, bass drops and effects are left out.
BACKGROUND_PREFIXES = ("ambi_", "loop_", "guit_", "vinyl_hiss", "misc_crow", "perc_door", "perc_till",
                       "mehackit_phone")
MAX_SECONDS = 8.0  # each sample contributes at most this much


@dataclass
class BackgroundSet:
    waves: list[np.ndarray] = field(default_factory=list)  # float32 (N,) clips at 16 kHz
    names: list[str] = field(default_factory=list)
    source: str = ""  # where the clips come from, or why there are none


def background_sounds(folder: str | Path | None = None, split: str = "train",
                      seconds: float = MAX_SECONDS) -> BackgroundSet:
    """The background samples of ``split`` in ``folder`` (default: the ``sonic-pi-samples`` asset,
    else the installed Debian package), 16 kHz mono, each cut to ``seconds``; an empty set whose
    ``source`` says why when there is no such folder."""
    import soundfile as sf

    from .data import _sonic_pi_folder, sample_split
    from .io import prepare

    if folder is None:
        try:
            folder = _sonic_pi_folder()
        except AssetMissing as e:
            return BackgroundSet(source=f"none ({e})")
    folder = Path(folder)
    waves, names = [], []
    for path in sorted(folder.glob("*.flac")):
        if not path.stem.startswith(BACKGROUND_PREFIXES) or sample_split(path.stem) != split:
            continue
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (N, C)
        clip = prepare(data[: int(seconds * sr)], sr, max_seconds=None, layout="NC")
        if not clip.is_silent:
            waves.append(clip.wave)
            names.append(path.stem)
    source = f"{len(waves)} Sonic Pi background samples ({split} split) from {folder}" if waves else \
        f"none (no {split}-split background samples in {folder})"
    return BackgroundSet(waves, names, source)
