"""Real photographs from every photo asset: one source per picture, de-duplicated, split by source.

    from tokenworks.image.photo_sources import real_sources, split_sources
    found = real_sources()              # every photo asset must be fetched (AssetMissing if not)
    found.sources                       # [RealSource]: name "<package>/<picture>", package, licence
    train, test = split_sources(found.sources)

A *source* is one picture: a photograph file, or one frame of a video (``<package>/<video>#<frame
index>``, frames spaced by ``video_frames.spaced_frames``). Only photographs are used: each
package's pictures were looked at one by one and renders, illustrations, logos, drawings,
paintings and synthetic test patterns left out (``PACKAGES`` lists what is kept; the data card,
data/README.md, lists what was left out and why). Never scikit-image or scikit-learn sample
images: their licences are unclear and every benchmark has seen them.

De-duplication (``deduplicate``): exact copies (equal file bytes) and near-duplicates (a 64-bit
DCT hash within ``near_duplicates.NEAR_BITS`` bits: the same picture at another resolution,
recompressed, or a colour variant) are grouped; each group keeps its largest picture (most
pixels; then the first name) and records the others in ``copies``.

Held out for test (``split_sources``): whole packages (``TEST_PACKAGES``), whole videos
(``TEST_VIDEOS``: every frame) and single pictures (``TEST_PICTURES``, which include the photos
of ``_photos.TEST_SOURCES``). A group goes to test when any of its members is held out, so a
near-copy of a test picture never trains.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ._photos import TEST_SOURCES as PHOTO_TEST_SOURCES
from ._photos import PhotoSource, find_sources
from .near_duplicates import NEAR_BITS, group_near_duplicates, perceptual_hash


@dataclass(frozen=True)
class PhotoPackage:
    asset: str  # the asset (tokenworks.assets catalog name) that holds the pictures
    package: str  # the Debian package: the first part of every source name
    version: str  # of the package, for the data card
    folder: str  # where the pictures are inside the asset
    pictures: tuple[str, ...]  # file names (or, for KDE, wallpaper folders) of photographs
    licences: dict[str, str]  # picture -> licence (key "*": every picture)
    videos: tuple[str, ...] = ()  # video files in ``folder`` or below it, relative to it


_LOMIRI_BY = "CC-BY-4.0"
_LOMIRI_BY_SA = "CC-BY-SA-4.0"

PACKAGES: tuple[PhotoPackage, ...] = (
    PhotoPackage(
        "kde-wallpapers", "plasma-workspace-wallpapers", "4:5.27.5-2", "usr/share/wallpapers",
        # the 11 photographs among the 30 KDE wallpapers; the other 19 are renders and
        # illustrations (Altai, Autumn, Canopee, Cascade, Cluster, Elarun, Flow, FlyingKonqui,
        # Honeywave, IceCold, Kay, Kokkini, MilkyWay, Opal, PastelHills, Patak, SafeLanding,
        # Shell, Volna)
        ("BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf",
         "Grey", "Kite", "OneStandsOut", "Path", "summer_1am"),
        {"*": "GPL-2+"},
    ),
    PhotoPackage(
        "mate-backgrounds", "mate-backgrounds", "1.26.0-1", "usr/share/backgrounds/mate/nature",
        ("Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg",
         "GreenMeadow.jpg", "LadyBird.jpg", "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg",
         "Wood.jpg", "YellowFlower.jpg"),
        {"*": "GPL-2+"},
    ),
    PhotoPackage(
        "lomiri-1604-photos", "lomiri-wallpapers-16.04", "20.04.0-2",
        "usr/share/backgrounds",
        ("Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg",
         "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg",
         "aitzgorri_by_Aitzol_Berasategi.jpg", "analogpattern_by_Peter_Nerlich.jpg",
         "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg",
         "greentock_by_Peter_Nerlich.jpg", "life_by_Aitzol_Berasategi.jpg",
         "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
         "sunset_by_Aitzol_Berasategi.jpg"),
        {"Bridge_by_Sander_Klootwijk.jpg": _LOMIRI_BY_SA, "Dragonfly_by_Bolly.jpg": _LOMIRI_BY_SA,
         "Picture_0B_by_freespace.jpg": _LOMIRI_BY, "Picture_1A_by_freespace.jpg": _LOMIRI_BY,
         "Wine_by_Jakkub_Mede.jpg": _LOMIRI_BY, "aitzgorri_by_Aitzol_Berasategi.jpg": _LOMIRI_BY,
         "analogpattern_by_Peter_Nerlich.jpg": _LOMIRI_BY_SA,
         "free_by_Peter_Nerlich.jpg": _LOMIRI_BY_SA,
         "friends_by_Aitzol_Berasategi.jpg": _LOMIRI_BY,
         "greentock_by_Peter_Nerlich.jpg": _LOMIRI_BY_SA,
         "life_by_Aitzol_Berasategi.jpg": _LOMIRI_BY,
         "picosdeeuropa_by_Aitzol_Berasategi.jpg": _LOMIRI_BY,
         "seeding_by_Clements_Engelhardt.jpg": "CC0-1.0",
         "sunset_by_Aitzol_Berasategi.jpg": _LOMIRI_BY},
    ),
    PhotoPackage(
        "lomiri-2004-photos", "lomiri-wallpapers-20.04", "20.04.0-2",
        "usr/share/backgrounds", ("Kleiber_by_Lukas_Baubkus.jpg",), {"*": "CC-BY-SA-3.0"},
    ),
    PhotoPackage(
        "opencv-samples", "opencv-doc", "4.6.0+dfsg-12", "usr/share/doc/opencv-doc",
        tuple("examples/data/" + n for n in (
            "aero1.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "basketball1.png", "board.jpg",
            "box_in_scene.png", "building.jpg", "butterfly.jpg", "chicky_512.png",
            "ela_original.jpg", "fruits.jpg", "graf1.png", "home.jpg", "leuvenA.jpg", "left.jpg",
            "orange.jpg", "pca_test1.jpg", "rubberwhale1.png", "squirrel_cls.jpg", "stuff.jpg",
            "sudoku.png")),
        {"*": "Apache-2.0 AND BSD-3-Clause"},
        videos=("examples/data/vtest.avi", "examples/data/tree.avi", "opencv4/html/box.mp4.gz",
                "opencv4/html/cup.mp4.gz"),
    ),
)

# ---- held out for test -------------------------------------------------------------------------
TEST_PACKAGES = ("lomiri-wallpapers-20.04",)  # whole packages: none of their pictures trains
TEST_VIDEOS = ("opencv-doc/vtest.avi",)  # whole videos: none of their frames trains
_OLD_PREFIX = {"kde": "plasma-workspace-wallpapers", "mate": "mate-backgrounds"}
# single pictures: the photo data sets' held-out pictures (kde/Kokkini and kde/Shell are
# illustrations, not in this set at all) and five more from the new packages
TEST_PICTURES = tuple(
    f"{_OLD_PREFIX[n.split('/')[0]]}/{n.split('/', 1)[1]}" for n in PHOTO_TEST_SOURCES
    if n.split("/", 1)[1] not in ("Kokkini", "Shell")
) + ("lomiri-wallpapers-16.04/life_by_Aitzol_Berasategi",
     "lomiri-wallpapers-16.04/Picture_1A_by_freespace",
     "opencv-doc/building", "opencv-doc/fruits", "opencv-doc/squirrel_cls")


@dataclass
class RealSource(PhotoSource):
    package: str = ""  # the Debian package, e.g. "opencv-doc"
    asset: str = ""  # the asset it was fetched as, e.g. "opencv-samples"
    licence: str = ""  # SPDX-style, from the package's copyright file
    group: str = ""  # the video a frame comes from ("<package>/<video>"); else the name
    size: tuple[int, int] = (0, 0)  # (width, height) in pixels
    phash: int = 0  # 64-bit perceptual hash (near_duplicates.perceptual_hash)
    digest: str = ""  # sha256 of the file's bytes (of the pixels, for a video frame)
    frames_examined: int = 0  # for a video frame: candidate frames of its video looked at
    copies: list[RealSource] = field(default_factory=list, repr=False)  # merged duplicates

    @property
    def members(self) -> list[RealSource]:
        """This source and the duplicates merged into it."""
        return [self, *self.copies]


@dataclass
class FoundSources:
    sources: list[RealSource]  # after de-duplication, sorted by name
    candidates: list[RealSource]  # every picture and spaced frame before it
    roots: dict[str, Path]  # asset -> its folder in the cache

    def counts(self) -> dict[str, tuple[int, int]]:
        """package or video -> (pictures or candidate frames before de-duplication, after).

        A video's frames are counted under "<package>/<video>", not under its package."""
        out = {}
        for p in PACKAGES:
            out[p.package] = (sum(s.package == p.package and s.group == s.name
                                  for s in self.candidates),
                              sum(s.package == p.package and s.group == s.name
                                  for s in self.sources))
        for video in sorted({s.group for s in self.candidates if s.group != s.name}):
            frames = [s for s in self.candidates if s.group == video]
            out[video] = (frames[0].frames_examined,
                          sum(s.group == video for s in self.sources))
        return out


def asset_roots() -> dict[str, Path]:
    """Each photo asset's folder; raises AssetMissing naming the fetch command."""
    from ..assets import asset_path

    return {p.asset: asset_path(p.asset) for p in PACKAGES}


def real_sources(roots: dict[str, Path] | None = None, near_bits: int = NEAR_BITS
                 ) -> FoundSources:
    """Every photograph and spaced video frame of the photo assets, de-duplicated."""
    roots = asset_roots() if roots is None else roots
    cands = list_candidates(roots)
    return FoundSources(deduplicate(cands, near_bits), cands, roots)


def list_candidates(roots: dict[str, Path]) -> list[RealSource]:
    """Every listed photograph and spaced video frame, before de-duplication, sorted by name."""
    out: list[RealSource] = []
    for pkg in PACKAGES:
        root = roots[pkg.asset] / pkg.folder
        if pkg.asset == "kde-wallpapers":  # the largest landscape file of each wallpaper
            files = {s.name.split("/", 1)[1]: s.path
                     for s in find_sources(roots[pkg.asset], None)}
            pairs = [(w, files[w]) for w in pkg.pictures]
        else:
            pairs = [(Path(p).stem, root / p) for p in pkg.pictures]
        for stem, path in pairs:
            licence = pkg.licences.get(Path(path).name, pkg.licences.get("*", ""))
            out.append(_picture(f"{pkg.package}/{stem}", path, pkg, licence))
        for v in pkg.videos:
            out += _frames(root / v, pkg)
    return sorted(out, key=lambda s: s.name)


def _picture(name: str, path: Path, pkg: PhotoPackage, licence: str) -> RealSource:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with Image.open(path) as im:
        size = im.size
        im.draft("RGB", (512, 512))  # JPEG: decode at 1/2..1/8 scale; the hash needs 32x32
        h = perceptual_hash(im.convert("RGB"))
    return RealSource(name, path, package=pkg.package, asset=pkg.asset, licence=licence,
                      group=name, size=size, phash=h, digest=digest)


def _frames(path: Path, pkg: PhotoPackage) -> list[RealSource]:
    from .video_frames import spaced_frames

    video = path.name.removesuffix(".gz")  # box.mp4.gz -> box.mp4
    group = f"{pkg.package}/{video}"
    out = []
    spaced = spaced_frames(path)
    for index, rgb in spaced.frames:
        out.append(RealSource(
            f"{group}#{index:05d}", path, image=rgb, package=pkg.package, asset=pkg.asset,
            licence=pkg.licences.get(video, pkg.licences.get("*", "")), group=group,
            size=(rgb.shape[1], rgb.shape[0]), phash=perceptual_hash(rgb),
            digest=hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest(),
            frames_examined=spaced.examined))
    return out


def deduplicate(sources: list[RealSource], near_bits: int = NEAR_BITS) -> list[RealSource]:
    """One source per group of exact or near-duplicates: the largest (then first by name); the
    others go into its ``copies``. Returns the kept sources sorted by name."""
    sources = sorted(sources, key=lambda s: s.name)
    # exact copies (equal bytes) get equal hashes, so they always group: distance 0
    hashes = [s.phash for s in sources]
    by_digest: dict[str, int] = {}
    for i, s in enumerate(sources):
        hashes[i] = hashes[by_digest.setdefault(s.digest, i)]
    kept = []
    for group in group_near_duplicates(hashes, near_bits):
        members = sorted((sources[i] for i in group),
                         key=lambda s: (-s.size[0] * s.size[1], s.name))
        best = members[0]
        best.copies = [c for m in members for c in m.members if c is not best]  # flat
        kept.append(best)
    return sorted(kept, key=lambda s: s.name)


def is_held_out(source: RealSource) -> bool:
    """Whether a source (or any duplicate merged into it) is held out for test."""
    return any(m.package in TEST_PACKAGES or m.group in TEST_VIDEOS or m.name in TEST_PICTURES
               for m in source.members)


def split_sources(sources: list[RealSource]) -> tuple[list[RealSource], list[RealSource]]:
    """(train, test): whole sources, whole videos and whole packages held out."""
    test = [s for s in sources if is_held_out(s)]
    train = [s for s in sources if not is_held_out(s)]
    return train, test
